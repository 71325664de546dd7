// The failing tests of a node --test TAP report, with each one's error text: a runner prints them again at its
// very end, where a CI log cut to its last lines still shows why (a drill's own report is far above).
// TODO tests and suites that only say "subtests failed" are left out.

/** "name: error text" blocks, at most `maxLines` lines in all. */
export function tapFailures(tap: string, maxLines = 40): string[] {
  const lines = tap.split('\n');
  const out: string[] = [];
  for (let i = 0; i < lines.length; i += 1) {
    const head = /^(\s*)not ok \d+ - (.*)$/.exec(lines[i] ?? '');
    if (!head || / # TODO( |$)/.test(head[2] ?? '')) continue;
    const indent = `${head[1] ?? ''}  `;
    const block: string[] = [];
    let suiteOnly = false;
    for (let j = i + 1; j < lines.length && lines[j] !== `${indent}...`; j += 1) {
      const line = lines[j] ?? '';
      if (line.startsWith(`${indent}failureType: 'subtestsFailed'`)) suiteOnly = true;
      const single = line.startsWith(`${indent}error: `) && !line.endsWith('|-');
      if (single) block.push(line.slice(`${indent}error: `.length));
      if (line === `${indent}error: |-`) {
        for (let k = j + 1; k < lines.length && (lines[k] ?? '').startsWith(`${indent}  `); k += 1) {
          const text = (lines[k] ?? '').slice(indent.length + 2);
          if (text.startsWith('+ actual - expected')) break;
          block.push(text);
        }
      }
    }
    if (suiteOnly) continue;
    out.push(`${head[2]}:`, ...block.filter((l) => l.trim() !== '').map((l) => `  ${l}`));
  }
  return out.length > maxLines ? [...out.slice(0, maxLines), `… (${out.length - maxLines} more lines)`] : out;
}

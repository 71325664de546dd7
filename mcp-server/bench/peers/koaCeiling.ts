// Peer (1), the ceiling: plain Koa on the same Node, answering POST /mcp with a fixed JSON-RPC tools/call
// result of the same shape as ours — no authentication, no MCP SDK, no store, no logging. It reads and
// parses the body (any JSON-RPC server must) and echoes the id; everything else is what the HTTP layer alone
// costs. Not a server anyone should run.
import { servePeer } from '../report.ts';

let count = 0;
servePeer(() => ({ subject: 'bench-user', count: ++count }));

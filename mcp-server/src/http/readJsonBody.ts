// Reads and parses a JSON request body with a size limit. Client mistakes become RequestBodyError (4xx),
// never an exception that would surface as a 5xx.
import type { IncomingMessage } from 'node:http';

export class RequestBodyError extends Error {
  readonly status: 400 | 413 | 415;
  constructor(status: 400 | 413 | 415, message: string) {
    super(message);
    this.name = 'RequestBodyError';
    this.status = status;
  }
}

/** `application/json`, with or without parameters such as charset; compared as a media type, not a substring. */
export function isJsonContentType(header: string | undefined): boolean {
  return (header ?? '').split(';')[0]?.trim().toLowerCase() === 'application/json';
}

export async function readJsonBody(req: IncomingMessage, limitBytes: number): Promise<unknown> {
  if (!isJsonContentType(req.headers['content-type'])) {
    throw new RequestBodyError(415, 'Unsupported Media Type: Content-Type must be application/json');
  }
  const tooLarge = () => new RequestBodyError(413, `Request body larger than ${limitBytes} bytes`);
  if (Number(req.headers['content-length'] ?? 0) > limitBytes) throw tooLarge();

  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    // Stop buffering at the limit; a lying or absent Content-Length must not let a client fill memory.
    if (size > limitBytes) throw tooLarge();
    chunks.push(chunk);
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown;
  } catch {
    throw new RequestBodyError(400, 'Parse error: Invalid JSON');
  }
}

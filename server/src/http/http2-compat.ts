// HTTP/2 requests in the shape the chain reads: Node's compatibility API
// gives an HTTP/2 stream most of node:http's request and response, and this
// fills in the rest, so that every step after the listener handles both
// protocols alike.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Http2ServerRequest, Http2ServerResponse } from 'node:http2';

/**
 * Each header's values as sent, one per field line, without HTTP/2's
 * pseudo-headers. Node joins repeated fields of `headers` with ", ", which
 * would turn two X-Remote-Group lines into one group; node:http keeps them
 * apart in `headersDistinct`, and so does this.
 */
export function distinctHeaders(rawHeaders: readonly string[]): Record<string, string[]> {
  const out: Record<string, string[]> = Object.create(null) as Record<string, string[]>;
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    const name = rawHeaders[i]!.toLowerCase();
    if (name.startsWith(':')) continue;
    (out[name] ??= []).push(rawHeaders[i + 1]!);
  }
  return out;
}

/** The request and response of an HTTP/2 stream as node:http's. */
export function asHttp1(req: Http2ServerRequest, res: Http2ServerResponse): [IncomingMessage, ServerResponse] {
  Object.defineProperty(req, 'headersDistinct', { value: distinctHeaders(req.rawHeaders), writable: true, configurable: true });
  // node:http's response has these; the compatibility API keeps them on the stream.
  Object.defineProperty(res, 'closed', { get: () => res.stream.closed, configurable: true });
  Object.defineProperty(res, 'destroyed', { get: () => res.stream.destroyed, configurable: true });
  return [req as unknown as IncomingMessage, res as unknown as ServerResponse];
}

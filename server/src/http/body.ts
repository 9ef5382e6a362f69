// Request bodies: JSON only, at most 3 MiB, as kube-apiserver limits JSON
// request bodies.
import type { IncomingMessage } from 'node:http';
import { newBadRequest, newRequestEntityTooLarge, newUnsupportedMediaType } from '../status/status-error.ts';

export const MAX_BODY_BYTES = 3 * 1024 * 1024;

export async function readJsonBody(req: IncomingMessage, limit = MAX_BODY_BYTES): Promise<unknown> {
  // No Content-Type (kubectl create --raw -f sends none): the first supported
  // media type, as kube-apiserver's NegotiateInputSerializer takes it.
  const type = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase() || 'application/json';
  if (type !== 'application/json') {
    throw newUnsupportedMediaType(['application/json']);
  }
  const declared = Number(req.headers['content-length'] ?? NaN);
  if (declared > limit) throw tooLarge(limit);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of req as AsyncIterable<Buffer>) {
    size += c.length;
    if (size > limit) throw tooLarge(limit);
    chunks.push(c);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  if (!text.trim()) throw newBadRequest('the request body is empty; send a JSON object');
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw newBadRequest(`the request body is not valid JSON: ${(err as Error).message}`);
  }
}

const tooLarge = newRequestEntityTooLarge;

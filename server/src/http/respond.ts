// Writing API objects in the negotiated representation.
import type { ServerResponse } from 'node:http';
import { stringify } from 'yaml';
import type { Target } from './negotiate.ts';

export function writeJson(res: ServerResponse, code: number, obj: unknown, contentType = 'application/json', extra: Record<string, string> = {}): void {
  const body = JSON.stringify(obj);
  res.writeHead(code, { 'Content-Type': contentType, 'Content-Length': String(Buffer.byteLength(body)), 'Cache-Control': 'no-cache, private', ...extra });
  res.end(body);
}

export function writeObject(res: ServerResponse, code: number, obj: unknown, target: Target): void {
  if (target.kind === 'yaml') {
    const body = stringify(obj);
    res.writeHead(code, { 'Content-Type': 'application/yaml', 'Content-Length': String(Buffer.byteLength(body)), 'Cache-Control': 'no-cache, private' });
    res.end(body);
    return;
  }
  writeJson(res, code, obj);
}

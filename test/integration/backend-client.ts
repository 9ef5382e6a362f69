// Talking to the backend directly (not through kube-apiserver), as the front
// proxy or as anyone else, to test what it trusts.
import { readFileSync } from 'node:fs';
import { request } from 'node:https';
import { inject } from 'vitest';
import { utf8HeaderValue } from '../../client/src/rest-client.ts';
import type { BackendInfo } from '../../cluster/backend.ts';

export function backend(): BackendInfo {
  return inject('backend');
}

export interface DirectRequest {
  method?: string;
  path: string;
  headers?: Record<string, string | string[]>;
  body?: string | Buffer;
  /** Client certificate and key (PEM contents); none when omitted. */
  cert?: { cert: string; key: string };
  /** Stream: resolve on headers and hand back the response for reading. */
  timeoutMs?: number;
}

export interface DirectResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
  json<T = Record<string, unknown>>(): T;
}

export function direct(req: DirectRequest, port = backend().port, caFile = backend().caFile): Promise<DirectResponse> {
  return new Promise((resolve, reject) => {
    const r = request(
      {
        host: '127.0.0.1',
        port,
        method: req.method ?? 'GET',
        path: req.path,
        ca: readFileSync(caFile),
        servername: 'localhost',
        headers: req.headers ?? {},
        ...(req.cert ? { cert: req.cert.cert, key: req.cert.key } : {}),
        timeout: req.timeoutMs ?? 10_000,
      },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (body += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body, json: <T>() => JSON.parse(body) as T }));
      },
    );
    r.on('timeout', () => r.destroy(new Error('timeout')));
    r.on('error', reject);
    r.end(req.body);
  });
}

/** The front proxy's real client certificate, as kube-apiserver presents it. */
export function frontProxyCert(): { cert: string; key: string } {
  const c = inject('cluster');
  return { cert: readFileSync(c.frontProxyClient.cert, 'utf8'), key: readFileSync(c.frontProxyClient.key, 'utf8') };
}

/** Headers kube-apiserver sends for a user: values as their UTF-8 bytes, as Go writes them (Node would write Latin-1). */
export function asUser(user: string, groups: string[] = [], extra: Record<string, string[]> = {}): Record<string, string | string[]> {
  const h: Record<string, string | string[]> = { 'X-Remote-User': utf8HeaderValue(user) };
  if (groups.length) h['X-Remote-Group'] = groups.map(utf8HeaderValue);
  for (const [k, v] of Object.entries(extra)) h[`X-Remote-Extra-${encodeURIComponent(k)}`] = v.map(utf8HeaderValue);
  return h;
}

/** A request as kube-apiserver would proxy it for `user`. */
export function proxied(req: Omit<DirectRequest, 'cert'> & { user: string; groups?: string[] }): Promise<DirectResponse> {
  return direct({ ...req, cert: frontProxyCert(), headers: { ...asUser(req.user, req.groups), ...(req.headers ?? {}) } });
}

// /healthz, /livez and /readyz as k8s.io/apiserver serves them: "ok", or
// with ?verbose (and always on failure) one line per check. Reasons are
// withheld: the probes are served without authentication.
import type { ServerResponse } from 'node:http';

export const HEALTH_PATHS: ReadonlySet<string> = new Set(['/healthz', '/livez', '/readyz']);

export interface HealthCheck {
  name: string;
  ok(): boolean;
}

export function serveHealth(res: ServerResponse, path: string, url: URL, readiness: readonly HealthCheck[]): void {
  const checks = (path === '/readyz' ? readiness : []).map((c) => ({ name: c.name, ok: c.ok() }));
  checks.unshift({ name: 'ping', ok: true });
  const ok = checks.every((c) => c.ok);
  const probe = path.slice(1);
  const body = url.searchParams.has('verbose') || !ok
    ? checks.map((c) => (c.ok ? `[+]${c.name} ok` : `[-]${c.name} failed: reason withheld`)).join('\n') + `\n${probe} check ${ok ? 'passed' : 'failed'}\n`
    : 'ok';
  res.writeHead(ok ? 200 : 500, { 'Content-Type': 'text/plain; charset=utf-8', 'X-Content-Type-Options': 'nosniff', 'Cache-Control': 'no-cache, private' });
  res.end(body);
}

// Keep-alive HTTPS clients for benchmarks, the same code for both sides of
// each comparison so that only the server differs: one to kube-apiserver as a
// user, one straight to the backend as kube-apiserver's front proxy connects.
import { readFileSync } from 'node:fs';
import { Agent, request } from 'node:https';
import { lineSplitter } from '../client/src/watch-stream.ts';
import type { ClusterInfo } from '../cluster/control-plane.ts';
import type { Stack } from '../cluster/stack.ts';

export interface BenchClient {
  call(method: string, path: string, body?: unknown, contentType?: string): Promise<{ status: number; text: string }>;
  /** A GET answered as text (metrics). */
  text(path: string): Promise<string>;
  /**
   * Opens a watch and calls `onLine` per event line with the time its chunk
   * arrived (performance.now()); resolves with a close function once the
   * headers arrive, rejects on any status but 200.
   */
  watch(path: string, onLine: (line: string, receivedAt: number) => void): Promise<() => void>;
  close(): void;
}

interface Endpoint {
  server: string;
  ca: Buffer;
  cert: Buffer;
  key: Buffer;
  servername?: string;
  headers?: Record<string, string>;
}

function clientFor(e: Endpoint, maxSockets: number): BenchClient {
  const tls = { ca: e.ca, cert: e.cert, key: e.key, ...(e.servername ? { servername: e.servername } : {}) };
  const agent = new Agent({ keepAlive: true, maxSockets, ...tls });
  const watchAgent = new Agent({ keepAlive: false, maxSockets: 2000, ...tls });
  const send = (method: string, path: string, headers: Record<string, string>, payload?: string) =>
    new Promise<{ status: number; text: string }>((resolve, reject) => {
      const req = request(new URL(path, e.server), { method, agent, headers: { ...e.headers, ...headers } }, (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (text += d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
      });
      req.on('error', reject);
      req.end(payload);
    });
  return {
    call(method, path, body, contentType = 'application/json') {
      const payload = body === undefined ? undefined : JSON.stringify(body);
      return send(method, path, { Accept: 'application/json', ...(payload ? { 'Content-Type': contentType } : {}) }, payload);
    },
    async text(path) {
      const r = await send('GET', path, { Accept: 'text/plain' });
      if (r.status !== 200) throw new Error(`GET ${path}: HTTP ${r.status} ${r.text.slice(0, 200)}`);
      return r.text;
    },
    watch(path, onLine) {
      return new Promise((resolve, reject) => {
        const req = request(new URL(path, e.server), { agent: watchAgent, headers: { ...e.headers, Accept: 'application/json' } }, (res) => {
          if (res.statusCode !== 200) {
            res.resume();
            return reject(new Error(`watch ${path}: HTTP ${res.statusCode}`));
          }
          const lines = lineSplitter();
          res.setEncoding('utf8');
          res.on('data', (d: string) => {
            const at = performance.now();
            for (const line of lines(d)) onLine(line, at);
          });
          res.on('error', () => {});
          resolve(() => req.destroy());
        });
        req.on('error', reject);
        req.end();
      });
    },
    close() {
      agent.destroy();
      watchAgent.destroy();
    },
  };
}

/** A user of the cluster, through kube-apiserver. */
export function benchClient(c: ClusterInfo, user: 'admin' | 'alice' | 'bob' = 'admin', maxSockets = 64): BenchClient {
  return clientFor({ server: c.server, ca: readFileSync(c.caFile), cert: readFileSync(c.users[user].cert), key: readFileSync(c.users[user].key) }, maxSockets);
}

/** The backend on its own port, asked as kube-apiserver's front proxy asks it for a cluster admin (no proxy hop). */
export function backendClient(stack: Stack, maxSockets = 64): BenchClient {
  return clientFor({
    server: `https://127.0.0.1:${stack.backend.port}`,
    ca: readFileSync(stack.backend.caFile),
    cert: readFileSync(stack.cluster.frontProxyClient.cert),
    key: readFileSync(stack.cluster.frontProxyClient.key),
    servername: 'localhost',
    headers: { 'X-Remote-User': 'bench', 'X-Remote-Group': 'system:masters' },
  }, maxSockets);
}

/** Runs `tasks` with at most `concurrency` in flight. */
export async function pool<T>(concurrency: number, tasks: (() => Promise<T>)[]): Promise<T[]> {
  const out: T[] = new Array(tasks.length);
  let next = 0;
  await Promise.all(Array.from({ length: Math.min(concurrency, tasks.length) }, async () => {
    while (next < tasks.length) {
      const i = next++;
      out[i] = await tasks[i]!();
    }
  }));
  return out;
}

// A keep-alive HTTPS client for benchmarks, used for both sides of each
// comparison so that only the server differs.
import { readFileSync } from 'node:fs';
import { Agent, request } from 'node:https';
import { lineSplitter } from '../client/src/watch-stream.ts';
import type { ClusterInfo } from '../cluster/control-plane.ts';

export interface BenchClient {
  call(method: string, path: string, body?: unknown, contentType?: string): Promise<{ status: number; text: string }>;
  /** Opens a watch and calls `onLine` per event line; resolves with a close function once headers arrive. */
  watch(path: string, onLine: (line: string) => void): Promise<() => void>;
  close(): void;
}

export function benchClient(c: ClusterInfo, user: 'admin' | 'alice' | 'bob' = 'admin', maxSockets = 64): BenchClient {
  const agent = new Agent({ keepAlive: true, maxSockets, ca: readFileSync(c.caFile), cert: readFileSync(c.users[user].cert), key: readFileSync(c.users[user].key) });
  const watchAgent = new Agent({ keepAlive: false, maxSockets: 1000, ca: readFileSync(c.caFile), cert: readFileSync(c.users[user].cert), key: readFileSync(c.users[user].key) });
  return {
    call(method, path, body, contentType = 'application/json') {
      const payload = body === undefined ? undefined : JSON.stringify(body);
      return new Promise((resolve, reject) => {
        const req = request(new URL(path, c.server), { method, agent, headers: { Accept: 'application/json', ...(payload ? { 'Content-Type': contentType } : {}) } }, (res) => {
          let text = '';
          res.setEncoding('utf8');
          res.on('data', (d: string) => (text += d));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
        });
        req.on('error', reject);
        req.end(payload);
      });
    },
    watch(path, onLine) {
      return new Promise((resolve, reject) => {
        const req = request(new URL(path, c.server), { agent: watchAgent, headers: { Accept: 'application/json' } }, (res) => {
          if (res.statusCode !== 200) return reject(new Error(`watch ${path}: HTTP ${res.statusCode}`));
          const lines = lineSplitter();
          res.setEncoding('utf8');
          res.on('data', (d: string) => {
            for (const line of lines(d)) onLine(line);
          });
          res.on('error', () => {});
          resolve(() => req.destroy());
        });
        req.on('error', () => {});
        req.end();
      });
    },
    close() {
      agent.destroy();
      watchAgent.destroy();
    },
  };
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

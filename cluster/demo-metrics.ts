// What the demo's chapter on checks asks: a Prometheus on loopback scraping
// a metrics file (cluster/metrics-file.ts, a process of its own, so that it
// answers while the demo's story runs synchronously) whose error ratios the
// demo sets. Used by `npm run demo` (detached: they live until
// cluster:down) and by the demo's test.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort, startProcess, stopProcess } from './processes.ts';
import { startPrometheus } from './prometheus.ts';

const METRICS_FILE_SERVER = fileURLToPath(new URL('./metrics-file.ts', import.meta.url));

export interface DemoMetrics {
  /** The Prometheus the checks ask (http://127.0.0.1:PORT). */
  prometheus: string;
  /** Sets shop_error_ratio{app=APP}: Prometheus sees it at its next scrape (every second). */
  setErrorRatio(app: string, ratio: number): void;
  /** Prometheus's and the metrics file server's. */
  pids: number[];
  stop(): Promise<void>;
}

export async function startDemoMetrics(dir: string, opts: { detached?: boolean; log?: (line: string) => void } = {}): Promise<DemoMetrics> {
  mkdirSync(dir, { recursive: true });
  const file = join(dir, 'shop.prom');
  writeFileSync(file, '');
  const port = await freePort();
  const server = startProcess({ name: 'metrics-file', command: process.execPath, args: [METRICS_FILE_SERVER, file, String(port)], logFile: join(dir, 'metrics-file.log'), ...(opts.detached ? { detached: true } : {}) });
  const prometheus = await startPrometheus(dir, [`127.0.0.1:${port}`], { ...(opts.detached ? { detached: true } : {}), ...(opts.log ? { log: opts.log } : {}) });
  const ratios = new Map<string, number>();
  return {
    prometheus: prometheus.url,
    setErrorRatio(app, ratio) {
      ratios.set(app, ratio);
      writeFileSync(file, `# TYPE shop_error_ratio gauge\n${[...ratios].map(([a, r]) => `shop_error_ratio{app="${a}"} ${r}`).join('\n')}\n`);
    },
    pids: [prometheus.process.pid, server.pid],
    async stop() {
      await prometheus.stop();
      await stopProcess(server.pid);
    },
  };
}

// Debian's Prometheus, started with a config of its own on loopback, scraping
// the given targets every second: what verification checks ask in the demo
// and in the tests (issue 21). Installed with apt-get when missing.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ensureDebianPackages } from './debian-packages.ts';
import { freePort, startProcess, stopProcess, waitFor, type Started } from './processes.ts';

export const PROMETHEUS = '/usr/bin/prometheus';

export interface RunningPrometheus {
  /** http://127.0.0.1:PORT */
  url: string;
  process: Started;
  stop(): Promise<void>;
}

/** Starts Prometheus in `dir` (its config, data and log), scraping `targets` (host:port) every second; resolves once it answers ready. */
export async function startPrometheus(dir: string, targets: string[], opts: { detached?: boolean; log?: (line: string) => void } = {}): Promise<RunningPrometheus> {
  await ensureDebianPackages(['prometheus'], [PROMETHEUS], 'Prometheus', opts.log);
  mkdirSync(dir, { recursive: true });
  const port = await freePort();
  const config = join(dir, 'prometheus.yml');
  writeFileSync(config, `global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\nscrape_configs:\n  - job_name: targets\n    static_configs:\n      - targets: [${targets.map((t) => `'${t}'`).join(', ')}]\n`);
  const proc = startProcess({
    name: 'prometheus',
    command: PROMETHEUS,
    args: [`--config.file=${config}`, `--storage.tsdb.path=${join(dir, 'data')}`, `--web.listen-address=127.0.0.1:${port}`, '--log.level=warn'],
    logFile: join(dir, 'prometheus.log'),
    ...(opts.detached ? { detached: true } : {}),
  });
  const url = `http://127.0.0.1:${port}`;
  await waitFor('Prometheus to be ready', proc, async () => (await fetch(`${url}/-/ready`)).ok, 60_000);
  return { url, process: proc, stop: () => stopProcess(proc.pid) };
}

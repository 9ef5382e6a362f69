// One real control plane (etcd + kube-apiserver) per test run, shared by all
// integration files. Children run under PR_SET_PDEATHSIG, so even a killed
// vitest leaves no process behind; the temporary folder of a run that died is
// removed by the next one.
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import type { BackendInfo } from '../../cluster/backend.ts';
import type { ClusterInfo } from '../../cluster/control-plane.ts';
import { isAlive } from '../../cluster/processes.ts';
import { startStack } from '../../cluster/stack.ts';
import { buildExecutable, upToDate } from '../../scripts/build-plugin.ts';
import { ensureChromium } from './chromium.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    cluster: ClusterInfo;
    backend: BackendInfo;
    /** The browser the dashboard's tests drive, or why there is none (a test that needs it fails with that line). */
    chromium: { path: string } | { error: string };
  }
}

const PREFIX = 'kubectl-custom-test-';

function removeStaleRunDirs(): void {
  for (const name of readdirSync(tmpdir())) {
    if (!name.startsWith(PREFIX)) continue;
    const dir = join(tmpdir(), name);
    const pidFile = join(dir, 'owner.pid');
    const owner = existsSync(pidFile) ? Number(readFileSync(pidFile, 'utf8')) : NaN;
    if (!Number.isInteger(owner) || !isAlive(owner)) rmSync(dir, { recursive: true, force: true });
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  removeStaleRunDirs();
  const dir = mkdtempSync(join(tmpdir(), PREFIX));
  writeFileSync(join(dir, 'owner.pid'), String(process.pid));
  const started = Date.now();
  // The plugin's end-to-end tests run the built executable through kubectl.
  if (!upToDate()) await buildExecutable({ log: (l) => process.stderr.write(`[build] ${l}\n`) });
  // Installed (once per machine) while the control plane starts; only the
  // dashboard's tests need it, so its absence fails them and no others.
  const chromium = ensureChromium((l) => process.stderr.write(`[chromium] ${l}\n`)).then(
    (path) => ({ path }),
    (err: unknown) => ({ error: err instanceof Error ? err.message : String(err) }),
  );
  const stack = await startStack({
    dir,
    // Bookmarks every second so watch tests need not wait a minute for one;
    // debug logs so tests can check request lines.
    backendArgs: ['--watch-bookmark-interval=1', '--policy-check-interval=1', '--v=debug'],
    log: (l) => process.stderr.write(`[cluster] ${l}\n`),
  });
  process.stderr.write(`[cluster] control plane and backend ready in ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
  project.provide('cluster', stack.cluster);
  project.provide('backend', stack.backend);
  project.provide('chromium', await chromium);
  return async () => {
    await stack.stop();
    if (process.env['KEEP_CLUSTER_DIR']) process.stderr.write(`[cluster] kept ${dir}\n`);
    else rmSync(dir, { recursive: true, force: true });
  };
}

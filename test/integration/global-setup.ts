// One real control plane (etcd + kube-apiserver) per test run, shared by all
// integration files. Children run under PR_SET_PDEATHSIG, so even a killed
// vitest leaves no process behind; the temporary folder of a run that died is
// removed by the next one.
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { installBase, startBackend, type BackendInfo } from '../cluster/backend.ts';
import { ensureBinaries } from '../cluster/binaries.ts';
import { startCluster, stopCluster, type ClusterInfo } from '../cluster/control-plane.ts';
import { isAlive, stopProcess } from '../cluster/processes.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    cluster: ClusterInfo;
    backend: BackendInfo;
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
  const binaries = await ensureBinaries();
  const dir = mkdtempSync(join(tmpdir(), PREFIX));
  writeFileSync(join(dir, 'owner.pid'), String(process.pid));
  const started = Date.now();
  const cluster = await startCluster({ dir, binaries, log: (l) => process.stderr.write(`[cluster] ${l}\n`) });
  process.stderr.write(`[cluster] ready in ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
  let backendPid: number | undefined;
  try {
    // manifests/base: the CRD, and the backend's ServiceAccount with its RBAC.
    installBase(cluster);
    // Bookmarks every second so watch tests need not wait a minute for one.
    const backend = await startBackend({ cluster, dir: join(dir, 'backend'), extraArgs: ['--watch-bookmark-interval=1', '--v=debug'] });
    backendPid = backend.pid;
    const { proc: _proc, ...info } = backend;
    process.stderr.write(`[cluster] backend ready on port ${backend.port} in ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
    project.provide('backend', info);
  } catch (err) {
    await stopCluster(cluster);
    throw err;
  }
  project.provide('cluster', cluster);
  return async () => {
    if (backendPid) await stopProcess(backendPid);
    await stopCluster(cluster);
    if (process.env['KEEP_CLUSTER_DIR']) process.stderr.write(`[cluster] kept ${dir}\n`);
    else rmSync(dir, { recursive: true, force: true });
  };
}

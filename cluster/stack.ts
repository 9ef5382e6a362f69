// The whole local stack: control plane, manifests/base, and the backend
// behind its APIService. Used by the test run's global setup, by tests that
// need a stack of their own to break, and by the demo.
import { join } from 'node:path';
import { installBase, startBackend, type BackendInfo } from './backend.ts';
import { ensureBinaries } from './binaries.ts';
import { startCluster, stopCluster, type ClusterInfo } from './control-plane.ts';
import { stopProcess } from './processes.ts';

export interface Stack {
  cluster: ClusterInfo;
  backend: BackendInfo;
  stop(): Promise<void>;
}

export async function startStack(opts: { dir: string; detached?: boolean; backendArgs?: string[]; log?: (l: string) => void; backendEntry?: string; backendNodeArgs?: string[] }): Promise<Stack> {
  const binaries = await ensureBinaries(opts.log);
  const cluster = await startCluster({ dir: opts.dir, binaries, ...(opts.detached ? { detached: true } : {}), ...(opts.log ? { log: opts.log } : {}) });
  try {
    await installBase(cluster);
    const { proc: _proc, ...backend } = await startBackend({ cluster, dir: join(opts.dir, 'backend'), ...(opts.detached ? { detached: true } : {}), extraArgs: opts.backendArgs ?? [], ...(opts.backendEntry ? { entry: opts.backendEntry, productionFlags: true } : {}), ...(opts.backendNodeArgs ? { nodeArgs: opts.backendNodeArgs } : {}) });
    return {
      cluster,
      backend,
      async stop() {
        await stopProcess(backend.pid);
        await stopCluster(cluster);
      },
    };
  } catch (err) {
    await stopCluster(cluster);
    throw err;
  }
}

// The whole local stack: control plane, manifests/base, and the backend
// behind its APIService. Used by the test run's global setup, by tests that
// need a stack of their own to break, and by the demo.
import { join } from 'node:path';
import { installBase, startBackend, type BackendInfo } from './backend.ts';
import { ensureBinaries } from './binaries.ts';
import { startCluster, stopCluster, type ClusterInfo } from './control-plane.ts';
import { haltNode, prepareNodeHost, startNode, stopNode, type NodeInfo } from './node.ts';
import { ensureNodeBinaries } from './node-binaries.ts';
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

export interface NodeStack {
  cluster: ClusterInfo;
  node: NodeInfo;
  /**
   * Stops the control plane, then the node (undoing its host changes);
   * `beforeRelease` runs once they are undone, while this node still holds
   * the machine (a test's look at the host after).
   */
  stop(opts?: { beforeRelease?: () => void }): Promise<void>;
}

/**
 * A control plane with a real node (node.ts) and nothing installed: the
 * backend runs in it once manifests are applied (kubectl apply -k, an image
 * imported with images.ts). One per machine; `dir/node` holds the node.
 */
export interface NodeStackOptions {
  dir: string;
  detached?: boolean;
  log?: (l: string) => void;
  /** Wait this long for another run's node to stop (one per machine) instead of failing at once. */
  waitMs?: number;
  /** Called once this node holds the machine's node lock and before it changes anything (a test's look at the host before). */
  onLocked?: () => void;
}

export async function startNodeStack(opts: NodeStackOptions): Promise<NodeStack> {
  const log = opts.log ?? (() => {});
  const [binaries, nodeBinaries] = [await ensureBinaries(log), await ensureNodeBinaries(log)];
  const nodeDir = join(opts.dir, 'node');
  const host = await prepareNodeHost(nodeDir, log, { waitMs: opts.waitMs ?? 0, ...(opts.onLocked ? { onLocked: opts.onLocked } : {}) });
  let cluster: ClusterInfo | undefined;
  try {
    cluster = await startCluster({ dir: opts.dir, binaries, network: host.record.network!, ...(opts.detached ? { detached: true } : {}), log });
    const node = await startNode({ dir: nodeDir, cluster, binaries: nodeBinaries, host, ...(opts.detached ? { detached: true } : {}), log });
    const c = cluster;
    return {
      cluster: c,
      node,
      async stop(stopOpts = {}) {
        // The node's processes first (kube-apiserver would wait for their watches), then kube-apiserver while its
        // address (the bridge's) is still there for it to remove its own lease and endpoint, then the host changes.
        await haltNode(nodeDir);
        await stopCluster(c);
        await stopNode({ dir: nodeDir, log, ...stopOpts });
      },
    };
  } catch (err) {
    if (cluster) await stopCluster(cluster);
    await stopNode({ dir: nodeDir, log });
    throw err;
  }
}

// The node's programs: kubelet, kube-scheduler, kube-controller-manager and
// kube-proxy from the same Go wrapper module and Kubernetes release as
// kube-apiserver, and the sandbox image's pause. They need more modules than
// kube-apiserver does, so they build with k8s-build/node.mod (go.mod plus
// those requirements, `go mod tidy -modfile=node.mod`) and are cached under a
// key of their own: go.mod and go.sum, the control plane's key, stay as they
// are, and adding the node never rebuilds kube-apiserver.
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { BUILD_MODULE, buildCached, cacheRoot } from './binaries.ts';
import { KUBERNETES_VERSION } from './versions.ts';

export interface NodeBinaries {
  dir: string;
  kubelet: string;
  kubeScheduler: string;
  kubeControllerManager: string;
  kubeProxy: string;
  /** The sandbox image's only program (k8s-build/pause). */
  pause: string;
}

const NODE_PACKAGES = [
  'k8s.io/kubernetes/cmd/kubelet',
  'k8s.io/kubernetes/cmd/kube-scheduler',
  'k8s.io/kubernetes/cmd/kube-controller-manager',
  'k8s.io/kubernetes/cmd/kube-proxy',
  './pause',
];

/** The cache entry: versions and a hash of every input of this build. */
export function nodeBinariesDir(): string {
  const h = createHash('sha256');
  for (const f of ['node.mod', 'node.sum', 'pause/main.go']) h.update(readFileSync(join(BUILD_MODULE, f)));
  return join(cacheRoot(), `k8s-node-${KUBERNETES_VERSION}-${h.digest('hex').slice(0, 12)}`);
}

function nodeBinariesIn(dir: string): NodeBinaries {
  return {
    dir,
    kubelet: join(dir, 'kubelet'),
    kubeScheduler: join(dir, 'kube-scheduler'),
    kubeControllerManager: join(dir, 'kube-controller-manager'),
    kubeProxy: join(dir, 'kube-proxy'),
    pause: join(dir, 'pause'),
  };
}

export function cachedNodeBinaries(): NodeBinaries | undefined {
  const b = nodeBinariesIn(nodeBinariesDir());
  return [b.kubelet, b.kubeScheduler, b.kubeControllerManager, b.kubeProxy, b.pause].every((f) => existsSync(f)) ? b : undefined;
}

/** Builds the node's programs into the cache unless they are there (as ensureBinaries does the control plane's). */
export async function ensureNodeBinaries(log: (line: string) => void = (l) => process.stderr.write(l + '\n')): Promise<NodeBinaries> {
  const cached = cachedNodeBinaries();
  if (cached) return cached;
  const dir = nodeBinariesDir();
  await buildCached({
    dir,
    packages: NODE_PACKAGES,
    modfile: 'node.mod',
    announce: `Building kubelet, kube-scheduler, kube-controller-manager and kube-proxy ${KUBERNETES_VERSION} from their Go module (once: about 10 minutes on a busy 2-core machine whose Go cache holds kube-apiserver's packages)`,
  }, log);
  return nodeBinariesIn(dir);
}

// Images without a registry: an OCI archive (ours, or `npm run build:image`'s)
// imported into the node's containerd, in the namespace the kubelet's CRI
// uses, under the name the pod spec asks for. Pods then run it with
// imagePullPolicy: Never (or IfNotPresent), and image GC is off on the node.
import { execFileSync } from 'node:child_process';

/** The node's containerd through its own socket: `ctr -n k8s.io …`. */
export function ctr(socket: string, args: string[]): string {
  return execFileSync('ctr', ['--address', socket, '--namespace', 'k8s.io', ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 64 << 20 });
}

/** The manifest digests an OCI archive's index.json lists. */
function archiveManifests(archive: string): string[] {
  const entry = execFileSync('tar', ['-tf', archive], { encoding: 'utf8', maxBuffer: 16 << 20 }).split('\n').find((e) => e === 'index.json' || e === './index.json');
  if (!entry) throw new Error(`${archive} is not an OCI image archive (no index.json)`);
  const index = JSON.parse(execFileSync('tar', ['-xOf', archive, entry], { encoding: 'utf8' })) as { manifests?: { digest: string }[] };
  return (index.manifests ?? []).map((m) => m.digest);
}

/** `ctr images ls`: each image's name and the digest it points to. */
export function listImages(socket: string): { name: string; digest: string }[] {
  return ctr(socket, ['images', 'ls']).split('\n').slice(1).filter(Boolean).map((l) => {
    const [name, , digest] = l.split(/\s+/);
    return { name: name!, digest: digest! };
  });
}

/**
 * Imports `archive` into the node's containerd and, when `name` is given,
 * names the image so (the full reference a kubelet asks for: a short
 * `kubectl-custom-backend:0.1.0` is `docker.io/library/kubectl-custom-backend:0.1.0`).
 * Returns the names the image has.
 */
export function importImage(socket: string, archive: string, name?: string): string[] {
  const digests = archiveManifests(archive);
  if (digests.length !== 1) throw new Error(`${archive}: expected one image, its index lists ${digests.length}`);
  // --digests: an image named by its digest too, so an archive whose index names nothing can still be found.
  ctr(socket, ['images', 'import', '--digests', archive]);
  const same = () => listImages(socket).filter((i) => i.digest === digests[0]).map((i) => i.name);
  const names = same();
  if (!names.length) throw new Error(`ctr imported ${archive} but lists no image with its digest ${digests[0]}`);
  if (name && !names.includes(name)) ctr(socket, ['images', 'tag', '--force', names[0]!, name]);
  return same();
}

// The backend in the local cluster's real node, installed as users install
// it: the image from `npm run build:image` imported into the node's
// containerd under the name manifests/overlays/test-node gives it (no
// registry), `kubectl apply -k` of that overlay (manifests/base with only the
// image and its pull policy swapped), `kubectl custom install-certs`, then
// both replicas Ready and the APIService Available. For `npm run cluster:up
// -- --node` and `npm run demo -- --in-cluster`; the in-cluster test makes
// the same steps one by one, as assertions.
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { delimiter, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { parse } from 'yaml';
import { buildImage } from '../scripts/build-image.ts';
import { waitFinalizerPolicy } from './backend.ts';
import type { ClusterInfo } from './control-plane.ts';
import { importImage } from './images.ts';
import type { NodeInfo } from './node.ts';

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL('../', import.meta.url));
export const TEST_NODE_OVERLAY = join(ROOT, 'manifests/overlays/test-node');

/** The image reference the overlay gives the Deployment (its kustomize `images:` entry). */
export function overlayImage(overlay = TEST_NODE_OVERLAY): string {
  const k = parse(readFileSync(join(overlay, 'kustomization.yaml'), 'utf8')) as { images: { newName: string; newTag: string }[] };
  return `${k.images[0]!.newName}:${k.images[0]!.newTag}`;
}

/** Builds (or takes from the cache) the backend's image and imports it into the node under the overlay's name. */
export async function importBackendImage(node: Pick<NodeInfo, 'containerdSocket'>, log: (l: string) => void): Promise<void> {
  const image = await buildImage({ log });
  importImage(node.containerdSocket, image.archive, overlayImage());
  log(`imported ${image.name} into the node as ${overlayImage()}`);
}

/**
 * Installs the backend from the test overlay and waits until it serves:
 * rolled out, the APIService Available, the admission policies in force.
 * `pluginDir` holds kubectl-custom (dist/), for install-certs.
 */
export async function installInCluster(cluster: ClusterInfo, node: Pick<NodeInfo, 'containerdSocket'>, opts: { pluginDir: string; log: (l: string) => void }): Promise<void> {
  await importBackendImage(node, opts.log);
  const env = { ...process.env, KUBECONFIG: cluster.kubeconfigs.admin, PATH: [opts.pluginDir, dirname(cluster.binaries.kubectl), process.env['PATH'] ?? ''].join(delimiter) };
  const kubectl = (args: string[]) => run(cluster.binaries.kubectl, args, { env, maxBuffer: 16 << 20 });
  opts.log('kubectl apply -k manifests/overlays/test-node, kubectl custom install-certs');
  await kubectl(['apply', '--server-side', '-k', TEST_NODE_OVERLAY]);
  await kubectl(['custom', 'install-certs']);
  await kubectl(['rollout', 'status', 'deployment/kubectl-custom-backend', '-n', 'custom-system', '--timeout=240s']);
  await kubectl(['wait', '--for=condition=Available', '--timeout=120s', 'apiservice/v1.custom.example.com']);
  await waitFinalizerPolicy(cluster);
  opts.log('the backend runs in the node: 2 replicas Ready, APIService v1.custom.example.com Available');
}

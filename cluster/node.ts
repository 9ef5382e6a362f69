// A real node for the local control plane: containerd (Debian's, run by hand
// with its own root, state and socket under the node's folder), CNI bridge +
// host-local on a small pod range, kubelet, kube-proxy (iptables), and the
// two controllers a node needs, kube-scheduler and kube-controller-manager
// (ServiceAccounts and their tokens, namespace deletion, ReplicaSets).
// Settings this machine needs are in ../shared/facts.md ("A real node"): cgroup
// v1 allowed, cgroupfs, swap allowed, containerd's restrict_oom_score_adj,
// the node named 127.0.0.1 by --hostname-override. Every change to the host is
// recorded first and undone by stopNode (node-host.ts); the network and its
// guards are node-network.ts.
import { chmodSync, copyFileSync, existsSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { issueCertificate, loadCertificateAuthority } from '../client/src/certificates.ts';
import { ensureDebianPackages } from './debian-packages.ts';
import { apiserverGet, type ClusterInfo } from './control-plane.ts';
import { ctr, importImage } from './images.ts';
import { writeKubeconfig } from './kubeconfig.ts';
import { FIXED_HOST_DIRS, HostChanges, NETNS_LOG, readRecord, stopNodeProcesses, stopRecordedNode, undoHostChanges } from './node-host.ts';
import type { NodeBinaries } from './node-binaries.ts';
import { NODE_NETWORK, setUpNodeNetwork, type NodeNetwork } from './node-network.ts';
import { writeOciArchive } from './oci-image.ts';
import { freePort, startProcess, waitFor, type Started } from './processes.ts';

/** The node's name and address (kubelet refuses --node-ip=127.0.0.1 as loopback, but takes it as --hostname-override). */
export const NODE_NAME = '127.0.0.1';
/** The sandbox image, made here from k8s-build/pause; never pulled. */
export const PAUSE_IMAGE = 'localhost/kubectl-custom/pause:1';
const CNI_PLUGINS = ['/usr/lib/cni', '/opt/cni/bin'];

export interface NodeInfo {
  dir: string;
  name: string;
  containerdSocket: string;
  network: NodeNetwork;
  pids: { containerd: number; kubelet: number; kubeProxy: number; kubeScheduler: number; kubeControllerManager: number };
  logs: { containerd: string; kubelet: string; kubeProxy: string; kubeScheduler: string; kubeControllerManager: string };
}

/** containerd, runc and the CNI plugins: Debian's packages, installed when missing (as root); returns the CNI plugins' folder. */
async function ensureRuntimePackages(log: (l: string) => void): Promise<string> {
  // nftables: nft removes the empty tables iptables-nft leaves behind (node-network.ts).
  await ensureDebianPackages(['containerd', 'runc', 'containernetworking-plugins', 'nftables'], ['/usr/bin/containerd', '/usr/bin/ctr', '/usr/sbin/runc', '/usr/bin/containerd-shim-runc-v2', '/usr/sbin/nft'], 'The local node\'s container runtime (containerd, runc, CNI plugins, nft)', log);
  const cni = CNI_PLUGINS.find((d) => ['bridge', 'host-local', 'loopback'].every((p) => existsSync(join(d, p))));
  if (!cni) {
    await ensureDebianPackages(['containernetworking-plugins'], ['/usr/lib/cni/bridge', '/usr/lib/cni/host-local', '/usr/lib/cni/loopback'], 'The CNI plugins (bridge, host-local, loopback)', log);
    return '/usr/lib/cni';
  }
  return cni;
}

/**
 * Takes the machine's node lock (undoing a node a dead run left) and makes
 * the network the control plane needs before it starts: kube-apiserver
 * listens on the bridge's address so that pods reach it.
 */
export async function prepareNodeHost(dir: string, log: (l: string) => void, opts: { network?: NodeNetwork; waitMs?: number; onLocked?: () => void } = {}): Promise<HostChanges> {
  const network = opts.network ?? NODE_NETWORK;
  if (process.getuid?.() !== 0) throw new Error('a local node needs root (it runs containerd and kubelet and changes the network)');
  await ensureRuntimePackages(log);
  const host = await HostChanges.acquire(dir, log, opts.waitMs);
  try {
    // The machine as this node finds it: no other node runs, and this one has changed nothing yet.
    opts.onLocked?.();
    host.update({ network });
    setUpNodeNetwork(network);
    return host;
  } catch (err) {
    await undoHostChanges(host.record, log);
    throw err;
  }
}

/** Stops the processes of the node in `dir` (agents, pods, containerd), leaving the host changes for stopNode. */
export async function haltNode(dir: string): Promise<void> {
  const rec = readRecord();
  if (rec?.dir === dir) await stopNodeProcesses(rec);
}

/** Stops the node in `dir` (or one a dead run left) and undoes its host changes; false if there was none of those. */
export function stopNode(opts: { dir?: string; log?: (l: string) => void; beforeRelease?: () => void } = {}): Promise<boolean> {
  return stopRecordedNode(opts);
}

interface NodeFiles {
  dir: string;
  containerdSocket: string;
  kubeconfigs: Record<'kubelet' | 'kubeProxy' | 'kubeScheduler' | 'kubeControllerManager', string>;
}

/** Client certificates from the cluster's CA, as kubeadm names them, in a kubeconfig each. */
async function writeCredentials(cluster: ClusterInfo, dir: string): Promise<NodeFiles['kubeconfigs']> {
  const ca = await loadCertificateAuthority(readFileSync(cluster.clusterCa.cert, 'utf8'), readFileSync(cluster.clusterCa.key, 'utf8'));
  const who = {
    kubelet: { commonName: `system:node:${NODE_NAME}`, organizations: ['system:nodes'] },
    kubeProxy: { commonName: 'system:kube-proxy', organizations: [] },
    kubeScheduler: { commonName: 'system:kube-scheduler', organizations: [] },
    kubeControllerManager: { commonName: 'system:kube-controller-manager', organizations: [] },
  };
  const out = {} as NodeFiles['kubeconfigs'];
  for (const [name, subject] of Object.entries(who) as [keyof typeof who, (typeof who)[keyof typeof who]][]) {
    const pair = await issueCertificate(ca, { ...subject, usage: 'client' });
    const cert = join(dir, 'pki', `${name}.crt`);
    const key = join(dir, 'pki', `${name}.key`);
    writeFileSync(cert, pair.cert);
    writeFileSync(key, pair.key, { mode: 0o600 });
    out[name] = writeKubeconfig(join(dir, `${name}.kubeconfig`), { server: cluster.server, caFile: cluster.caFile, user: subject.commonName, credentials: { certFile: cert, keyFile: key } });
  }
  return out;
}

/**
 * The CNI configuration: bridge + host-local, no masquerading. The bridge
 * plugin is reached through a wrapper that first appends the pod's network
 * namespace to the host record's list, so a teardown after a crash finds
 * every namespace the node made (containerd 1.6 keeps them in /run/netns).
 */
function writeCni(dir: string, net: NodeNetwork, plugins: string): { binDir: string; confDir: string } {
  const binDir = join(dir, 'cni/bin');
  const confDir = join(dir, 'cni/net.d');
  mkdirSync(binDir, { recursive: true });
  mkdirSync(confDir, { recursive: true });
  writeFileSync(join(binDir, 'bridge'), `#!/bin/sh
# The CNI bridge plugin, after noting the pod's network namespace for the node's teardown.
if [ "$CNI_COMMAND" = ADD ] && [ -n "$CNI_NETNS" ]; then printf '%s\\n' "$CNI_NETNS" >> ${NETNS_LOG}; fi
exec ${join(plugins, 'bridge')} "$@"
`);
  chmodSync(join(binDir, 'bridge'), 0o755);
  for (const p of ['host-local', 'loopback']) symlinkSync(join(plugins, p), join(binDir, p));
  writeFileSync(join(confDir, '10-kubectl-custom.conflist'), JSON.stringify({
    cniVersion: '1.0.0',
    name: 'kubectl-custom',
    plugins: [{
      type: 'bridge',
      bridge: net.bridge,
      isGateway: true,
      ipMasq: false,
      hairpinMode: true,
      ipam: { type: 'host-local', ranges: [[{ subnet: net.podCidr, gateway: net.gateway }]], routes: [{ dst: '0.0.0.0/0' }], dataDir: join(dir, 'cni/ipam') },
    }],
  }, null, 2));
  return { binDir, confDir };
}

function containerdConfig(dir: string, socket: string, cni: { binDir: string; confDir: string }): string {
  const cri = 'plugins."io.containerd.grpc.v1.cri"';
  return `version = 2
root = "${join(dir, 'containerd/root')}"
state = "${join(dir, 'containerd/state')}"
[grpc]
  address = "${socket}"
[plugins."io.containerd.internal.v1.opt"]
  path = "${join(dir, 'containerd/opt')}"
[${cri}]
  sandbox_image = "${PAUSE_IMAGE}"
  # Without CAP_SYS_RESOURCE every sandbox fails with runc's "can't get final child's PID from pipe: EOF".
  restrict_oom_score_adj = true
[${cri}.containerd]
  snapshotter = "overlayfs"
  default_runtime_name = "runc"
[${cri}.containerd.runtimes.runc]
  runtime_type = "io.containerd.runc.v2"
[${cri}.containerd.runtimes.runc.options]
  SystemdCgroup = false
  Root = "${join(dir, 'runc')}"
[${cri}.cni]
  bin_dir = "${cni.binDir}"
  conf_dir = "${cni.confDir}"
`;
}

function yamlLike(obj: unknown): string {
  // JSON is YAML: the kubelet and kube-proxy read their config files with a YAML parser.
  return JSON.stringify(obj, null, 2);
}

function kubeletConfig(cluster: ClusterInfo, dir: string, socket: string, ports: { port: number; healthz: number }): string {
  return yamlLike({
    apiVersion: 'kubelet.config.k8s.io/v1beta1',
    kind: 'KubeletConfiguration',
    // This machine: cgroup v1 (refused by default since 1.35), no systemd, swap allowed.
    failCgroupV1: false,
    cgroupDriver: 'cgroupfs',
    failSwapOn: false,
    containerRuntimeEndpoint: `unix://${socket}`,
    // Only on loopback: kube-apiserver reaches it for logs and exec at the node's address, 127.0.0.1.
    address: '127.0.0.1',
    port: ports.port,
    readOnlyPort: 0,
    healthzBindAddress: '127.0.0.1',
    healthzPort: ports.healthz,
    authentication: { anonymous: { enabled: false }, webhook: { enabled: true }, x509: { clientCAFile: cluster.caFile } },
    authorization: { mode: 'Webhook' },
    podLogsDir: join(dir, 'pod-logs'),
    volumePluginDir: join(dir, 'volume-plugins'),
    // Imported images have nowhere to be pulled from again: no image GC.
    imageGCHighThresholdPercent: 100,
    imageGCLowThresholdPercent: 99,
    // A shared disk's usage is not this node's business.
    evictionHard: { 'memory.available': '100Mi', 'nodefs.available': '1%', 'nodefs.inodesFree': '1%', 'imagefs.available': '1%' },
    maxPods: 50,
    resolvConf: '/etc/resolv.conf',
    clusterDomain: 'cluster.local',
    shutdownGracePeriod: '0s',
    rotateCertificates: false,
    serverTLSBootstrap: false,
  });
}

function kubeProxyConfig(net: NodeNetwork, kubeconfig: string, ports: { healthz: number; metrics: number }): string {
  return yamlLike({
    apiVersion: 'kubeproxy.config.k8s.io/v1alpha1',
    kind: 'KubeProxyConfiguration',
    clientConnection: { kubeconfig },
    mode: 'iptables',
    hostnameOverride: NODE_NAME,
    clusterCIDR: net.podCidr,
    detectLocalMode: 'ClusterCIDR',
    healthzBindAddress: `127.0.0.1:${ports.healthz}`,
    metricsBindAddress: `127.0.0.1:${ports.metrics}`,
    // Leave the machine's conntrack settings and route_localnet alone.
    conntrack: { maxPerCore: 0, min: 0, tcpEstablishedTimeout: '0s', tcpCloseWaitTimeout: '0s' },
    iptables: { localhostNodePorts: false, masqueradeAll: false },
    nodePortAddresses: ['primary'],
  });
}

interface Launch {
  name: keyof NodeInfo['pids'];
  command: string;
  args: string[];
}

function launch(host: HostChanges, dir: string, l: Launch, detached: boolean | undefined): Started {
  const logFile = join(dir, `${l.name}.log`);
  const proc = startProcess({ name: l.name, command: l.command, args: l.args, logFile, detached });
  host.addProcess(l.name, proc.pid);
  return proc;
}

async function startContainerd(host: HostChanges, dir: string, socket: string, cni: { binDir: string; confDir: string }, detached?: boolean): Promise<Started> {
  const config = join(dir, 'containerd/config.toml');
  mkdirSync(join(dir, 'containerd'), { recursive: true });
  writeFileSync(config, containerdConfig(dir, socket, cni));
  host.update({ containerdSocket: socket });
  // containerd 1.6's shims put their sockets in /run/containerd/s, and its CRI the pods' namespaces in /run/netns.
  for (const d of FIXED_HOST_DIRS) host.willCreate(d);
  const proc = launch(host, dir, { name: 'containerd', command: '/usr/bin/containerd', args: ['--config', config] }, detached);
  await waitFor(`containerd at ${socket}`, proc, async () => {
    try {
      ctr(socket, ['version']);
      return true;
    } catch {
      return false;
    }
  }, 30_000);
  return proc;
}

/** The sandbox image: k8s-build/pause alone in an image made here, imported under PAUSE_IMAGE. */
async function importPauseImage(dir: string, socket: string, pause: string): Promise<void> {
  const rootfs = join(dir, 'images/pause-rootfs');
  mkdirSync(rootfs, { recursive: true });
  copyFileSync(pause, join(rootfs, 'pause'));
  chmodSync(join(rootfs, 'pause'), 0o755);
  const archive = join(dir, 'images/pause.oci.tar');
  await writeOciArchive({ name: PAUSE_IMAGE, rootfs, config: { Entrypoint: ['/pause'], User: '65535:65535' } }, archive);
  importImage(socket, archive, PAUSE_IMAGE);
}

async function nodeReady(cluster: ClusterInfo): Promise<boolean> {
  const r = await apiserverGet(cluster, cluster.users.admin, `/api/v1/nodes/${NODE_NAME}`);
  if (r.status !== 200) return false;
  const node = JSON.parse(r.body) as { status?: { conditions?: { type: string; status: string }[] } };
  return node.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
}

export interface StartNodeOptions {
  /** The node's folder (containerd's root and state, kubelet's root, logs). */
  dir: string;
  /** A control plane started with this node's network (startCluster's `network`). */
  cluster: ClusterInfo;
  binaries: NodeBinaries;
  /** From prepareNodeHost, before the control plane started. */
  host: HostChanges;
  detached?: boolean;
  log?: (l: string) => void;
}

/**
 * Starts containerd, kubelet, kube-proxy, kube-scheduler and
 * kube-controller-manager and waits until the node is Ready, kube-proxy has
 * synced and the controllers have made the default ServiceAccount.
 */
export async function startNode(o: StartNodeOptions): Promise<NodeInfo> {
  const log = o.log ?? (() => {});
  const { dir, cluster, binaries, host } = o;
  const net = host.record.network ?? NODE_NETWORK;
  const plugins = await ensureRuntimePackages(log);
  mkdirSync(join(dir, 'pki'), { recursive: true });
  const kubeconfigs = await writeCredentials(cluster, dir);
  const socket = join(dir, 'containerd/containerd.sock');
  const cni = writeCni(dir, net, plugins);
  log(`starting containerd (${socket})`);
  const procs: Started[] = [await startContainerd(host, dir, socket, cni, o.detached)];
  await importPauseImage(dir, socket, binaries.pause);
  const [kubeletPort, kubeletHealthz, proxyHealthz, proxyMetrics, schedulerPort, cmPort] = await Promise.all([freePort(), freePort(), freePort(), freePort(), freePort(), freePort()]);
  writeFileSync(join(dir, 'kubelet.yaml'), kubeletConfig(cluster, dir, socket, { port: kubeletPort, healthz: kubeletHealthz }));
  writeFileSync(join(dir, 'kube-proxy.yaml'), kubeProxyConfig(net, kubeconfigs.kubeProxy, { healthz: proxyHealthz, metrics: proxyMetrics }));
  const certDir = (n: string) => join(dir, `${n}-certs`);
  const controllerFlags = (kubeconfig: string, port: number, name: string) => [
    `--kubeconfig=${kubeconfig}`, `--authentication-kubeconfig=${kubeconfig}`, `--authorization-kubeconfig=${kubeconfig}`,
    '--bind-address=127.0.0.1', `--secure-port=${port}`, `--cert-dir=${certDir(name)}`, '--leader-elect=false', '--v=1',
  ];
  const launches: Launch[] = [
    { name: 'kubelet', command: binaries.kubelet, args: [`--config=${join(dir, 'kubelet.yaml')}`, `--kubeconfig=${kubeconfigs.kubelet}`, `--hostname-override=${NODE_NAME}`, `--root-dir=${join(dir, 'kubelet')}`, '--v=1'] },
    { name: 'kubeProxy', command: binaries.kubeProxy, args: [`--config=${join(dir, 'kube-proxy.yaml')}`, '--v=1'] },
    { name: 'kubeScheduler', command: binaries.kubeScheduler, args: controllerFlags(kubeconfigs.kubeScheduler, schedulerPort, 'kube-scheduler') },
    {
      name: 'kubeControllerManager',
      command: binaries.kubeControllerManager,
      args: [
        ...controllerFlags(kubeconfigs.kubeControllerManager, cmPort, 'kube-controller-manager'),
        '--use-service-account-credentials=true', `--service-account-private-key-file=${cluster.serviceAccount.privateKey}`, `--root-ca-file=${cluster.caFile}`,
        `--cluster-signing-cert-file=${cluster.clusterCa.cert}`, `--cluster-signing-key-file=${cluster.clusterCa.key}`, '--allocate-node-cidrs=false',
      ],
    },
  ];
  log('starting kubelet, kube-proxy, kube-scheduler and kube-controller-manager');
  for (const l of launches) procs.push(launch(host, dir, l, o.detached));
  const [containerd, kubelet, kubeProxy, kubeScheduler, kubeControllerManager] = procs as [Started, Started, Started, Started, Started];
  await waitFor(`node ${NODE_NAME} Ready`, kubelet, () => nodeReady(cluster), 120_000);
  await waitFor(`kube-proxy healthy on 127.0.0.1:${proxyHealthz}`, kubeProxy, async () => {
    const r = await fetch(`http://127.0.0.1:${proxyHealthz}/healthz`);
    return r.status === 200;
  }, 60_000);
  await waitFor('the default ServiceAccount', kubeControllerManager, async () => (await apiserverGet(cluster, cluster.users.admin, '/api/v1/namespaces/default/serviceaccounts/default')).status === 200, 60_000);
  return {
    dir,
    name: NODE_NAME,
    containerdSocket: socket,
    network: net,
    pids: { containerd: containerd.pid, kubelet: kubelet.pid, kubeProxy: kubeProxy.pid, kubeScheduler: kubeScheduler.pid, kubeControllerManager: kubeControllerManager.pid },
    logs: { containerd: containerd.logFile, kubelet: kubelet.logFile, kubeProxy: kubeProxy.logFile, kubeScheduler: kubeScheduler.logFile, kubeControllerManager: kubeControllerManager.logFile },
  };
}

/** The host PID of a container's main process, from containerd's task list. */
export function containerPid(node: Pick<NodeInfo, 'containerdSocket'>, containerId: string): number {
  const line = ctr(node.containerdSocket, ['tasks', 'ls']).split('\n').find((l) => l.startsWith(containerId));
  if (!line) throw new Error(`containerd runs no task ${containerId}`);
  return Number(line.split(/\s+/)[1]);
}

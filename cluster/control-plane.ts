import { request } from 'node:https';
import { request as httpRequest } from 'node:http';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Binaries } from './binaries.ts';
import type { NodeNetwork } from './node-network.ts';
import { generateClusterPki, USERS, FRONT_PROXY_CLIENT_CN, type ClusterPki, type UserName, type PairFiles } from './pki.ts';
import { writeKubeconfig } from './kubeconfig.ts';
import { freePort, startProcess, stopProcess, waitFor, type Started } from './processes.ts';

/** Everything a test or a person needs to reach a running control plane; JSON-serialisable. */
export interface ClusterInfo {
  dir: string;
  server: string;
  caFile: string;
  etcdUrl: string;
  kubeconfigs: Record<UserName, string>;
  users: Record<UserName, PairFiles>;
  /** For signing more client certificates in tests. */
  clusterCa: PairFiles;
  /** The ServiceAccount token signing key pair (kube-controller-manager signs with it on a node). */
  serviceAccount: { privateKey: string; publicKey: string };
  /** Set when kube-apiserver was started for a real node (startCluster's `network`). */
  network?: NodeNetwork;
  /** The front proxy's CA and client pair, for talking to a backend directly as kube-apiserver does. */
  frontProxyCa: PairFiles;
  frontProxyClient: PairFiles;
  binaries: Binaries;
  pids: { etcd: number; kubeApiserver: number };
  logs: { etcd: string; kubeApiserver: string };
  /** The kube-apiserver command line, so a test can restart it with the same settings. */
  kubeApiserverArgs: string[];
  etcdArgs: string[];
}

export interface StartClusterOptions {
  dir: string;
  binaries: Binaries;
  /** Keep running after this process exits (cluster:up). */
  detached?: boolean;
  /**
   * For a real node (node.ts): kube-apiserver listens on the node bridge's
   * address (where pods reach it through the kubernetes Service) instead of
   * 127.0.0.1, with that Service's range, the Node authorizer and the
   * ServiceAccount admission, and reaches aggregated servers and webhooks at
   * their endpoints (pod addresses).
   */
  network?: NodeNetwork;
  log?: (line: string) => void;
}

function etcdArgs(dataDir: string, clientPort: number, peerPort: number): string[] {
  const client = `http://127.0.0.1:${clientPort}`;
  const peer = `http://127.0.0.1:${peerPort}`;
  return [
    '--name=default',
    `--data-dir=${dataDir}`,
    `--listen-client-urls=${client}`,
    `--advertise-client-urls=${client}`,
    `--listen-peer-urls=${peer}`,
    `--initial-advertise-peer-urls=${peer}`,
    `--initial-cluster=default=${peer}`,
    // A throw-away test store: durability across power loss buys nothing here
    // and fsync dominates write latency on shared disks.
    '--unsafe-no-fsync',
    '--log-level=warn',
  ];
}

function apiserverArgs(pki: ClusterPki, port: number, etcdUrl: string, certDir: string): string[] {
  return [
    `--etcd-servers=${etcdUrl}`,
    `--bind-address=127.0.0.1`,
    // Without these two it looks for a default route and writes 127.0.0.1
    // into the kubernetes Endpoints, which validation forbids.
    `--advertise-address=127.0.0.1`,
    '--endpoint-reconciler-type=none',
    `--secure-port=${port}`,
    `--cert-dir=${certDir}`,
    `--tls-cert-file=${pki.apiserverServing.cert}`,
    `--tls-private-key-file=${pki.apiserverServing.key}`,
    `--client-ca-file=${pki.clusterCa.cert}`,
    '--authorization-mode=RBAC',
    '--service-cluster-ip-range=10.0.0.0/24',
    // No controller-manager runs, so nothing would create the default
    // ServiceAccount the admission plugin insists on.
    '--disable-admission-plugins=ServiceAccount',
    '--service-account-issuer=https://kubernetes.default.svc',
    `--service-account-key-file=${pki.serviceAccount.publicKey}`,
    `--service-account-signing-key-file=${pki.serviceAccount.privateKey}`,
    // The aggregation layer, as kubeadm configures it.
    `--requestheader-client-ca-file=${pki.frontProxyCa.cert}`,
    `--requestheader-allowed-names=${FRONT_PROXY_CLIENT_CN}`,
    '--requestheader-username-headers=X-Remote-User',
    '--requestheader-group-headers=X-Remote-Group',
    '--requestheader-extra-headers-prefix=X-Remote-Extra-',
    `--proxy-client-cert-file=${pki.frontProxyClient.cert}`,
    `--proxy-client-key-file=${pki.frontProxyClient.key}`,
    '--v=1',
  ];
}

/** What a cluster with a real node changes in kube-apiserver's flags. */
function nodeApiserverArgs(args: string[], net: NodeNetwork, pki: ClusterPki): string[] {
  const replaced: Record<string, string> = {
    '--bind-address': net.gateway,
    '--advertise-address': net.gateway,
    '--service-cluster-ip-range': net.serviceCidr,
    '--authorization-mode': 'Node,RBAC',
  };
  // The kubernetes Service's endpoint is kept by the lease reconciler (default), ServiceAccount admission is on.
  const dropped = ['--endpoint-reconciler-type', '--disable-admission-plugins'];
  const out = args.filter((a) => !dropped.includes(a.split('=')[0]!)).map((a) => {
    const name = a.split('=')[0]!;
    return name in replaced ? `${name}=${replaced[name]}` : a;
  });
  return [
    ...out,
    '--enable-admission-plugins=NodeRestriction',
    '--enable-aggregator-routing=true',
    `--kubelet-client-certificate=${pki.apiserverKubeletClient!.cert}`,
    `--kubelet-client-key=${pki.apiserverKubeletClient!.key}`,
  ];
}

/** GETs `path` from kube-apiserver with a client certificate; resolves status and body. */
export function apiserverGet(info: Pick<ClusterInfo, 'server' | 'caFile'>, pair: PairFiles, path: string, timeoutMs = 5000): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(new URL(path, info.server), {
      ca: readFileSync(info.caFile),
      cert: readFileSync(pair.cert),
      key: readFileSync(pair.key),
      timeout: timeoutMs,
    }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end();
  });
}

function etcdHealthy(url: string): Promise<boolean> {
  return new Promise((resolve) => {
    const req = httpRequest(`${url}/health`, { timeout: 2000 }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => resolve(res.statusCode === 200 && body.includes('"health":"true"')));
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(false));
    req.end();
  });
}

async function waitForEtcd(proc: Started, url: string, timeoutMs = 60_000): Promise<void> {
  await waitFor(`${url}/health`, proc, () => etcdHealthy(url), timeoutMs);
}

async function waitForApiserver(proc: Started, info: Pick<ClusterInfo, 'server' | 'caFile' | 'users'>, timeoutMs = 120_000): Promise<void> {
  const admin = info.users.admin;
  await waitFor(`${info.server}/readyz`, proc, async () => (await apiserverGet(info, admin, '/readyz')).status === 200, timeoutMs);
  // readyz can pass a moment before the authentication trust controller has
  // published the ConfigMap aggregated servers read their settings from.
  await waitFor('kube-system/extension-apiserver-authentication', proc, async () =>
    (await apiserverGet(info, admin, '/api/v1/namespaces/kube-system/configmaps/extension-apiserver-authentication')).status === 200, timeoutMs);
}

/**
 * Starts etcd and kube-apiserver on free loopback ports with fresh PKI in
 * `dir`, waits until kube-apiserver is ready, and writes a kubeconfig for each
 * user. On failure nothing is left running and the error carries the log tail.
 */
export async function startCluster(opts: StartClusterOptions): Promise<ClusterInfo> {
  const log = opts.log ?? (() => {});
  const { dir, binaries } = opts;
  mkdirSync(dir, { recursive: true });
  const net = opts.network;
  const pki = await generateClusterPki(join(dir, 'pki'), net ? { servingIps: [net.gateway, net.apiserverServiceIp], kubeletClient: true } : {});
  const host = net?.gateway ?? '127.0.0.1';
  const started: Started[] = [];
  try {
    for (let attempt = 1; ; attempt++) {
      const [clientPort, peerPort, apiPort] = [await freePort(), await freePort(), await freePort()];
      const etcdUrl = `http://127.0.0.1:${clientPort}`;
      const logs = { etcd: join(dir, 'etcd.log'), kubeApiserver: join(dir, 'kube-apiserver.log') };
      const eArgs = etcdArgs(join(dir, 'etcd-data'), clientPort, peerPort);
      log(`starting etcd on ${etcdUrl}`);
      const etcd = startProcess({ name: 'etcd', command: binaries.etcd, args: eArgs, logFile: logs.etcd, detached: opts.detached });
      started.push(etcd);
      const plain = apiserverArgs(pki, apiPort, etcdUrl, join(dir, 'apiserver-certs'));
      const aArgs = net ? nodeApiserverArgs(plain, net, pki) : plain;
      const server = `https://${host}:${apiPort}`;
      try {
        await waitForEtcd(etcd, etcdUrl);
        log(`starting kube-apiserver on ${server}`);
        const apiserver = startProcess({ name: 'kube-apiserver', command: binaries.kubeApiserver, args: aArgs, logFile: logs.kubeApiserver, detached: opts.detached });
        started.push(apiserver);
        const info: ClusterInfo = {
          dir,
          server,
          caFile: pki.clusterCa.cert,
          etcdUrl,
          kubeconfigs: {} as Record<UserName, string>,
          users: pki.users,
          clusterCa: pki.clusterCa,
          frontProxyCa: pki.frontProxyCa,
          frontProxyClient: pki.frontProxyClient,
          binaries,
          serviceAccount: pki.serviceAccount,
          ...(net ? { network: net } : {}),
          pids: { etcd: etcd.pid, kubeApiserver: apiserver.pid },
          logs,
          kubeApiserverArgs: aArgs,
          etcdArgs: eArgs,
        };
        await waitForApiserver(apiserver, info);
        for (const user of Object.keys(USERS) as UserName[]) {
          info.kubeconfigs[user] = writeKubeconfig(join(dir, `${user}.kubeconfig`), {
            server,
            caFile: pki.clusterCa.cert,
            user,
            credentials: { certFile: pki.users[user].cert, keyFile: pki.users[user].key },
          });
        }
        log(`kube-apiserver ready at ${server}`);
        return info;
      } catch (err) {
        // A port taken between freePort() and bind shows up as an early exit; retry on new ports.
        const portRace = /address already in use/i.test(String(err));
        await Promise.all(started.splice(0).map((p) => stopProcess(p.pid)));
        if (!portRace || attempt >= 3) throw err;
        log('a port was taken; retrying on other ports');
      }
    }
  } catch (err) {
    await Promise.all(started.map((p) => stopProcess(p.pid)));
    throw err;
  }
}

export async function stopCluster(info: Pick<ClusterInfo, 'pids'>): Promise<void> {
  // kube-apiserver first, so it does not spend its shutdown retrying etcd.
  await stopProcess(info.pids.kubeApiserver);
  await stopProcess(info.pids.etcd);
}

/** Starts kube-apiserver again with the same flags, ports and PKI (after a stop or kill); updates `info.pids`. */
export async function restartApiserver(info: ClusterInfo, detached = false): Promise<Started> {
  const proc = startProcess({ name: 'kube-apiserver', command: info.binaries.kubeApiserver, args: info.kubeApiserverArgs, logFile: info.logs.kubeApiserver, detached });
  info.pids.kubeApiserver = proc.pid;
  await waitForApiserver(proc, info);
  return proc;
}

/** Starts etcd again with the same data dir and ports; updates `info.pids`. */
export async function restartEtcd(info: ClusterInfo, detached = false): Promise<Started> {
  const proc = startProcess({ name: 'etcd', command: info.binaries.etcd, args: info.etcdArgs, logFile: info.logs.etcd, detached });
  info.pids.etcd = proc.pid;
  await waitForEtcd(proc, info.etcdUrl);
  return proc;
}

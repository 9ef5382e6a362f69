import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  issueCertificate,
  newCertificateAuthority,
  newSigningKeyPair,
  type CertificateAuthority,
  type KeyPairPem,
} from '../client/src/certificates.ts';

/** The users every cluster has, as client certificates (CN = user, O = groups). */
export const USERS = {
  admin: ['system:masters'],
  alice: [],
  bob: [],
  // A third person, so a move can get two approvals from people other than its mover.
  carol: [],
} as const satisfies Record<string, readonly string[]>;
export type UserName = keyof typeof USERS;

/** The CN kube-apiserver's proxy client certificate carries; the only name in --requestheader-allowed-names. */
export const FRONT_PROXY_CLIENT_CN = 'front-proxy-client';

export interface PairFiles {
  cert: string;
  key: string;
}

export interface ClusterPki {
  dir: string;
  clusterCa: PairFiles;
  apiserverServing: PairFiles;
  /** kube-apiserver's client certificate for kubelets (logs, exec), when the cluster has a node. */
  apiserverKubeletClient?: PairFiles;
  frontProxyCa: PairFiles;
  frontProxyClient: PairFiles;
  serviceAccount: { privateKey: string; publicKey: string };
  users: Record<UserName, PairFiles>;
}

function writePair(dir: string, name: string, pair: KeyPairPem): PairFiles {
  const files = { cert: join(dir, `${name}.crt`), key: join(dir, `${name}.key`) };
  writeFileSync(files.cert, pair.cert);
  writeFileSync(files.key, pair.key, { mode: 0o600 });
  return files;
}

/**
 * Fresh PKI laid out as kubeadm does: one CA for the cluster (serving and
 * client certificates), a separate front-proxy CA for the aggregation layer,
 * and a service-account signing key.
 */
export async function generateClusterPki(dir: string, opts: { servingIps?: string[]; kubeletClient?: boolean } = {}): Promise<ClusterPki & { cas: { cluster: CertificateAuthority; frontProxy: CertificateAuthority } }> {
  mkdirSync(dir, { recursive: true });
  const cluster = await newCertificateAuthority('kubernetes-ca');
  const frontProxy = await newCertificateAuthority('front-proxy-ca');
  const serving = await issueCertificate(cluster, {
    commonName: 'kube-apiserver',
    usage: 'server',
    dnsNames: ['localhost', 'kubernetes', 'kubernetes.default', 'kubernetes.default.svc', 'kubernetes.default.svc.cluster.local'],
    ipAddresses: ['127.0.0.1', '10.0.0.1', ...(opts.servingIps ?? [])],
  });
  const proxyClient = await issueCertificate(frontProxy, { commonName: FRONT_PROXY_CLIENT_CN, usage: 'client' });
  const users = {} as Record<UserName, PairFiles>;
  for (const [user, groups] of Object.entries(USERS) as [UserName, readonly string[]][]) {
    users[user] = writePair(dir, `user-${user}`, await issueCertificate(cluster, { commonName: user, organizations: [...groups], usage: 'client' }));
  }
  const sa = await newSigningKeyPair();
  const serviceAccount = { privateKey: join(dir, 'sa.key'), publicKey: join(dir, 'sa.pub') };
  writeFileSync(serviceAccount.privateKey, sa.privateKey, { mode: 0o600 });
  writeFileSync(serviceAccount.publicKey, sa.publicKey);
  return {
    dir,
    clusterCa: writePair(dir, 'ca', cluster),
    apiserverServing: writePair(dir, 'apiserver', serving),
    ...(opts.kubeletClient ? { apiserverKubeletClient: writePair(dir, 'apiserver-kubelet-client', await issueCertificate(cluster, { commonName: 'kube-apiserver-kubelet-client', organizations: ['system:masters'], usage: 'client' })) } : {}),
    frontProxyCa: writePair(dir, 'front-proxy-ca', frontProxy),
    frontProxyClient: writePair(dir, 'front-proxy-client', proxyClient),
    serviceAccount,
    users,
    cas: { cluster, frontProxy },
  };
}

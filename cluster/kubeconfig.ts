import { readFileSync, writeFileSync } from 'node:fs';
import { stringify } from 'yaml';

export interface KubeconfigUser {
  /** Client certificate and key files, embedded as data so the kubeconfig stands alone. */
  certFile?: string;
  keyFile?: string;
  token?: string;
}

/** A single-context kubeconfig, as `kubectl config view --flatten --minify` would print it. */
export function kubeconfigYaml(opts: { server: string; caFile: string; user: string; credentials: KubeconfigUser; namespace?: string; clusterName?: string }): string {
  const b64 = (f: string) => readFileSync(f).toString('base64');
  const cluster = opts.clusterName ?? 'kubectl-custom-local';
  const user: Record<string, string> = {};
  if (opts.credentials.certFile) user['client-certificate-data'] = b64(opts.credentials.certFile);
  if (opts.credentials.keyFile) user['client-key-data'] = b64(opts.credentials.keyFile);
  if (opts.credentials.token) user['token'] = opts.credentials.token;
  const context = `${opts.user}@${cluster}`;
  return stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: cluster, cluster: { server: opts.server, 'certificate-authority-data': b64(opts.caFile) } }],
    users: [{ name: opts.user, user }],
    contexts: [{ name: context, context: { cluster, user: opts.user, ...(opts.namespace ? { namespace: opts.namespace } : {}) } }],
    'current-context': context,
    preferences: {},
  });
}

export function writeKubeconfig(file: string, opts: Parameters<typeof kubeconfigYaml>[0]): string {
  writeFileSync(file, kubeconfigYaml(opts), { mode: 0o600 });
  return file;
}

// The Secrets a check names, read when it is measured (never cached beyond
// one measurement, never logged, never in a message): from the namespace of
// what declares the check. The backend may read Secrets only where it is
// allowed to (manifests/base/rbac-backend.yaml: custom-system; elsewhere a
// namespace binds the ClusterRole kubectl-custom-check-secrets to it).
import { ApiError } from '../../../client/src/errors.ts';
import type { RestClient } from '../../../client/src/rest-client.ts';

/** The ServiceAccount the backend runs as, for messages. */
const BACKEND = 'custom-system/kubectl-custom-backend';

export function secretReader(client: RestClient): (namespace: string, name: string, key: string) => Promise<string> {
  return async (namespace, name, key) => {
    const what = `Secret ${namespace}/${name}`;
    let secret: { data?: Record<string, string> };
    try {
      secret = await client.json('GET', `/api/v1/namespaces/${encodeURIComponent(namespace)}/secrets/${encodeURIComponent(name)}`, { timeoutMs: 10_000 });
    } catch (err) {
      if (err instanceof ApiError && err.code === 404) throw new Error(`${what}, named by the check, does not exist`, { cause: err });
      if (err instanceof ApiError && err.code === 403) throw new Error(`the backend may not read ${what}: bind the ClusterRole kubectl-custom-check-secrets to the ServiceAccount ${BACKEND} in namespace ${namespace} (kubectl create rolebinding kubectl-custom-check-secrets -n ${namespace} --clusterrole kubectl-custom-check-secrets --serviceaccount ${BACKEND.replace('/', ':')})`, { cause: err });
      throw new Error(`cannot read ${what}: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
    }
    const value = secret.data?.[key];
    if (value === undefined) throw new Error(`${what} has no key ${JSON.stringify(key)}`);
    return Buffer.from(value, 'base64').toString('utf8');
  };
}

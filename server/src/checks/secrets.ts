// The Secrets a check names, read when it is measured (never cached beyond
// one measurement, never logged, never in a message): from the namespace of
// what declares the check. The backend may read Secrets only in namespaces
// that bind it the ClusterRole SECRETS_ROLE (custom-system too); until then
// the check records an error that says how.
import { BACKEND_SERVICE_ACCOUNT, SECRETS_ROLE } from '../../../api/src/names.ts';
import { ApiError } from '../../../client/src/errors.ts';
import type { RestClient } from '../../../client/src/rest-client.ts';

const SA = `${BACKEND_SERVICE_ACCOUNT.namespace}:${BACKEND_SERVICE_ACCOUNT.name}`;

export function secretReader(client: RestClient): (namespace: string, name: string, key: string) => Promise<string> {
  return async (namespace, name, key) => {
    const what = `Secret ${namespace}/${name}`;
    let secret: { data?: Record<string, string> };
    try {
      secret = await client.json('GET', `/api/v1/namespaces/${encodeURIComponent(namespace)}/secrets/${encodeURIComponent(name)}`, { timeoutMs: 10_000 });
    } catch (err) {
      if (err instanceof ApiError && err.code === 404) throw new Error(`${what}, named by the check, does not exist`, { cause: err });
      if (err instanceof ApiError && err.code === 403) throw new Error(`the backend may not read ${what}: bind the ClusterRole ${SECRETS_ROLE} to its ServiceAccount in namespace ${namespace}: kubectl create rolebinding ${SECRETS_ROLE} -n ${namespace} --clusterrole=${SECRETS_ROLE} --serviceaccount=${SA}`, { cause: err });
      throw new Error(`cannot read ${what}: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
    }
    const value = secret.data?.[key];
    if (value === undefined) throw new Error(`${what} has no key ${JSON.stringify(key)}`);
    return Buffer.from(value, 'base64').toString('utf8');
  };
}

// The BackendStatus the Performance checks read (custom.example.com/v1
// backendstatuses: what the replica that answers says of itself, computed
// when read), and what those checks share: one check per question, each
// skipped with why when there is nothing to read, and what to do about a
// replica that is stuck.
import { BACKEND_STATUS_RESOURCE, GROUP, GROUP_PATH, SYSTEM_NAMESPACE } from '../../../../../api/src/names.ts';
import type { BackendCacheStatus, BackendStatus } from '../../../../../api/src/types.ts';
import { type Check, type Outcome, skip } from '../check.ts';
import type { Probe } from '../probe.ts';
import { backendOutsideCluster } from './installed.ts';

export const STATUS_PATH = `${GROUP_PATH}/${BACKEND_STATUS_RESOURCE}`;

const READER_ROLE = 'kubectl create clusterrolebinding backend-status-readers --clusterrole=kubectl-custom-admin --user=YOU';

type Read = { status: BackendStatus } | { outcome: Outcome };

/** The BackendStatus of the replica that answers (one GET, shared by the group's checks). */
async function readStatus(p: Probe): Promise<Read> {
  const got = await p.get<{ items?: BackendStatus[] }>(STATUS_PATH);
  if (!got.found) {
    if (got.forbidden) return { outcome: skip(`you may not list backendstatuses.${GROUP} (kubectl-custom-admin may, bound cluster-wide: ${READER_ROLE})`) };
    if (got.error) return { outcome: skip(`the API did not answer (${got.error}): see Installed and Available`) };
    return { outcome: skip(`the backend serves no backendstatuses.${GROUP}: it is older than this plugin (see Backend version)`) };
  }
  const status = got.object.items?.[0];
  return status ? { status } : { outcome: skip('no replica answered the list of backendstatuses') };
}

/** The BackendStatus read anew (not the run's shared one): for a check that must know it was read after something else. */
export async function readStatusAgain(p: Probe): Promise<BackendStatus | undefined> {
  try {
    return (await p.client.json<{ items?: BackendStatus[] }>('GET', STATUS_PATH)).items?.[0];
  } catch {
    return undefined;
  }
}

/** A check of the Performance group: skipped, with why, when there is no BackendStatus to read (the first says it in full). */
export function perf(id: string, title: string, judge: (st: BackendStatus, p: Probe) => Outcome | Promise<Outcome>, first = false): Check {
  return {
    id: `performance.${id}`,
    group: 'performance',
    title,
    async run(p) {
      const r = await readStatus(p);
      if ('outcome' in r) return first ? r.outcome : skip(`no BackendStatus to read: ${r.outcome.message}`);
      return judge(r.status, p);
    },
  };
}

export const cacheName = (c: BackendCacheStatus) => (c.name ? `${c.resource} ${c.namespace ? `${c.namespace}/` : ''}${c.name}` : c.resource);

/** What to do about a replica that is stuck or failing: look at its log, then replace it. */
export async function replicaHint(p: Probe, st: BackendStatus, what: string): Promise<string> {
  if ((await backendOutsideCluster(p)) !== undefined) return `${what}: look at the backend's log, then restart the backend process (it lists everything afresh)`;
  const pod = st.metadata.name;
  return [`kubectl -n ${SYSTEM_NAMESPACE} logs ${pod}`, `kubectl -n ${SYSTEM_NAMESPACE} delete pod ${pod}   (${what}: the Deployment starts a new replica, which lists everything afresh)`].join('\n');
}

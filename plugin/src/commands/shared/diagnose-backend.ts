// When the custom.example.com API as a whole does not answer (503 from the
// aggregator, or 404 because nothing serves the group), the useful message
// is the APIService's own condition: not installed, or installed and not
// available, and why. Asked here, by the command runner, so that mapping an
// error to an exit code stays pure.
import { APISERVICE, GROUP_PATH } from '../../../../api/src/names.ts';
import { ApiError } from '../../../../client/src/errors.ts';
import type { RestClient } from '../../../../client/src/rest-client.ts';
import { BackendUnavailableError } from '../../errors/errors.ts';


interface ApiServiceCondition {
  type: string;
  status: string;
  reason?: string;
  message?: string;
}

/** Whether an error says the whole API group is missing or unreachable, rather than one object. */
function groupUnreachable(e: unknown): e is ApiError {
  if (!(e instanceof ApiError) || !e.path.startsWith(GROUP_PATH)) return false;
  if (e.code === 503) return true;
  // kube-apiserver's 404 for a path nobody serves has no details; an object's NotFound names it.
  return e.code === 404 && !e.status?.details?.name;
}

/** The error to report for `err`: a BackendUnavailableError naming the APIService's condition when the group is unreachable, else `err`. */
export async function diagnoseBackend(err: unknown, client: RestClient | undefined): Promise<unknown> {
  if (!groupUnreachable(err)) return err;
  const fallback = `the custom.example.com API did not answer (HTTP ${err.code}: ${err.message.trim()})`;
  if (!client) return new BackendUnavailableError(fallback);
  try {
    const body = await client.json<{ status?: { conditions?: ApiServiceCondition[] } }>('GET', `/apis/apiregistration.k8s.io/v1/apiservices/${APISERVICE}`);
    const c = body.status?.conditions?.find((x) => x.type === 'Available');
    if (c && c.status !== 'True') {
      return new BackendUnavailableError(`the kubectl-custom backend is not available: APIService ${APISERVICE} is Available=${c.status} (${c.reason ?? 'no reason'}): ${c.message ?? ''}`.trimEnd());
    }
    return new BackendUnavailableError(`${fallback}; APIService ${APISERVICE} reports Available=${c?.status ?? 'unknown'}, so the backend may be restarting: try again`);
  } catch (e) {
    if (e instanceof ApiError && e.code === 404) {
      return new BackendUnavailableError(`the custom.example.com API is not installed in this cluster (there is no APIService ${APISERVICE}); install the kubectl-custom backend (kubectl apply -k manifests/base) or pick another --context`);
    }
    if (e instanceof ApiError && e.code === 403) return new BackendUnavailableError(`${fallback}, and you may not read APIService ${APISERVICE} to see why; ask a cluster admin`);
    return new BackendUnavailableError(fallback);
  }
}

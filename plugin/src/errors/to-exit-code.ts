// The one mapping from an error to what the user reads and the exit code:
// one line on stderr, kubectl's wording where kubectl has one, and for an
// unreachable custom.example.com API the APIService's own explanation.
import { APISERVICE, GROUP_PATH } from '../api/paths.ts';
import type { KubeClient } from '../kube/client.ts';
import { ApiError, ConfigError, ConnectionError, ExitError, UsageError } from './errors.ts';

export const DEFAULT_ERROR_EXIT_CODE = 1;

interface ApiServiceCondition {
  type: string;
  status: string;
  reason?: string;
  message?: string;
}

/** Whether an error says the whole API group is missing or unreachable, rather than one object. */
function groupUnreachable(e: ApiError): boolean {
  if (!e.path.startsWith(GROUP_PATH)) return false;
  if (e.code === 503) return true;
  // kube-apiserver's 404 for a path nobody serves has no details; an object's NotFound names it.
  return e.code === 404 && !e.status?.details?.name;
}

async function diagnoseApiService(client: KubeClient | undefined, e: ApiError): Promise<string> {
  const fallback = `the custom.example.com API did not answer (HTTP ${e.code}: ${e.message.trim()})`;
  if (!client) return fallback;
  try {
    const { body } = await client.json<{ status?: { conditions?: ApiServiceCondition[] } }>('GET', `/apis/apiregistration.k8s.io/v1/apiservices/${APISERVICE}`);
    const c = body.status?.conditions?.find((x) => x.type === 'Available');
    if (c && c.status !== 'True') {
      return `the kubectl-custom backend is not available: APIService ${APISERVICE} is Available=${c.status} (${c.reason ?? 'no reason'}): ${c.message ?? ''}`.trimEnd();
    }
    return `${fallback}; APIService ${APISERVICE} reports Available=${c?.status ?? 'unknown'}, so the backend may be restarting: try again`;
  } catch (err) {
    if (err instanceof ApiError && err.code === 404) {
      return `the custom.example.com API is not installed in this cluster (there is no APIService ${APISERVICE}); install the kubectl-custom backend (kubectl apply -k manifests/base) or pick another --context`;
    }
    if (err instanceof ApiError && err.code === 403) return `${fallback}, and you may not read APIService ${APISERVICE} to see why; ask a cluster admin`;
    return fallback;
  }
}

export async function describeError(err: unknown, client?: KubeClient): Promise<string> {
  if (err instanceof ConfigError || err instanceof ConnectionError) return `error: ${err.message}`;
  if (err instanceof UsageError) return `error: ${err.message.replace(/\n\s*/g, ' ')} (see "kubectl custom --help")`;
  if (err instanceof ApiError) {
    if (err.code === 401) return 'error: You must be logged in to the server (Unauthorized)';
    if (groupUnreachable(err)) return `error: ${await diagnoseApiService(client, err)}`;
    if (err.status?.reason) return `Error from server (${err.status.reason}): ${err.status.message ?? ''}`.replace(/\n+/g, '; ');
    return `error: the server answered HTTP ${err.code}: ${err.message.trim().split('\n')[0]}`;
  }
  return `error: ${err instanceof Error ? err.message : String(err)}`;
}

/** Writes the message for `err` and returns the exit code. */
export async function toExitCode(err: unknown, write: (s: string) => void, client?: KubeClient): Promise<number> {
  if (err instanceof ExitError) return err.code;
  write((await describeError(err, client)) + '\n');
  return DEFAULT_ERROR_EXIT_CODE;
}

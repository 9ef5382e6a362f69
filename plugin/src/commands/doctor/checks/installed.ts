// Installed and Available: the CRDs established, the APIService Available
// (else its condition's reason, what it usually means, and the backend's
// last log lines when the user may read them), the Service and its
// endpoints, the Deployment's replicas, restarts and OOM kills, and the
// backend's version against the plugin's. The same questions kube-aggregator
// and `kubectl get apiservice` answer, asked in one place.
import { APISERVICE, GROUP_PATH, SYSTEM_NAMESPACE } from '../../../../../api/src/names.ts';
import { VERSION_HEADER } from '../../../../../api/src/version.ts';
import { ApiError } from '../../../../../client/src/errors.ts';
import { type Check, fail, ok, skip, warn } from '../check.ts';
import type { Probe } from '../probe.ts';

export const BACKEND = 'kubectl-custom-backend';
export const CRDS = ['customresources.example.com', 'freezes.example.com', 'gatepolicies.example.com', 'notificationpolicies.example.com', 'statehistories.example.com'];
const APPLY = 'kubectl apply -k manifests/base   (or: helm upgrade --install kubectl-custom charts/kubectl-custom)';
const BACKEND_SELECTOR = 'app.kubernetes.io/name=kubectl-custom,app.kubernetes.io/component=backend';

interface Condition {
  type: string;
  status: string;
  reason?: string;
  message?: string;
}

interface Service {
  spec: { type?: string; externalName?: string };
}

interface Pod {
  metadata: { name: string };
  status?: { containerStatuses?: { name: string; ready?: boolean; restartCount?: number; lastState?: { terminated?: { reason?: string; finishedAt?: string } } }[] };
}

/** The Service the APIService sends to: an ExternalName one means the backend runs outside the cluster (the local stack). */
export async function backendOutsideCluster(p: Probe): Promise<string | undefined> {
  const svc = await p.get<Service>(`/api/v1/namespaces/${SYSTEM_NAMESPACE}/services/${BACKEND}`);
  return svc.found && svc.object.spec.type === 'ExternalName' ? (svc.object.spec.externalName ?? '') : undefined;
}

const crds: Check = {
  id: 'installed.crds',
  group: 'installed',
  title: 'CRDs established',
  async run(p) {
    const missing: string[] = [];
    for (const name of CRDS) {
      const crd = await p.get<{ status?: { conditions?: Condition[] } }>(`/apis/apiextensions.k8s.io/v1/customresourcedefinitions/${name}`);
      if (!crd.found && crd.forbidden) return skip('you may not read CustomResourceDefinitions');
      const established = crd.found && crd.object.status?.conditions?.some((c) => c.type === 'Established' && c.status === 'True');
      if (!established) missing.push(crd.found ? `${name} (not established)` : name);
    }
    return missing.length ? fail(`missing: ${missing.join(', ')}`, APPLY) : ok(CRDS.map((n) => n.split('.')[0]).join(', '));
  },
};

/** What an APIService reason usually means, and what to do about it. */
function apiServiceHint(c: Condition): string {
  const msg = c.message ?? '';
  if (c.reason === 'ServiceNotFound') return APPLY;
  if (c.reason === 'MissingEndpoints' || c.reason === 'EndpointsNotFound') return `no backend pod is ready: kubectl -n ${SYSTEM_NAMESPACE} get pods -l ${BACKEND_SELECTOR}`;
  if (/x509|certificate/i.test(msg)) return 'kube-apiserver does not trust the backend\'s serving certificate: kubectl custom install-certs   (or let cert-manager\'s CA injector set caBundle)';
  return `kubectl -n ${SYSTEM_NAMESPACE} logs deployment/${BACKEND}`;
}

/** The last lines of a backend pod's log, when the user may read them. */
async function lastLogLines(p: Probe): Promise<string | undefined> {
  const pods = await p.get<{ items: Pod[] }>(`/api/v1/namespaces/${SYSTEM_NAMESPACE}/pods?labelSelector=${encodeURIComponent(BACKEND_SELECTOR)}`);
  if (!pods.found || !pods.object.items.length) return undefined;
  const pod = pods.object.items.find((x) => !x.status?.containerStatuses?.every((s) => s.ready)) ?? pods.object.items[0]!;
  try {
    // Asked for as JSON, as kubectl asks: kube-apiserver refuses an Accept of text/plain (406) and then sends the log as text.
    const res = await p.client.stream(`/api/v1/namespaces/${SYSTEM_NAMESPACE}/pods/${pod.metadata.name}/log?tailLines=5`);
    let text = '';
    for await (const chunk of res as AsyncIterable<Buffer>) text += chunk.toString('utf8');
    return text.trim() ? `the last lines of ${pod.metadata.name}'s log:\n${text.trimEnd()}` : undefined;
  } catch {
    return undefined;
  }
}

const apiService: Check = {
  id: 'installed.apiservice',
  group: 'installed',
  title: `APIService ${APISERVICE}`,
  async run(p) {
    const got = await p.get<{ status?: { conditions?: Condition[] } }>(`/apis/apiregistration.k8s.io/v1/apiservices/${APISERVICE}`);
    if (!got.found) return got.forbidden ? skip('you may not read APIServices') : fail(`not installed${got.error ? ` (${got.error})` : ''}`, APPLY);
    const c = got.object.status?.conditions?.find((x) => x.type === 'Available');
    if (c?.status === 'True') return ok('Available');
    const logs = await lastLogLines(p);
    const cond = c ? `Available=${c.status} (${c.reason ?? 'no reason'})${c.message ? `: ${c.message}` : ''}` : 'no Available condition yet';
    return fail(cond, [apiServiceHint(c ?? { type: 'Available', status: 'Unknown' }), ...(logs ? [logs] : [])].join('\n'));
  },
};

const service: Check = {
  id: 'installed.service',
  group: 'installed',
  title: `Service ${SYSTEM_NAMESPACE}/${BACKEND}`,
  async run(p) {
    const svc = await p.get<Service>(`/api/v1/namespaces/${SYSTEM_NAMESPACE}/services/${BACKEND}`);
    if (!svc.found) return svc.forbidden ? skip('you may not read Services in custom-system') : fail('missing', APPLY);
    const external = await backendOutsideCluster(p);
    if (external !== undefined) return ok(`ExternalName ${external}: the backend runs outside the cluster (the local stack)`);
    const slices = await p.get<{ items: { endpoints?: { conditions?: { ready?: boolean } }[] }[] }>(`/apis/discovery.k8s.io/v1/namespaces/${SYSTEM_NAMESPACE}/endpointslices?labelSelector=${encodeURIComponent(`kubernetes.io/service-name=${BACKEND}`)}`);
    if (!slices.found) return skip('you may not read EndpointSlices in custom-system');
    const ready = slices.object.items.flatMap((s) => s.endpoints ?? []).filter((e) => e.conditions?.ready !== false).length;
    return ready ? ok(`${ready} ready endpoint${ready === 1 ? '' : 's'}`) : fail('no ready endpoint: no backend pod is Ready', `kubectl -n ${SYSTEM_NAMESPACE} get pods -l ${BACKEND_SELECTOR}`);
  },
};

const deployment: Check = {
  id: 'installed.deployment',
  group: 'installed',
  title: `Deployment ${SYSTEM_NAMESPACE}/${BACKEND}`,
  async run(p) {
    const d = await p.get<{ spec?: { replicas?: number }; status?: { readyReplicas?: number; updatedReplicas?: number } }>(`/apis/apps/v1/namespaces/${SYSTEM_NAMESPACE}/deployments/${BACKEND}`);
    if (!d.found) {
      if (d.forbidden) return skip('you may not read Deployments in custom-system');
      return (await backendOutsideCluster(p)) !== undefined ? skip('none: the backend runs outside the cluster') : fail('missing', APPLY);
    }
    const want = d.object.spec?.replicas ?? 1;
    const ready = d.object.status?.readyReplicas ?? 0;
    const pods = await p.get<{ items: Pod[] }>(`/api/v1/namespaces/${SYSTEM_NAMESPACE}/pods?labelSelector=${encodeURIComponent(BACKEND_SELECTOR)}`);
    const statuses = pods.found ? pods.object.items.flatMap((x) => (x.status?.containerStatuses ?? []).map((s) => ({ pod: x.metadata.name, ...s }))) : [];
    const restarts = statuses.reduce((n, s) => n + (s.restartCount ?? 0), 0);
    const oom = statuses.filter((s) => s.lastState?.terminated?.reason === 'OOMKilled').map((s) => s.pod);
    const text = `${ready}/${want} replicas ready, ${restarts} restart${restarts === 1 ? '' : 's'}${oom.length ? `, OOM-killed: ${oom.join(', ')}` : ''}`;
    if (ready === 0) return fail(text, `kubectl -n ${SYSTEM_NAMESPACE} describe deployment ${BACKEND}`);
    if (oom.length) return warn(text, `the backend ran out of memory: raise resources.limits.memory of the Deployment, or look at what it was serving (kubectl -n ${SYSTEM_NAMESPACE} logs ${oom[0]} --previous)`);
    if (ready < want) return warn(text, `kubectl -n ${SYSTEM_NAMESPACE} get pods -l ${BACKEND_SELECTOR}`);
    return restarts ? warn(text, `kubectl -n ${SYSTEM_NAMESPACE} logs <pod> --previous   (pods: ${statuses.filter((s) => s.restartCount).map((s) => s.pod).join(', ')})`) : ok(text);
  },
};

function versionCheck(pluginVersion: string): Check {
  return {
    id: 'installed.version',
    group: 'installed',
    title: 'Backend version',
    async run(p) {
      let res;
      try {
        res = await p.client.stream(GROUP_PATH);
        res.resume();
      } catch (e) {
        return skip(`the API did not answer${e instanceof ApiError ? ` (HTTP ${e.code})` : ''}`);
      }
      const server = String(res.headers[VERSION_HEADER] ?? '').replace(/^v/, '');
      if (!server) return warn('the backend did not say its version', 'upgrade the backend to this plugin\'s version');
      return server === pluginVersion ? ok(`v${server}, the same as this plugin`) : warn(`v${server}, this plugin is v${pluginVersion}`, 'use the plugin of the backend\'s version, or upgrade the backend (kubectl apply -k manifests/base with the new image)');
    },
  };
}

export function installedChecks(pluginVersion: string): Check[] {
  return [crds, apiService, service, deployment, versionCheck(pluginVersion)];
}

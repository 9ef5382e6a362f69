// Performance: what the backend says of itself in its BackendStatus
// (custom.example.com/v1 backendstatuses, computed when read: kube-aggregator
// proxies only the group's paths, so the backend's /metrics is out of the
// plugin's reach): its caches synced and how far behind kube-apiserver they
// are (cache-lag.ts), the watches it serves, request latency, memory against
// the container's limit, and requests in flight against its limits. Only the
// replica that answers is seen; another run may see another.
import { SYSTEM_NAMESPACE } from '../../../../../api/src/names.ts';
import type { InFlightSummary } from '../../../../../api/src/types.ts';
import { humanDuration, latencyText } from '../../../../../api/src/human-duration.ts';
import { type Check, fail, ok, warn } from '../check.ts';
import { cacheName, perf, replicaHint } from './backend-status.ts';
import { cacheLag } from './cache-lag.ts';
import { BACKEND } from './installed.ts';

/** Kubernetes' objective for single-object calls is 1 s at p99; kube-aggregator's discovery check gives up after 5 s, so a p99 that long makes the APIService flap. */
const SLOW_P99_SECONDS = 1;
const FAILING_P99_SECONDS = 5;
/** Of the memory limit, or of a limit of requests in flight. */
const HIGH_SHARE = 0.8;

const backend = perf(
  'backend',
  'Backend status',
  (st, p) => {
    const up = humanDuration(p.now.getTime() - Date.parse(st.status.startTime));
    return ok(`replica ${st.metadata.name} answered (${st.status.version}, up ${up}); each run sees the replica that answers`);
  },
  true,
);

const synced = perf('caches-synced', 'Caches synced', async (st, p) => {
  const caches = st.status.caches;
  const listing = caches.filter((c) => !c.synced);
  const down = caches.filter((c) => c.synced && !c.watching);
  if (listing.length) return fail(`not synced on ${st.metadata.name}: ${listing.map(cacheName).join(', ')} (still listing; until then the backend is not ready)`, await replicaHint(p, st, 'it cannot list'));
  // The reflector watches again within 5 s of a failure: worth a look only when it stays.
  if (down.length) return warn(`no watch open on ${st.metadata.name} for ${down.map(cacheName).join(', ')}: it is watching again`, `run kubectl custom doctor again; if it stays, kubectl -n ${SYSTEM_NAMESPACE} logs ${st.metadata.name}`);
  return ok(`${caches.length} synced and watching: ${caches.map((c) => `${cacheName(c)} (${c.objects})`).join(', ')}`);
});

const watches = perf('watches', 'Watches', (st) => ok(`${st.status.watches} open watch${st.status.watches === 1 ? '' : 'es'} of customresources on ${st.metadata.name}`));

const latency = perf('latency', 'Request latency', (st) => {
  const l = st.status.latency;
  const window = humanDuration(l.windowSeconds * 1000);
  if (!l.requests || l.p99Seconds === undefined) return ok(`no request finished in the last ${window}`);
  const ms = (s: number | undefined) => (s === undefined ? '?' : latencyText(s));
  const text = `p50 ${ms(l.p50Seconds)}, p99 ${ms(l.p99Seconds)} over the last ${window} (${l.requests} request${l.requests === 1 ? '' : 's'}, watches excluded) on ${st.metadata.name}`;
  const hint = `kubectl -n ${SYSTEM_NAMESPACE} top pod ${st.metadata.name}   (CPU held at its limit slows every request: raise resources.limits.cpu of deployment/${BACKEND}, or add replicas)`;
  if (l.p99Seconds >= FAILING_P99_SECONDS) return fail(`${text}: kube-aggregator's discovery check gives up after 5 s, so the APIService turns unavailable`, hint);
  if (l.p99Seconds > SLOW_P99_SECONDS) return warn(`${text}: over Kubernetes' 1 s objective for single-object calls`, hint);
  return ok(text);
});

const MiB = 2 ** 20;

const memory = perf('memory', 'Memory', (st) => {
  const m = st.status.memory;
  const rss = `${Math.round(m.rssBytes / MiB)}Mi`;
  if (!m.limitBytes) return ok(`RSS ${rss} on ${st.metadata.name}, no memory limit (not in a container, or none set)`);
  const share = m.rssBytes / m.limitBytes;
  const text = `RSS ${rss} of a ${Math.round(m.limitBytes / MiB)}Mi limit (${Math.round(share * 100)}%) on ${st.metadata.name}`;
  if (share > HIGH_SHARE) return warn(`${text}: at the limit the container is OOM-killed`, `raise resources.limits.memory of deployment/${BACKEND} in ${SYSTEM_NAMESPACE} (it holds every object in memory: about 120 MiB for 6,000 objects)`);
  return ok(text);
});

function inFlightText(kind: string, s: InFlightSummary): string {
  const limit = s.limit > 0 ? ` of ${s.limit}` : ' (no limit)';
  return `${kind} ${s.current}${limit} now, peak ${s.peak}${s.rejected ? `, ${s.rejected} refused with 429` : ''}`;
}

const inFlight = perf('in-flight', 'Requests in flight', (st) => {
  const f = st.status.inFlight;
  const text = `${inFlightText('read', f.nonMutating)}; ${inFlightText('mutating', f.mutating)} (over the last ${humanDuration(f.windowSeconds * 1000)}, on ${st.metadata.name})`;
  const near = (s: InFlightSummary) => s.rejected > 0 || (s.limit > 0 && s.peak >= HIGH_SHARE * s.limit);
  if (near(f.nonMutating) || near(f.mutating)) return warn(`${text}: at or near the limit`, `add replicas (kubectl -n ${SYSTEM_NAMESPACE} scale deployment ${BACKEND} --replicas=3), or raise --max-requests-inflight / --max-mutating-requests-inflight in its args`);
  return ok(text);
});

export const performanceChecks: Check[] = [backend, synced, cacheLag, watches, latency, memory, inFlight];

// The objects the scenarios run on, made as users make them (through
// kube-apiserver, on the storage CRD), and what the bench checks of them
// before it measures: every object carries the backend's finalizer (so no
// finalizer work runs in the background), windows are full where the
// memory figures say so, and the backend's cache holds them all.
import { FINALIZER } from '../api/src/names.ts';
import type { HistoryEntry } from '../api/src/types.ts';
import { append, HISTORY_WINDOW } from '../server/src/state/history.ts';
import { pool, type BenchClient } from './http-client.ts';

export const CUSTOM = '/apis/custom.example.com/v1';
export const STORAGE = '/apis/example.com/v1';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Listed {
  metadata: { name: string; namespace: string; finalizers?: string[]; resourceVersion?: string };
  status?: { state?: string; history?: { seq?: number; reason?: string }[] };
}
interface ListPage {
  metadata: { resourceVersion: string; continue?: string; remainingItemCount?: number };
  items: Listed[];
}

export async function getJson<T>(c: BenchClient, path: string): Promise<T> {
  const r = await c.call('GET', path);
  if (r.status !== 200) throw new Error(`GET ${path}: HTTP ${r.status} ${r.text.slice(0, 300)}`);
  return JSON.parse(r.text) as T;
}

async function createNamespace(c: BenchClient, name: string): Promise<void> {
  const r = await c.call('POST', '/api/v1/namespaces', { metadata: { name } });
  if (r.status !== 201 && r.status !== 409) throw new Error(`namespace ${name}: ${r.status} ${r.text}`);
}

function noFinalizer(ns: string, name: string, finalizers: string[] | undefined): Error {
  return new Error(`${ns}/${name} has no ${FINALIZER} finalizer (finalizers: ${JSON.stringify(finalizers ?? [])}): the backend would add it in the background while the bench measures; is the MutatingAdmissionPolicy of manifests/base applied?`);
}

/**
 * Creates `count` objects `<prefix>-<i>` in `ns`; each must come back from
 * kube-apiserver with the backend's finalizer already set (the
 * MutatingAdmissionPolicy adds it on CREATE), else this throws.
 */
export async function createObjects(c: BenchClient, ns: string, count: number, opts: { prefix?: string; states?: string[]; labels?: Record<string, string> } = {}): Promise<void> {
  await createNamespace(c, ns);
  const states = opts.states ?? ['dev', 'staging', 'prod'];
  await pool(32, Array.from({ length: count }, (_, i) => async () => {
    const name = `${opts.prefix ?? 'obj'}-${i}`;
    const r = await c.call('POST', `${STORAGE}/namespaces/${ns}/customresources`, {
      apiVersion: 'example.com/v1', kind: 'CustomResource',
      metadata: { name, labels: { bench: 'yes', ...(opts.labels ?? {}) } },
      spec: { name: `Object ${i} of the benchmark`, states, protectedStates: [states[states.length - 1]!], minSoakSeconds: { [states[0]!]: 0 } },
    });
    if (r.status !== 201) throw new Error(`create ${ns}/${name}: ${r.status} ${r.text.slice(0, 200)}`);
    const made = JSON.parse(r.text) as Listed;
    if (!made.metadata.finalizers?.includes(FINALIZER)) throw noFinalizer(ns, name, made.metadata.finalizers);
  }));
}

/** A full window of history entries, as a long-lived object has (numbered, chained, as the backend writes them). */
function fullWindow(): HistoryEntry[] {
  let window: HistoryEntry[] = [];
  for (let i = 0; i < HISTORY_WINDOW; i++) {
    window = append(window, { action: 'promote', from: 'dev', to: 'staging', user: `system:serviceaccount:ci-${i % 7}:deployer`, time: new Date(Date.UTC(2026, 0, 1, 0, i)).toISOString(), reason: `release 1.${i}: tests green, approved in change CHG-${1000 + i}` }).window;
  }
  return window;
}

/** Gives objects `<prefix>-<from>` … `<prefix>-<to - 1>` of `ns` a full status.history window, so the memory samples hold what a real cache holds. */
export async function fillWindows(c: BenchClient, ns: string, count: number, prefix = 'obj', from = 0): Promise<void> {
  const window = fullWindow();
  await pool(32, Array.from({ length: count }, (_, k) => async () => {
    const name = `${prefix}-${from + k}`;
    const r = await c.call('PATCH', `${STORAGE}/namespaces/${ns}/customresources/${name}/status`, { status: { state: 'staging', stateSince: window.at(-1)!.time, history: window } }, 'application/merge-patch+json');
    if (r.status !== 200) throw new Error(`fill ${ns}/${name}: ${r.status} ${r.text.slice(0, 200)}`);
  }));
}

/** How many objects the backend serves (in `ns`, or in all namespaces). */
export async function cachedCount(c: BenchClient, ns?: string): Promise<number> {
  const page = await getJson<ListPage>(c, `${CUSTOM}${ns ? `/namespaces/${ns}` : ''}/customresources?limit=1`);
  return page.items.length + (page.metadata.remainingItemCount ?? 0);
}

/** Waits until the backend serves exactly `count` objects (in `ns`, or in all namespaces). */
export async function waitCache(c: BenchClient, ns: string | undefined, count: number, timeoutMs = 120_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let n = -1;
  while (Date.now() < deadline) {
    n = await cachedCount(c, ns);
    if (n === count) return;
    await sleep(200);
  }
  throw new Error(`the backend serves ${n} objects in ${ns ?? 'all namespaces'}, not ${count}, ${timeoutMs / 1000} s on`);
}

/** Every object of a list, page by page (`base` is CUSTOM or STORAGE). */
async function listAll(c: BenchClient, base: string, ns?: string, pageSize = 500): Promise<Listed[]> {
  const out: Listed[] = [];
  let cont: string | undefined;
  do {
    const page = await getJson<ListPage>(c, `${base}${ns ? `/namespaces/${ns}` : ''}/customresources?limit=${pageSize}${cont ? `&continue=${encodeURIComponent(cont)}` : ''}`);
    out.push(...page.items);
    cont = page.metadata.continue || undefined;
  } while (cont);
  return out;
}

/**
 * Waits until the backend (what its cache holds) serves `expected` objects,
 * every one with a full history window (the fills' events may still be on
 * their way); throws naming the first few that are not, `timeoutMs` on.
 */
export async function checkWindowsFull(c: BenchClient, expected: number, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const items = await listAll(c, CUSTOM);
    const short = items.filter((o) => (o.status?.history?.length ?? 0) !== HISTORY_WINDOW);
    if (items.length === expected && short.length === 0) return;
    if (Date.now() > deadline) {
      throw new Error(`the backend serves ${items.length} objects (${expected} expected), ${short.length} of them without a full window of ${HISTORY_WINDOW} entries: ${short.slice(0, 5).map((o) => `${o.metadata.namespace}/${o.metadata.name} (${o.status?.history?.length ?? 0})`).join(', ')}`);
    }
    await sleep(1000);
  }
}

/** Checks, on the storage CRD, that every object in `ns` carries the backend's finalizer. */
export async function checkFinalizers(c: BenchClient, ns: string): Promise<number> {
  const items = await listAll(c, STORAGE, ns);
  for (const o of items) if (!o.metadata.finalizers?.includes(FINALIZER)) throw noFinalizer(ns, o.metadata.name, o.metadata.finalizers);
  return items.length;
}

/**
 * Deletes every object of `ns` (the backend's finalizer archives each trail
 * and releases it) and waits until kube-apiserver and the backend have none.
 */
export async function deleteObjects(c: BenchClient, ns: string, timeoutMs = 120_000): Promise<void> {
  const r = await c.call('DELETE', `${STORAGE}/namespaces/${ns}/customresources`);
  if (r.status !== 200) throw new Error(`delete the objects of ${ns}: ${r.status} ${r.text.slice(0, 200)}`);
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const left = (await getJson<ListPage>(c, `${STORAGE}/namespaces/${ns}/customresources?limit=1`)).items.length;
    if (left === 0) break;
    if (Date.now() > deadline) throw new Error(`objects of ${ns} still there ${timeoutMs / 1000} s after their deletion (the backend's finalizer not released?)`);
    await sleep(250);
  }
  await waitCache(c, ns, 0);
}

/**
 * kube-apiserver's request counters (apiserver_request_total), summed by
 * `VERB group/resource[/subresource]`; non-resource requests left out.
 */
export function parseRequestCounts(metricsText: string): Map<string, number> {
  const out = new Map<string, number>();
  const prefix = 'apiserver_request_total{';
  for (const line of metricsText.split('\n')) {
    if (!line.startsWith(prefix)) continue;
    const end = line.lastIndexOf('}');
    const labels = Object.fromEntries([...line.slice(prefix.length, end).matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((m) => [m[1]!, m[2]!]));
    if (!labels['resource']) continue;
    const key = `${labels['verb']} ${labels['group'] || 'core'}/${labels['resource']}${labels['subresource'] ? `/${labels['subresource']}` : ''}`;
    out.set(key, (out.get(key) ?? 0) + Number(line.slice(end + 1).trim()));
  }
  return out;
}

export async function apiserverRequests(c: BenchClient): Promise<Map<string, number>> {
  return parseRequestCounts(await c.text('/metrics'));
}

export function requestDiff(before: Map<string, number>, after: Map<string, number>): Map<string, number> {
  const out = new Map<string, number>();
  for (const [k, v] of after) {
    const d = v - (before.get(k) ?? 0);
    if (d > 0) out.set(k, d);
  }
  return out;
}

export function addRequests(into: Map<string, number>, more: Map<string, number>): void {
  for (const [k, v] of more) into.set(k, (into.get(k) ?? 0) + v);
}

/** `2.00 PUT example.com/customresources/status, 0.31 POST core/events, …` per change, largest first, rare ones left out. */
export function perChange(requests: Map<string, number>, changes: number, least = 0.01): string {
  return [...requests].map(([k, v]) => [k, v / changes] as const).filter(([, v]) => v >= least).sort((a, b) => b[1] - a[1]).map(([k, v]) => `${v.toFixed(2)} ${k}`).join(', ') || 'none';
}

export const totalOf = (m: Map<string, number>) => [...m.values()].reduce((a, b) => a + b, 0);

/** A counter or gauge of the backend's /metrics (summed over its label sets). */
export function metric(text: string, name: string, labels?: Record<string, string>): number {
  let sum = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(name) || (line[name.length] !== '{' && line[name.length] !== ' ')) continue;
    if (labels && !Object.entries(labels).every(([k, v]) => line.includes(`${k}="${v}"`))) continue;
    sum += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return sum;
}

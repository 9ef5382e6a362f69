// How far behind kube-apiserver the backend's caches are, from outside the
// backend: for each cache it keeps, kube-apiserver is asked where it is (a
// consistent LIST of the same collection, limit=1 and no resourceVersion:
// served as of now), then the backend where its cache is (its BackendStatus,
// read after those lists), and, where the cache is at an older
// resourceVersion, kube-apiserver replays what changed in that collection
// since (a watch from the cache's resourceVersion: kube-apiserver sends the
// changes it keeps at once, in order).
//
// Being at an older resourceVersion is normal: etcd's revision moves with
// every write in the cluster, and kube-apiserver bookmarks a watch only once
// its own cache of that collection has moved past where the watch began, so
// a cache of a collection nobody changes may hear nothing for many minutes.
// Silence alone says nothing; changes kube-apiserver had before the backend
// answered, and that the cache still lacks, do. A healthy watch delivers a
// change within milliseconds, so the backend is asked once more a second
// later (only then); what it still lacks is lacked, and:
// - × stale: it has heard nothing at all for over 10 s, with changes waiting:
//   its watch is open but nothing comes through (a connection that lost its
//   way, a kube-apiserver watch that stopped); it serves and decides gates
//   on what it saw last;
// - ‼ behind: it hears, but late (the backend or kube-apiserver is too busy).
import { compareResourceVersions } from '../../../../../api/src/resource-version.ts';
import type { BackendCacheStatus } from '../../../../../api/src/types.ts';
import { readWatchStream } from '../../../../../client/src/watch-stream.ts';
import { ApiError } from '../../../../../client/src/errors.ts';
import { fail, ok, skip, warn } from '../check.ts';
import type { Probe } from '../probe.ts';
import { cacheName, perf, readStatusAgain, replicaHint } from './backend-status.ts';

/** kube-apiserver replays what it keeps as soon as the watch opens: this long after its headers with nothing, there is nothing. */
export const REPLAY_QUIET_MS = 300;
/** A healthy watch delivers a change in milliseconds: a second later, what the cache lacks is lacked. */
export const RECHECK_MS = 1000;
/** Changes waiting and nothing heard for this long: stuck, not slow. */
export const STUCK_AFTER_SECONDS = 10;

/** Where kube-apiserver serves a cache's collection (every one the backend keeps is v1). */
interface Source {
  path: string;
  fieldSelector?: string;
  /** Only this namespace of a cluster-wide cache (the user may list no more). */
  namespace?: string;
}

function sourcesOf(c: BackendCacheStatus, userNamespace: string): Source[] {
  const dot = c.resource.indexOf('.');
  const plural = dot < 0 ? c.resource : c.resource.slice(0, dot);
  const group = dot < 0 ? '' : c.resource.slice(dot + 1);
  if (!/^[a-z0-9-]+$/.test(plural) || !/^[a-z0-9.-]*$/.test(group)) return [];
  const base = group ? `/apis/${group}/v1` : '/api/v1';
  const at = (ns: string | undefined) => `${base}${ns ? `/namespaces/${encodeURIComponent(ns)}` : ''}/${plural}`;
  const fieldSelector = c.name ? { fieldSelector: `metadata.name=${c.name}` } : {};
  if (c.namespace) return [{ path: at(c.namespace), ...fieldSelector }];
  return [{ path: at(undefined), ...fieldSelector }, { path: at(userNamespace), namespace: userNamespace, ...fieldSelector }];
}

export interface Latest {
  rv?: string;
  /** Objects kube-apiserver has, when the list says (cluster-wide, without a selector). */
  count?: number;
  /** Why kube-apiserver's position is not known. */
  why?: string;
  source?: Source;
}

/** Where kube-apiserver is for this cache's collection: a consistent LIST of one item; the user's namespace when they may list no more. */
async function latestOf(p: Probe, c: BackendCacheStatus): Promise<Latest> {
  for (const source of sourcesOf(c, p.namespace)) {
    const query = `?limit=1${source.fieldSelector ? `&fieldSelector=${encodeURIComponent(source.fieldSelector)}` : ''}`;
    const got = await p.get<{ metadata?: { resourceVersion?: string; continue?: string; remainingItemCount?: number }; items?: unknown[] }>(source.path + query);
    if (!got.found) {
      if (got.forbidden) continue;
      return { why: got.error ?? `${source.path} is not served` };
    }
    const m = got.object.metadata ?? {};
    const n = got.object.items?.length ?? 0;
    const whole = !source.namespace && !source.fieldSelector;
    const count = !whole ? undefined : !m.continue ? n : m.remainingItemCount !== undefined ? n + m.remainingItemCount : undefined;
    return { rv: m.resourceVersion ?? '', ...(count === undefined ? {} : { count }), source };
  }
  return { why: `you may not list ${c.resource}` };
}

export interface Replay {
  /** Changes kube-apiserver had by the list's resourceVersion after the cache's (counted up to 1,000). */
  missed: number;
  firstRv?: string;
  lastRv?: string;
  /** kube-apiserver keeps no changes that old: more happened since than it keeps (410 Gone). */
  tooOld?: boolean;
  error?: string;
}

/** The changes of `source` after `from` and up to `until`, as kube-apiserver replays them to a watch from `from`. */
async function replay(p: Probe, source: Source, from: string, until: string): Promise<Replay> {
  const r: Replay = { missed: 0 };
  const abort = new AbortController();
  // A backstop: kube-apiserver ends the watch after a second anyway.
  let timer = setTimeout(() => abort.abort(), 3000);
  const quiet = () => {
    clearTimeout(timer);
    timer = setTimeout(() => abort.abort(), REPLAY_QUIET_MS);
  };
  try {
    const query = { watch: 'true', resourceVersion: from, allowWatchBookmarks: 'false', timeoutSeconds: '1', ...(source.fieldSelector ? { fieldSelector: source.fieldSelector } : {}) };
    const res = await p.client.stream(source.path, { query, signal: abort.signal });
    quiet();
    await readWatchStream(res, (ev) => {
      if (ev.type === 'ERROR') {
        const code = (ev.object as { code?: number }).code;
        if (code === 410) r.tooOld = true;
        else r.error = (ev.object as { message?: string }).message ?? `error ${code}`;
        return false;
      }
      const rv = (ev.object as { metadata?: { resourceVersion?: string } }).metadata?.resourceVersion ?? '';
      // In order: past the list's resourceVersion, everything before it has been replayed.
      if ((compareResourceVersions(rv, until) ?? 1) > 0) return false;
      r.missed++;
      r.firstRv ??= rv;
      r.lastRv = rv;
      quiet();
      return r.missed < 1000;
    });
  } catch (e) {
    if (e instanceof ApiError && e.code === 410) r.tooOld = true;
    else if (!abort.signal.aborted) r.error = e instanceof Error ? e.message : String(e);
  } finally {
    clearTimeout(timer);
  }
  return r;
}

export interface CacheVerdict {
  cache: BackendCacheStatus;
  level: 'ok' | 'behind' | 'stale' | 'unknown';
  text: string;
}

/** One cache, as the backend last said, against what kube-apiserver had and replayed. Pure. */
export function judgeCache(c: BackendCacheStatus, latest: Latest, r: Replay | undefined): CacheVerdict {
  const name = cacheName(c);
  if (latest.why !== undefined || latest.rv === undefined) return { cache: c, level: 'unknown', text: `${name} (not compared: ${latest.why ?? 'no resourceVersion'})` };
  const at = `${name} at ${c.resourceVersion || '(none)'}`;
  if (!r) return { cache: c, level: 'ok', text: at };
  if (r.error !== undefined) return { cache: c, level: 'unknown', text: `${at} (not compared: ${r.error})` };
  // Caught up since (the second look), or nothing to catch up with.
  const needed = r.tooOld ? latest.rv : r.lastRv;
  if (needed === undefined || (compareResourceVersions(c.resourceVersion, needed) ?? -1) >= 0) return { cache: c, level: 'ok', text: at };
  const what = r.tooOld
    ? `lacks more changes than kube-apiserver still keeps (it is at ${latest.rv})`
    : `lacks ${r.missed}${r.missed >= 1000 ? '+' : ''} change${r.missed === 1 ? '' : 's'} kube-apiserver had by ${latest.rv} (the first at ${r.firstRv})`;
  const counted = latest.count !== undefined && latest.count !== c.objects ? `, holds ${c.objects} object${c.objects === 1 ? '' : 's'} where kube-apiserver has ${latest.count}` : '';
  const quiet = c.secondsSinceLastEvent;
  const text = `${at} ${what}${counted}, and last heard from kube-apiserver ${quiet === undefined ? 'never' : `${quiet}s ago`}`;
  return { cache: c, level: quiet === undefined || quiet > STUCK_AFTER_SECONDS ? 'stale' : 'behind', text };
}

export const cacheLag = perf('cache-lag', 'Caches up to date', async (first, p) => {
  const caches = first.status.caches.filter((c) => c.synced);
  if (!caches.length) return skip('no cache has synced yet (see Caches synced)');
  // kube-apiserver first, then the backend: whatever the lists saw, a healthy backend had by the time it answered.
  const latest = await Promise.all(caches.map((c) => latestOf(p, c)));
  const then = (await readStatusAgain(p)) ?? first;
  const now = (st: typeof first) => new Map(st.status.caches.map((c) => [cacheName(c), c]));
  const atThen = now(then);
  const replays = await Promise.all(
    caches.map((c0, i) => {
      const c = atThen.get(cacheName(c0)) ?? c0;
      const l = latest[i]!;
      if (l.rv === undefined || !l.source || (compareResourceVersions(c.resourceVersion, l.rv) ?? -1) >= 0) return undefined;
      return replay(p, l.source, c.resourceVersion, l.rv);
    }),
  );
  // Changes waiting: a second for them to arrive, then the backend is asked again (the same replica, or its first answer stands).
  let last = then;
  if (replays.some((r) => r && (r.missed > 0 || r.tooOld))) {
    await new Promise((resolve) => setTimeout(resolve, RECHECK_MS));
    const again = await readStatusAgain(p);
    if (again?.metadata.name === then.metadata.name) last = again;
  }
  const atLast = now(last);
  const verdicts = caches.map((c0, i) => judgeCache(atLast.get(cacheName(c0)) ?? c0, latest[i]!, replays[i]));
  const by = (level: CacheVerdict['level']) => verdicts.filter((v) => v.level === level);
  const replica = last.metadata.name;
  if (by('stale').length) {
    return fail(
      `stale on ${replica}: ${by('stale').map((v) => v.text).join('; ')}. Its watch is stuck: those changes are not served, and gates are decided on what it saw last`,
      await replicaHint(p, last, `its watch of ${by('stale').map((v) => cacheName(v.cache)).join(', ')} is stuck`),
    );
  }
  if (by('behind').length) return warn(`behind on ${replica}: ${by('behind').map((v) => v.text).join('; ')}: it hears from kube-apiserver, but late`, `run kubectl custom doctor again: a cache that lacks changes and hears nothing for ${STUCK_AFTER_SECONDS} s is stuck`);
  const unknown = by('unknown');
  if (unknown.length === verdicts.length) return skip(`not compared with kube-apiserver: ${unknown.map((v) => v.text).join('; ')}`);
  const newest = latest.map((l) => l.rv).filter((rv): rv is string => rv !== undefined).reduce((a, b) => ((compareResourceVersions(a, b) ?? 0) >= 0 ? a : b));
  return ok(`${by('ok').length} cache${by('ok').length === 1 ? ' has' : 's have'} every change kube-apiserver has (it is at ${newest}): ${by('ok').map((v) => v.text).join(', ')}${unknown.length ? `; ${unknown.map((v) => v.text).join('; ')}` : ''}`);
});

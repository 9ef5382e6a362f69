// Decisions on fresh gates (issue 23): a state change (set-state, promote,
// approve, dry run or not) is decided on GatePolicies and Freezes at least as
// new as every write kube-apiserver acknowledged before the request, so a
// `kubectl custom freeze` that has returned holds the next promote on every
// replica. The watch-fed caches are brought up to date by a consistent read
// first (store/consistent-collection.ts); the rules themselves stay as they
// are (state-rest.ts, approve-rest.ts).
import type { StoredObject } from '../../../../api/src/types.ts';
import { StatusError } from '../../status/status-error.ts';
import type { SubresourceHandler } from './handlers.ts';

/** How long a read of the history waits for the cache to show the object as a quorum read found it. */
const CATCH_UP_MS = 1_000;

/** The changes: the verbs of each subresource that decide on gates (GET …/state only describes). */
const CHANGES: Readonly<Record<string, readonly string[]>> = { state: ['update'], promote: ['create'], approve: ['create'] };

/** The reads of the object that answer on it as a quorum read finds it: the verb of each subresource. */
const READS: Readonly<Record<string, string>> = { state: 'get', check: 'create', history: 'get' };

/** Every source's consistent read, in parallel. */
export function freshAll(...sources: { fresh(): Promise<void> }[]): () => Promise<void> {
  return async () => {
    await Promise.all(sources.map((s) => s.fresh()));
  };
}

/** The subresource handlers, those that change state awaiting `fresh` before they decide. */
export function withFreshGates(fresh: () => Promise<void>, handlers: Record<string, SubresourceHandler>): Record<string, SubresourceHandler> {
  const out: Record<string, SubresourceHandler> = {};
  for (const [name, h] of Object.entries(handlers)) {
    const verbs = CHANGES[name];
    out[name] = !verbs
      ? h
      : {
          verbs: h.verbs,
          async handle(req, res, info, user, url) {
            if (verbs.includes(info.verb)) await fresh();
            return h.handle(req, res, info, user, url);
          },
        };
  }
  return out;
}

/**
 * The reads of a subresource as new as every write acknowledged before the
 * request (issue 23), as GET of the object is: a quorum read of the storage
 * object (NotFound when it is gone).
 *
 * - GET …/state (describe-state) and POST …/check are answered on the object
 *   that read returns (the cache's copy when it is that version), and on
 *   GatePolicies and Freezes brought up to date by `gates` first (both at
 *   once), as a change is decided: describe-state shows the gates the next
 *   move would face, check measures the checks it would need. The plugin
 *   reads describe-state to send `from` with the next change: two commands in
 *   a row through two replicas no longer collide with a state the first has
 *   left.
 * - GET …/history reads the trail once the watch cache has reached the
 *   resourceVersion the quorum read found (its event is on its way; a second
 *   at most, then it answers with what it has).
 */
export function withFreshObject(
  object: { get(namespace: string, name: string): Promise<StoredObject> },
  cache: { waitFor(rv: number, timeoutMs: number): Promise<boolean> },
  handlers: Record<string, SubresourceHandler>,
  gates: () => Promise<void> = async () => {},
): Record<string, SubresourceHandler> {
  const out: Record<string, SubresourceHandler> = {};
  for (const [name, h] of Object.entries(handlers)) {
    const reads = READS[name];
    out[name] = !reads
      ? h
      : {
          verbs: h.verbs,
          async handle(req, res, info, user, url) {
            if (info.verb !== reads) return h.handle(req, res, info, user, url);
            if (name !== 'history') {
              const [now] = await Promise.all([object.get(info.namespace, info.name), gates()]);
              return h.handle(req, res, info, user, url, now);
            }
            let now: StoredObject | undefined;
            try {
              now = await object.get(info.namespace, info.name);
            } catch (err) {
              // Gone: the history of earlier lives is still served from the archive.
              if (!(err instanceof StatusError && err.status.code === 404)) throw err;
            }
            if (now) await cache.waitFor(Number(now.metadata.resourceVersion), CATCH_UP_MS);
            return h.handle(req, res, info, user, url);
          },
        };
  }
  return out;
}

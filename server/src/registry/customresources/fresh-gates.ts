// Decisions on fresh gates (issue 23): a state change (set-state, promote,
// approve, dry run or not) is decided on GatePolicies and Freezes at least as
// new as every write kube-apiserver acknowledged before the request, so a
// `kubectl custom freeze` that has returned holds the next promote on every
// replica. The watch-fed caches are brought up to date by a consistent read
// first (store/consistent-collection.ts); the rules themselves stay as they
// are (state-rest.ts, approve-rest.ts).
import type { SubresourceHandler } from './handlers.ts';

/** The changes: the verbs of each subresource that decide on gates (GET …/state only describes). */
const CHANGES: Readonly<Record<string, readonly string[]>> = { state: ['update'], promote: ['create'], approve: ['create'] };

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

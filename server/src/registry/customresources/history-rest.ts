// GET …/customresources/NAME/history: the whole trail of an object, its
// live window joined to its archived segments, then the earlier lives of the
// same namespace/name (deleted and re-created objects), most recent first.
// Authorized like any read of the object (get on customresources/history in
// its namespace); the backend reads the archive with its own credentials.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { GROUP_RESOURCE, GROUP_VERSION, HISTORY_DOCUMENT_KIND } from '../../../../api/src/names.ts';
import type { CustomResourceHistory, HistoryEntry, HistoryLife, StateHistorySegment, StoredObject } from '../../../../api/src/types.ts';
import { negotiate, PLAIN_TARGETS } from '../../http/negotiate.ts';
import { writeObject } from '../../http/respond.ts';
import type { RequestInfo } from '../../request/request-info.ts';
import { normalize } from '../../state/history.ts';
import { newNotFound, newServiceUnavailable } from '../../status/status-error.ts';
import type { HistoryArchive } from '../../store/history-archive.ts';
import type { StatusStore } from '../../store/status-store.ts';
import type { SubresourceHandler } from './handlers.ts';

/** Entries by seq, oldest first; the same seq twice (a segment written before a crash kept it in the window) once. */
function merged(...parts: HistoryEntry[][]): HistoryEntry[] {
  const bySeq = new Map<number, HistoryEntry>();
  for (const part of parts) for (const e of part) if (e.seq !== undefined) bySeq.set(e.seq, e);
  return [...bySeq.values()].sort((a, b) => a.seq! - b.seq!);
}

/** The trail of every life of namespace/name: the live one first, then earlier ones, most recent first. */
function livesOf(live: StoredObject | undefined, segments: readonly StateHistorySegment[]): HistoryLife[] {
  const byUid = new Map<string, HistoryEntry[][]>();
  for (const s of segments) {
    const parts = byUid.get(s.spec.object.uid) ?? [];
    parts.push(s.spec.entries);
    byUid.set(s.spec.object.uid, parts);
  }
  const lives: HistoryLife[] = [];
  const liveUid = live?.metadata.uid;
  if (live && liveUid) lives.push({ uid: liveUid, live: true, entries: merged(...(byUid.get(liveUid) ?? []), normalize(live.status?.history ?? [])) });
  const earlier = [...byUid.entries()].filter(([uid]) => uid !== liveUid).map(([uid, parts]) => ({ uid, live: false, entries: merged(...parts) }));
  // Most recent life first: by the time of its last entry (its deletion).
  earlier.sort((a, b) => (b.entries.at(-1)?.time ?? '').localeCompare(a.entries.at(-1)?.time ?? ''));
  return [...lives, ...earlier];
}

export function historyRest(deps: { store: StatusStore; archive: HistoryArchive }): SubresourceHandler {
  return {
    verbs: ['get'],
    async handle(req: IncomingMessage, res: ServerResponse, info: RequestInfo) {
      const target = negotiate(req.headers.accept, PLAIN_TARGETS);
      if (!deps.store.synced) throw newServiceUnavailable('the cache of customresources.example.com is not synced yet; retry in a few seconds');
      const live = deps.store.cached(info.namespace, info.name);
      const lives = livesOf(live, await deps.archive.segmentsOf(info.namespace, info.name));
      if (lives.length === 0) throw newNotFound(GROUP_RESOURCE, info.name);
      const doc: CustomResourceHistory = { kind: HISTORY_DOCUMENT_KIND, apiVersion: GROUP_VERSION, metadata: { name: info.name, namespace: info.namespace }, lives };
      writeObject(res, 200, doc, target);
    },
  };
}

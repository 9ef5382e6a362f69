// The archived trail: immutable StateHistory segments in custom-system, so
// they outlive the object and its namespace. A segment's name comes from the
// object's uid and its first seq, so two replicas, or a retry after a crash,
// write each segment once: AlreadyExists with the same entries is success.
import { createHash } from 'node:crypto';
import { HISTORY_ANNOTATIONS, HISTORY_KIND, HISTORY_LABELS, HISTORY_RESOURCE, STORAGE_GROUP, STORAGE_PATH, STORAGE_VERSION, SYSTEM_NAMESPACE } from '../../../api/src/names.ts';
import type { HistoryEntry, StateHistorySegment } from '../../../api/src/types.ts';
import { ApiError, ConnectionError } from '../../../client/src/errors.ts';
import type { RestClient } from '../../../client/src/rest-client.ts';
import { newInternalError, newServiceUnavailable } from '../status/status-error.ts';

export interface ObjectRef {
  namespace: string;
  name: string;
  uid: string;
  /** Its labels and states, recorded on the segment of its deletion. */
  labels?: Record<string, string>;
  states?: readonly string[];
}

export interface HistoryArchive {
  /** Archives entries (oldest first) of one object; idempotent. */
  write(object: ObjectRef, entries: readonly HistoryEntry[]): Promise<void>;
  /** The highest seq archived for this life of an object (0 when none). */
  archivedThrough(uid: string): Promise<number>;
  /** Every segment of every life of namespace/name, in no particular order. */
  segmentsOf(namespace: string, name: string): Promise<StateHistorySegment[]>;
}

/** What notifications read of the archive: one life's entries, and the lives that ended on given days. */
export interface ArchivedLives {
  /** The archived entries of one life (uid), oldest first. */
  entriesOf(uid: string): Promise<HistoryEntry[]>;
  /** The segments holding a `deleted` entry of a day in `days` (YYYY-MM-DD, UTC; undefined: of any day). */
  deletedOn(days: readonly string[] | undefined): Promise<StateHistorySegment[]>;
}

const SEGMENTS_PATH = `${STORAGE_PATH}/namespaces/${SYSTEM_NAMESPACE}/${HISTORY_RESOURCE}`;

/** Label values are at most 63 characters: a hash of namespace/name finds every life of a name. */
function nameHash(namespace: string, name: string): string {
  return createHash('sha256').update(`${namespace}/${name}`).digest('hex').slice(0, 48);
}

/** `<uid>.<first seq, 10 digits>`: sorts by seq, and is the same for every writer of the same entries. */
function segmentName(uid: string, firstSeq: number): string {
  return `${uid}.${String(firstSeq).padStart(10, '0')}`;
}

function segmentOf(object: ObjectRef, entries: readonly HistoryEntry[]): StateHistorySegment {
  const deleted = entries.find((e) => e.action === 'deleted');
  const ref: StateHistorySegment['spec']['object'] = { namespace: object.namespace, name: object.name, uid: object.uid };
  if (deleted) {
    if (object.labels && Object.keys(object.labels).length) ref.labels = { ...object.labels };
    if (object.states) ref.states = [...object.states];
  }
  return {
    apiVersion: `${STORAGE_GROUP}/${STORAGE_VERSION}`,
    kind: HISTORY_KIND,
    metadata: {
      name: segmentName(object.uid, entries[0]!.seq!),
      namespace: SYSTEM_NAMESPACE,
      labels: { [HISTORY_LABELS.uid]: object.uid, [HISTORY_LABELS.nameHash]: nameHash(object.namespace, object.name), ...(deleted ? { [HISTORY_LABELS.deletedOn]: deleted.time.slice(0, 10) } : {}), 'app.kubernetes.io/name': 'kubectl-custom' },
      annotations: { [HISTORY_ANNOTATIONS.namespace]: object.namespace, [HISTORY_ANNOTATIONS.name]: object.name },
    },
    spec: { object: ref, entries: [...entries] },
  };
}

function unavailable(err: unknown, what: string): unknown {
  if (err instanceof ConnectionError) return newServiceUnavailable(`kube-apiserver is not reachable to ${what}: ${err.message}`);
  if (err instanceof ApiError && (err.code === 429 || err.code === 503 || err.code === 504)) return newServiceUnavailable(`kube-apiserver is not available to ${what}: ${err.message}`);
  if (err instanceof ApiError) return newInternalError(`${what}: ${err.message}`);
  return err;
}

export class CrdHistoryArchive implements HistoryArchive, ArchivedLives {
  private readonly client: RestClient;

  constructor(client: RestClient) {
    this.client = client;
  }

  async write(object: ObjectRef, entries: readonly HistoryEntry[]): Promise<void> {
    if (entries.length === 0) return;
    const segment = segmentOf(object, entries);
    try {
      await this.client.json('POST', SEGMENTS_PATH, { body: segment, timeoutMs: 15_000 });
    } catch (err) {
      if (!(err instanceof ApiError && err.code === 409)) throw unavailable(err, 'archive history');
      // Written before (another replica, or this one before a crash): it must hold the same entries.
      const existing = await this.client.json<StateHistorySegment>('GET', `${SEGMENTS_PATH}/${segment.metadata.name}`, { timeoutMs: 10_000 }).catch((e: unknown) => {
        throw unavailable(e, 'read an archived segment');
      });
      const same = existing.spec.entries.length === entries.length && existing.spec.entries.at(-1)?.hash === entries.at(-1)?.hash;
      if (!same) throw newInternalError(`history segment ${segment.metadata.name} already exists with other entries; refusing to archive over it`);
    }
  }

  private async list(selector: string): Promise<StateHistorySegment[]> {
    const out: StateHistorySegment[] = [];
    let cont: string | undefined;
    try {
      do {
        const page = await this.client.json<{ metadata: { continue?: string }; items: StateHistorySegment[] }>('GET', SEGMENTS_PATH, { query: { labelSelector: selector, limit: '500', continue: cont }, timeoutMs: 15_000 });
        out.push(...page.items);
        cont = page.metadata.continue || undefined;
      } while (cont);
    } catch (err) {
      throw unavailable(err, 'read the archived history');
    }
    return out;
  }

  async archivedThrough(uid: string): Promise<number> {
    let max = 0;
    for (const s of await this.list(`${HISTORY_LABELS.uid}=${uid}`)) for (const e of s.spec.entries) max = Math.max(max, e.seq ?? 0);
    return max;
  }

  async entriesOf(uid: string): Promise<HistoryEntry[]> {
    const out: HistoryEntry[] = [];
    for (const s of await this.list(`${HISTORY_LABELS.uid}=${uid}`)) out.push(...s.spec.entries);
    return out.sort((a, b) => (a.seq ?? 0) - (b.seq ?? 0));
  }

  deletedOn(days: readonly string[] | undefined): Promise<StateHistorySegment[]> {
    return this.list(days ? `${HISTORY_LABELS.deletedOn} in (${days.join(',')})` : HISTORY_LABELS.deletedOn);
  }

  async segmentsOf(namespace: string, name: string): Promise<StateHistorySegment[]> {
    const segments = await this.list(`${HISTORY_LABELS.nameHash}=${nameHash(namespace, name)}`);
    // A hash prefix could collide: the annotations say whose a segment is.
    return segments.filter((s) => s.spec.object.namespace === namespace && s.spec.object.name === name);
  }
}

// The storage CRD's status, read from the watch cache and written to
// kube-apiserver with the read resourceVersion as precondition (a guarded
// update, as registry.Store does it): an update of the status subresource
// with the object as read, carrying that resourceVersion. Errors come back in the terms the
// write path acts on: a lost precondition is a WriteConflict (re-read and
// decide again); the rest are StatusErrors about our own resource.
import { GROUP_RESOURCE, KIND, objectPath, STORAGE_GROUP, STORAGE_PATH, STORAGE_VERSION } from '../../../api/src/names.ts';
import type { StoredObject, StoredStatus } from '../../../api/src/types.ts';
import { ApiError, ConnectionError } from '../../../client/src/errors.ts';
import type { RestClient } from '../../../client/src/rest-client.ts';
import { newInternalError, newNotFound, newServiceUnavailable } from '../status/status-error.ts';
import type { CrdWatchCache } from './crd-watch-cache.ts';

/** The object changed since it was read: read it again and decide again. */
export class WriteConflict extends Error {
  override name = 'WriteConflict';
}

export interface StatusStore {
  /** The cache holds every object (reads before that are 503). */
  readonly synced: boolean;
  /** The object as the watch cache holds it. */
  cached(namespace: string, name: string): StoredObject | undefined;
  /** The object as kube-apiserver holds it now; undefined when it is gone. */
  fetch(namespace: string, name: string): Promise<StoredObject | undefined>;
  /**
   * Writes `status` if the object is still at the resourceVersion it was read
   * at; resolves the object as written, once the cache shows it (so a read
   * right after sees it). WriteConflict when it changed; NotFound when it is
   * gone; ServiceUnavailable when kube-apiserver cannot take it.
   */
  writeStatus(obj: StoredObject, status: StoredStatus): Promise<StoredObject>;
  /**
   * Sets the object's finalizers to `finalizers`, if it is still at the
   * resourceVersion it was read at (the backend adds or removes only its own:
   * the admission policy refuses it any other change). Resolves the object as
   * written, or undefined when that released it and it is gone.
   */
  setFinalizers(obj: StoredObject, finalizers: string[]): Promise<StoredObject | undefined>;
}

/** How long a write waits for the cache to show it, so a read right after sees it. */
const READ_YOUR_WRITE_MS = 5_000;

export class CrdStatusStore implements StatusStore {
  private readonly client: RestClient;
  private readonly cache: CrdWatchCache;

  constructor(client: RestClient, cache: CrdWatchCache) {
    this.client = client;
    this.cache = cache;
  }

  get synced(): boolean {
    return this.cache.hasSynced;
  }

  cached(namespace: string, name: string): StoredObject | undefined {
    return this.cache.get(namespace, name);
  }

  async fetch(namespace: string, name: string): Promise<StoredObject | undefined> {
    try {
      const o = await this.client.json<StoredObject>('GET', objectPath(namespace, name, undefined, STORAGE_PATH), { timeoutMs: 10_000 });
      delete o.metadata['managedFields'];
      return o;
    } catch (err) {
      if (err instanceof ApiError && err.code === 404) return undefined;
      throw storageError(err, name);
    }
  }

  async writeStatus(obj: StoredObject, status: StoredStatus): Promise<StoredObject> {
    const { name, namespace } = obj.metadata;
    let written: StoredObject;
    try {
      // The object as read with its new status, as client-go's UpdateStatus sends it: kube-apiserver takes only the
      // status from it (spec and metadata stay as stored), and the resourceVersion makes it a guarded update: 409 if
      // the object changed (or was made anew) since it was read. It costs kube-apiserver less than a merge patch of
      // the same change, which it first applies to the stored object serialized anew (issue 23: about a fifth less
      // CPU per write of an object with a full history window).
      written = await this.client.json<StoredObject>('PUT', objectPath(namespace, name, 'status', STORAGE_PATH), {
        body: { ...obj, apiVersion: `${STORAGE_GROUP}/${STORAGE_VERSION}`, kind: KIND, metadata: withoutManagedFields(obj.metadata), status },
        timeoutMs: 15_000,
      });
    } catch (err) {
      if (err instanceof ApiError && err.code === 409) throw new WriteConflict(`customresources.example.com "${name}" changed since it was read`);
      throw storageError(err, name);
    }
    await this.cache.waitFor(Number(written.metadata.resourceVersion), READ_YOUR_WRITE_MS);
    return written;
  }

  async setFinalizers(obj: StoredObject, finalizers: string[]): Promise<StoredObject | undefined> {
    const { name, namespace, resourceVersion } = obj.metadata;
    let written: StoredObject;
    try {
      // A merge patch replaces the list whole: the resourceVersion makes it a guarded update.
      written = await this.client.json<StoredObject>('PATCH', objectPath(namespace, name, undefined, STORAGE_PATH), {
        body: { metadata: { resourceVersion, finalizers } },
        contentType: 'application/merge-patch+json',
        timeoutMs: 15_000,
      });
    } catch (err) {
      if (err instanceof ApiError && err.code === 409) throw new WriteConflict(`customresources.example.com "${name}" changed since it was read`);
      if (err instanceof ApiError && err.code === 404) return undefined;
      throw storageError(err, name);
    }
    // Released by the last finalizer: kube-apiserver deletes it and answers with the object as it was.
    if (written.metadata.deletionTimestamp && finalizers.length === 0) return undefined;
    delete written.metadata['managedFields'];
    await this.cache.waitFor(Number(written.metadata.resourceVersion), READ_YOUR_WRITE_MS);
    return written;
  }
}

/** Metadata as written back: managedFields are kube-apiserver's to keep (the watch cache drops them anyway). */
function withoutManagedFields(m: StoredObject['metadata']): StoredObject['metadata'] {
  const { managedFields: _, ...rest } = m as StoredObject['metadata'] & { managedFields?: unknown };
  return rest;
}

export function hasFinalizer(obj: StoredObject, f: string): boolean {
  return (obj.metadata.finalizers ?? []).includes(f);
}

/** An error of the storage CRD, re-qualified to our resource. */
function storageError(err: unknown, name: string): unknown {
  if (err instanceof ConnectionError) return newServiceUnavailable(`kube-apiserver is not reachable: ${err.message}`);
  if (!(err instanceof ApiError)) return err;
  if (err.code === 404) return newNotFound(GROUP_RESOURCE, name);
  if (err.code === 422) return newInternalError(`the storage CRD refused the new status: ${err.message}`);
  if (err.code === 503 || err.code === 504 || err.code === 429) return newServiceUnavailable(`kube-apiserver is not available to store the change: ${err.message}`);
  return newInternalError(err.message);
}

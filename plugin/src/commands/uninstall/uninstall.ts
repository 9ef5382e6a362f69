// kubectl custom uninstall: takes kubectl-custom out of a cluster without
// leaving anything stuck. Every CustomResource carries the backend's
// finalizer, so that its trail is archived before it goes; deleting the
// backend first would leave every object (and with it its namespace, and the
// CRD) stuck in deletion. So, in this order:
// (a) the backend must be available while objects remain;
// (b) every object is deleted, and we wait until the backend has archived
//     and released each one (progress on stderr, a timeout);
// (c) what manifests/base installs goes, in the order of
//     installed-objects.ts, APIService first; --keep-history keeps the
//     archive (its CRD, the segments, the custom-system namespace).
// Deletions are idempotent: an interrupted uninstall can be run again.
import { APISERVICE, FINALIZER, STORAGE_PATH } from '../../../../api/src/names.ts';
import { ApiError } from '../../../../client/src/errors.ts';
import { parseDuration } from '../../../../client/src/kubeconfig.ts';
import type { RestClient } from '../../../../client/src/rest-client.ts';
import { humanDuration } from '../../../../api/src/human-duration.ts';
import { UsageError } from '../../errors/errors.ts';
import { escapeTerminal } from '../../output/escape.ts';
import type { CommandContext } from '../context.ts';
import { confirm } from '../shared/confirm.ts';
import { deletedLine } from '../../output/object-lines.ts';
import { INSTALLED, objectUrl } from './installed-objects.ts';

export interface UninstallOptions {
  yes: boolean;
  keepHistory: boolean;
  /** How long (b) may take, as a duration (`5m`). */
  timeout: string;
}

/** How (b) waits between looks; tests pass one that moves their clock instead. */
export interface Sleeper {
  sleep(ms: number): Promise<void>;
}

const realSleeper: Sleeper = { sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)) };

const POLL_MS = 1000;
/** Deletions in flight at once. */
const PARALLEL = 8;
/** Objects named in a timeout's message, at most. */
const NAMED = 10;

const STORAGE_KIND = { apiVersion: 'example.com/v1', kind: 'CustomResource' };
/** Only names and deletion state are needed: metadata-only lists, as kubectl's garbage collector reads them. */
const METADATA_ACCEPT = 'application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1,application/json';
const DELETE_OPTIONS = { apiVersion: 'v1', kind: 'DeleteOptions', propagationPolicy: 'Background' };

interface ObjectMeta {
  namespace: string;
  name: string;
  deleting: boolean;
}

interface MetadataList {
  metadata?: { continue?: string };
  items?: { metadata: { namespace: string; name: string; deletionTimestamp?: string } }[];
}

/** Every CustomResource in the cluster (none when the CRD is not there). */
async function listObjects(client: RestClient): Promise<ObjectMeta[]> {
  const found: ObjectMeta[] = [];
  let cont: string | undefined;
  do {
    let page: MetadataList;
    try {
      page = await client.json<MetadataList>('GET', `${STORAGE_PATH}/customresources`, { accept: METADATA_ACCEPT, query: { limit: '500', ...(cont ? { continue: cont } : {}) } });
    } catch (e) {
      if (e instanceof ApiError && e.code === 404 && found.length === 0) return [];
      throw e;
    }
    for (const i of page.items ?? []) found.push({ namespace: i.metadata.namespace, name: i.metadata.name, deleting: !!i.metadata.deletionTimestamp });
    cont = page.metadata?.continue || undefined;
  } while (cont);
  return found;
}

/** Why the backend cannot archive now, or undefined when its APIService is Available. */
async function backendUnavailable(client: RestClient): Promise<string | undefined> {
  let body: { status?: { conditions?: { type: string; status: string; reason?: string; message?: string }[] } };
  try {
    body = await client.json('GET', `/apis/apiregistration.k8s.io/v1/apiservices/${APISERVICE}`);
  } catch (e) {
    if (e instanceof ApiError && e.code === 404) return `there is no APIService ${APISERVICE}`;
    throw e;
  }
  const c = body.status?.conditions?.find((x) => x.type === 'Available');
  if (c?.status === 'True') return undefined;
  return `APIService ${APISERVICE} is Available=${c?.status ?? 'Unknown'}${c?.reason ? ` (${c.reason})` : ''}${c?.message ? `: ${c.message}` : ''}`;
}

async function inParallel<T>(items: readonly T[], fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await fn(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(PARALLEL, items.length) }, worker));
}

/** Deletes what `path` names; false when it was already gone. */
async function deleteAt(client: RestClient, path: string): Promise<boolean> {
  try {
    await client.json('DELETE', path, { body: DELETE_OPTIONS });
    return true;
  } catch (e) {
    if (e instanceof ApiError && e.code === 404) return false;
    throw e;
  }
}

const customResourceUrl = (o: ObjectMeta) => `${STORAGE_PATH}/namespaces/${encodeURIComponent(o.namespace)}/customresources/${encodeURIComponent(o.name)}`;
const nameOf = (o: ObjectMeta) => escapeTerminal(`${o.namespace}/${o.name}`);

/**
 * (b): deletes every object, and waits until the backend has archived and
 * released them all. Objects that appear meanwhile are deleted too.
 */
/** Waits until GET of `path` is 404, or the timeout. */
async function waitGone(client: RestClient, path: string, timeoutMs: number, sleeper: Sleeper, now: () => number): Promise<void> {
  const deadline = now() + timeoutMs;
  while (now() < deadline) {
    try {
      await client.json('GET', path);
    } catch (e) {
      if (e instanceof ApiError && e.code === 404) return;
      throw e;
    }
    await sleeper.sleep(POLL_MS);
  }
}

async function archiveAllObjects(ctx: CommandContext, client: RestClient, timeoutMs: number, sleeper: Sleeper): Promise<void> {
  const { out, err } = ctx.deps.streams;
  const clock = ctx.deps.clock;
  let left = await listObjects(client);
  if (left.length === 0) return;
  // Every object seen, those created meanwhile too: the count progress is told against.
  const seen = new Set(left.map(nameOf));
  const total = left.length;
  const namespaces = new Set(left.map((o) => o.namespace)).size;
  err.write(`deleting ${total} ${total === 1 ? 'object' : 'objects'} in ${namespaces} ${namespaces === 1 ? 'namespace' : 'namespaces'}; the backend archives each one's history before it goes (timeout ${humanDuration(timeoutMs)})\n`);
  const deadline = clock.now().getTime() + timeoutMs;
  let shown = -1;
  for (;;) {
    await inParallel(left.filter((o) => !o.deleting), async (o) => {
      if (await deleteAt(client, customResourceUrl(o))) out.write(deletedLine({ ...STORAGE_KIND, ...o }) + '\n');
    });
    left = await listObjects(client);
    if (left.length === 0) break;
    for (const o of left) seen.add(nameOf(o));
    if (left.length !== shown) {
      err.write(`waiting for the backend to archive and release ${left.length} of ${seen.size} ${seen.size === 1 ? 'object' : 'objects'}\n`);
      shown = left.length;
    }
    if (clock.now().getTime() >= deadline) {
      const named = left.slice(0, NAMED).map(nameOf).join(', ') + (left.length > NAMED ? ` and ${left.length - NAMED} more` : '');
      throw new Error(
        `timed out after ${humanDuration(timeoutMs)} waiting for the backend to archive and release ${left.length} ${left.length === 1 ? 'object' : 'objects'}: ${named}. `
        + `They still carry its finalizer ${FINALIZER}, and nothing of kubectl-custom itself was deleted yet. `
        + `Look at the backend (kubectl -n custom-system logs deploy/kubectl-custom-backend), then run kubectl custom uninstall again, or give it longer with --timeout`,
      );
    }
    await sleeper.sleep(POLL_MS);
  }
  err.write(`every object is archived and gone\n`);
}

function question(server: string, keepHistory: boolean): string {
  const what = keepHistory
    ? 'then the backend, its APIService, the CRDs customresources.example.com, gatepolicies.example.com and freezes.example.com (every GatePolicy and Freeze with them) and the RBAC; the archived history (CRD statehistories.example.com, its segments and namespace custom-system) is kept.'
    : 'then the backend, its APIService, its CRDs (every GatePolicy and Freeze with them), the RBAC and namespace custom-system with the archived history.';
  return `This uninstalls kubectl-custom from the cluster at ${escapeTerminal(server)}: it deletes every customresources.example.com object in all namespaces (the backend archives each one's history first), ${what}\nContinue?`;
}

export async function runUninstall(ctx: CommandContext, opts: UninstallOptions, sleeper: Sleeper = realSleeper): Promise<void> {
  const { streams } = ctx.deps;
  const timeoutMs = parseDuration(opts.timeout);
  if (timeoutMs === undefined || timeoutMs <= 0) throw new UsageError(`invalid --timeout ${JSON.stringify(opts.timeout)}: use a duration such as 10m or 1h`);
  if (!opts.yes && !streams.in.isTTY) {
    throw new UsageError('uninstall deletes every object and kubectl-custom itself, and standard input is not a terminal to confirm that on: pass --yes');
  }
  const client = await ctx.client();
  if (!opts.yes && !(await confirm(streams, question(client.config.server, opts.keepHistory)))) {
    streams.err.write('uninstall cancelled: nothing was deleted\n');
    return;
  }

  // (a) Only the backend archives an object and releases its finalizer.
  const unavailable = await backendUnavailable(client);
  if (unavailable) {
    const remaining = await listObjects(client);
    if (remaining.length > 0) {
      throw new Error(
        `the kubectl-custom backend is not available (${unavailable}), and ${remaining.length} customresources.example.com ${remaining.length === 1 ? 'object remains' : 'objects remain'}. `
        + `Only the backend archives an object's history and releases its finalizer ${FINALIZER}; deleting them now would leave them stuck in deletion. `
        + `Bring the backend back (kubectl -n custom-system get deploy,pods; kubectl get apiservice ${APISERVICE}), then run kubectl custom uninstall again`,
      );
    }
    // An uninstall interrupted after the APIService went: nothing is left to archive, so finish it.
    streams.err.write(`the backend is not available (${escapeTerminal(unavailable)}), but no object is left to archive: going on\n`);
  }

  // (b)
  await archiveAllObjects(ctx, client, timeoutMs, sleeper);

  // (c)
  let deleted = 0;
  for (const o of INSTALLED) {
    if (opts.keepHistory && o.keptWithHistory) {
      streams.out.write(deletedLine(o, 'kept (--keep-history)') + '\n');
      continue;
    }
    // The namespace is not waited for: its deletion finishes in the background.
    if (await deleteAt(client, objectUrl(o))) {
      // As kubectl delete waits: a CRD goes only once its objects are cleaned up.
      if (o.kind === 'CustomResourceDefinition') await waitGone(client, objectUrl(o), timeoutMs, sleeper, () => ctx.deps.clock.now().getTime());
      streams.out.write(deletedLine(o) + '\n');
      deleted++;
    }
  }
  if (deleted === 0 && !opts.keepHistory) streams.err.write('kubectl-custom was not installed in this cluster: nothing to delete\n');
}

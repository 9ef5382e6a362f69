// A watch: a chunked stream of one JSON WatchEvent per line, started from a
// resourceVersion, the current state, or initial events ended by a bookmark.
// Table watches carry a one-row Table per event. A watcher that cannot keep
// up is closed (clients re-watch from their last resourceVersion) rather than
// buffered without bound.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { GROUP_VERSION, KIND } from '../../../../api/src/names.ts';
import type { Logger } from '../../log/logger.ts';
import type { Target } from '../../http/negotiate.ts';
import { newResourceExpired } from '../../status/status-error.ts';
import type { ListOptions } from './list-options.ts';
import { filterEvent, matches, type CustomResourceStorage } from './storage.ts';
import { COLUMNS, tableRow, type IncludeObject } from './table-columns.ts';
import { toCustomResource } from './view.ts';

export interface WatchDeps {
  storage: CustomResourceStorage;
  log: Logger;
  /** How often a watcher that asked for bookmarks gets one when nothing else happened. */
  bookmarkIntervalMs: number;
  /** Bytes queued for one watcher before it is closed as too slow. */
  maxBufferedBytes?: number;
  onOpen?(): void;
  onClose?(): void;
}

const INITIAL_EVENTS_END = 'k8s.io/initial-events-end';

export async function serveWatch(
  req: IncomingMessage,
  res: ServerResponse,
  deps: WatchDeps,
  namespace: string | undefined,
  opts: ListOptions,
  target: Target,
  includeObject: IncludeObject,
): Promise<void> {
  const { storage } = deps;
  const cache = storage.cache;
  if (opts.resourceVersion) await storage.waitForResourceVersion(opts.resourceVersion);
  const asTable = target.kind === 'table';
  const tableVersion = target.kind === 'table' ? target.version : 'v1';
  let firstTable = true;

  const encode = (type: string, object: unknown): string => JSON.stringify({ type, object }) + '\n';
  // A Table watch carries one-row Tables; the column definitions travel with
  // the first event only (later ones have null), as kube-apiserver does.
  const asTableObject = (rv: string | undefined, row: unknown) => {
    const t = { kind: 'Table', apiVersion: `meta.k8s.io/${tableVersion}`, metadata: { resourceVersion: rv }, columnDefinitions: firstTable ? COLUMNS : null, rows: [row] };
    firstTable = false;
    return t;
  };
  const objectEvent = (type: string, o: ReturnType<typeof toCustomResource>): string =>
    encode(type, asTable ? asTableObject(o.metadata.resourceVersion, tableRow(o, storage.clock.now(), includeObject, tableVersion)) : o);
  const bookmark = (rv: number, initialEnd = false): string => {
    const metadata = { resourceVersion: String(rv), ...(initialEnd ? { annotations: { [INITIAL_EVENTS_END]: 'true' } } : {}) };
    if (!asTable) return encode('BOOKMARK', { kind: KIND, apiVersion: GROUP_VERSION, metadata });
    const row = { cells: COLUMNS.map(() => ''), object: { kind: 'PartialObjectMetadata', apiVersion: `meta.k8s.io/${tableVersion}`, metadata } };
    return encode('BOOKMARK', asTableObject(metadata.resourceVersion, row));
  };

  const pending: string[] = [];
  let lastRv = 0;
  let closed = false;
  let buffered = 0;
  const maxBuffered = deps.maxBufferedBytes ?? 16 * 1024 * 1024;

  const send = (chunk: string) => {
    if (closed) return;
    if (!res.headersSent) {
      pending.push(chunk);
      return;
    }
    if (!res.write(chunk)) {
      buffered += chunk.length;
      if (buffered > maxBuffered) {
        deps.log.warn('closing a watch that does not keep up', { buffered });
        close();
      }
    }
  };
  res.on('drain', () => (buffered = 0));

  const headers = {
    'Content-Type': 'application/json',
    'Cache-Control': 'no-cache, private',
    'Transfer-Encoding': 'chunked',
  };
  // With resourceVersion "" or "0" a watch starts with the current objects
  // as ADDED events (sendInitialEvents defaults to true there, as in
  // kube-apiserver); with a resourceVersion it replays what came after it.
  const sendInitial = opts.sendInitialEvents ?? !opts.resourceVersion;
  const replayFrom = sendInitial ? undefined : opts.resourceVersion;
  const now = storage.clock.now();
  const initial: string[] = [];
  if (sendInitial) {
    for (const o of cache.list(namespace)) if (matches(o, namespace, opts)) initial.push(objectEvent('ADDED', toCustomResource(o, now)));
  }
  const startRv = cache.resourceVersion;
  lastRv = startRv;
  let unsubscribe: () => void;
  try {
    unsubscribe = cache.subscribe(
      {
        onEvent: (ev) => {
          const out = filterEvent(ev, namespace, opts, storage.clock.now());
          if (ev.rv > lastRv) lastRv = ev.rv;
          if (out) send(objectEvent(out.type, out.object));
        },
        onProgress: (rv) => {
          if (rv > lastRv) lastRv = rv;
        },
      },
      replayFrom,
    );
  } catch (err) {
    if (!(err instanceof RangeError)) throw err;
    // Past authentication, authorization and parsing, kube-apiserver reports
    // a too-old resourceVersion as one ERROR event in a 200 stream.
    res.writeHead(200, headers);
    res.end(encode('ERROR', newResourceExpired(err.message).status));
    return;
  }

  deps.onOpen?.();
  res.writeHead(200, headers);
  res.flushHeaders();
  for (const c of initial) res.write(c);
  if (sendInitial && opts.allowWatchBookmarks) res.write(bookmark(startRv, true));
  for (const c of pending.splice(0)) res.write(c);

  let lastBookmarkRv = startRv;
  const bookmarkTimer = opts.allowWatchBookmarks
    ? setInterval(() => {
        if (lastRv > lastBookmarkRv) {
          lastBookmarkRv = lastRv;
          send(bookmark(lastRv));
        }
      }, deps.bookmarkIntervalMs)
    : undefined;
  // Like kube-apiserver: end the watch after timeoutSeconds, or after a
  // random 30-60 minutes so that re-watches of many clients spread out.
  const timeoutMs = (opts.timeoutSeconds ?? 1800 * (1 + Math.random())) * 1000;
  const timeout = setTimeout(() => {
    if (opts.allowWatchBookmarks && lastRv > lastBookmarkRv) send(bookmark(lastRv));
    close();
  }, timeoutMs);

  function close() {
    if (closed) return;
    closed = true;
    unsubscribe();
    if (bookmarkTimer) clearInterval(bookmarkTimer);
    clearTimeout(timeout);
    deps.onClose?.();
    res.end();
  }
  req.on('close', close);
  res.on('close', close);
  res.on('error', close);
}

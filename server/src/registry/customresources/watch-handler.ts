// A watch: a chunked stream of one JSON WatchEvent per line, started from a
// resourceVersion, the current state, or initial events ended by a bookmark.
// Table watches carry a one-row Table per event. A watcher that cannot keep
// up is closed (clients re-watch from their last resourceVersion) rather than
// buffered without bound.
import { once } from 'node:events';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from '../../log/logger.ts';
import type { Target } from '../../http/negotiate.ts';
import { newResourceExpired } from '../../status/status-error.ts';
import type { ListOptions } from './list-options.ts';
import type { CustomResourceStorage } from './storage.ts';
import type { StoredObject } from '../../../../api/src/types.ts';
import { filterEvent, matches } from './selection.ts';
import type { IncludeObject } from './table-columns.ts';
import { sharedChange, WatchEncoder } from './watch-encoder.ts';
import { watchTimeoutMs } from './watch-timeout.ts';

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

// No Transfer-Encoding: HTTP/1.1 chunks a response without a length by itself, and HTTP/2 forbids the header.
const HEADERS = { 'Content-Type': 'application/json', 'Cache-Control': 'no-cache, private' };

/** Bytes queued for one watcher (by Node, or here while its initial events go out) before it is closed as too slow. */
const DEFAULT_MAX_BUFFERED_BYTES = 256 * 1024;

/**
 * Writes a watch's frames. Until its first events are out (the initial
 * objects, written with back-pressure) later events wait in a queue; a
 * watcher whose queue, or Node's buffer for it, passes the limit is closed:
 * it re-watches from its last resourceVersion, as with kube-apiserver's
 * watch cache, instead of holding memory without bound.
 */
class WatchWriter {
  private readonly res: ServerResponse;
  private readonly log: Logger;
  private readonly maxBuffered: number;
  private pending: (string | Buffer)[] | undefined = [];
  private pendingBytes = 0;
  closed = false;
  onClose: () => void = () => {};

  constructor(res: ServerResponse, log: Logger, maxBuffered: number) {
    this.res = res;
    this.log = log;
    this.maxBuffered = maxBuffered;
  }

  send(chunk: string | Buffer): void {
    if (this.closed) return;
    if (this.pending) {
      this.pending.push(chunk);
      this.pendingBytes += chunk.length;
      if (this.pendingBytes > this.maxBuffered) this.tooSlow(this.pendingBytes);
      return;
    }
    this.res.write(chunk);
    if (this.res.writableLength > this.maxBuffered) this.tooSlow(this.res.writableLength);
  }

  private tooSlow(buffered: number): void {
    this.log.warn('closing a watch that does not keep up', { buffered });
    this.close();
    // A client that does not read would never take the end either: let its buffer go.
    this.res.destroy();
  }

  /** Sends the headers, then `first` as the client reads it, then whatever arrived meanwhile. */
  async open(first: Iterable<string>): Promise<void> {
    this.res.writeHead(200, HEADERS);
    this.res.flushHeaders();
    for (const c of first) {
      if (this.closed) return;
      if (!this.res.write(c)) {
        await Promise.race([once(this.res, 'drain'), once(this.res, 'close')]);
      }
    }
    if (this.closed) return;
    for (const c of this.pending ?? []) this.res.write(c);
    this.pending = undefined;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.pending = undefined;
    this.onClose();
    this.res.end();
  }
}

/**
 * Runs `work` (waiting for the cache, or reading the initial state); undefined
 * when the client left meanwhile. It may have left during authentication or
 * authorization already: Node does not replay 'close', so look now and watch
 * for it from the start.
 */
async function whileThere<T>(req: IncomingMessage, res: ServerResponse, work: () => Promise<T>): Promise<{ value: T } | undefined> {
  let gone = res.closed || req.socket.destroyed;
  const left = () => (gone = true);
  req.once('close', left);
  res.once('close', left);
  let value: T;
  try {
    value = await work();
  } finally {
    req.off('close', left);
    res.off('close', left);
  }
  return gone || res.closed || req.socket.destroyed ? undefined : { value };
}

/** Where a watch starts: the objects of its initial events and the revision they are at (after which its events come). */
interface Start {
  objects: readonly StoredObject[];
  resourceVersion: number;
  /** Events at or below this revision are already in the initial events (a start read at a revision the cache had not reached). */
  floor: number;
}

/**
 * A watch's start. Without a resourceVersion (watch-list's
 * sendInitialEvents=true, or a plain watch) the initial events are the
 * objects at etcd's current revision, as kube-apiserver's cacher serves them
 * (storage.initialState: a consistent read). With "0", the cache as it is.
 * With N, once the cache has reached N: its objects then (sendInitialEvents)
 * or nothing, the changes after N being replayed.
 */
async function startOf(storage: WatchDeps['storage'], namespace: string | undefined, opts: ListOptions, sendInitial: boolean): Promise<Start | undefined> {
  if (sendInitial && opts.resourceVersion === undefined) {
    const s = await storage.initialState(namespace, opts);
    return { ...s, floor: s.resourceVersion };
  }
  if (opts.resourceVersion) await storage.waitForResourceVersion(opts.resourceVersion, opts.timeoutSeconds ? opts.timeoutSeconds * 1000 : undefined);
  // The cache's objects now: the caller takes them with its subscription, in one step.
  return undefined;
}

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
  // With resourceVersion "" or "0" a watch starts with the current objects
  // as ADDED events (sendInitialEvents defaults to true there, as in
  // kube-apiserver); with a resourceVersion it replays what came after it.
  const sendInitial = opts.sendInitialEvents ?? !opts.resourceVersion;
  const there = await whileThere(req, res, () => startOf(storage, namespace, opts, sendInitial));
  if (!there) return;
  const enc = new WatchEncoder(target, includeObject);
  const out = new WatchWriter(res, deps.log, deps.maxBufferedBytes ?? DEFAULT_MAX_BUFFERED_BYTES);
  const now = storage.clock.now();
  // A start read consistently (there.value), or the cache's objects now, taken with the subscription below in one step.
  const start: Start = there.value ?? { objects: sendInitial ? storage.snapshot(namespace) : [], resourceVersion: storage.resourceVersion, floor: 0 };
  const startRv = start.resourceVersion;
  const initial = function* () {
    for (const o of start.objects) if (matches(o, namespace, opts)) yield enc.object('ADDED', storage.view(o, now), now);
    if (sendInitial && opts.allowWatchBookmarks) yield enc.bookmark(startRv, true);
  };
  let lastRv = startRv;
  let unsubscribe: () => void;
  try {
    unsubscribe = storage.subscribe(
      {
        onEvent: (ev) => {
          // Already in the initial events: the start was read at a revision the cache reached later.
          if (ev.rv <= start.floor) return;
          const change = sharedChange(ev, () => storage.clock.now(), storage.view);
          const e = filterEvent(ev, namespace, opts, change.now, change.view);
          if (ev.rv > lastRv) lastRv = ev.rv;
          if (e) out.send(enc.shared(change, e.type, e.object));
        },
        onProgress: (rv) => {
          if (rv > lastRv) lastRv = rv;
        },
      },
      // A consistent start goes on after its revision (the cache's window replays what it passed meanwhile).
      there.value ? startRv : sendInitial ? undefined : opts.resourceVersion,
    );
  } catch (err) {
    if (!(err instanceof RangeError)) throw err;
    // Past authentication, authorization and parsing, kube-apiserver reports
    // a too-old resourceVersion as one ERROR event in a 200 stream.
    res.writeHead(200, HEADERS);
    res.end(enc.error(newResourceExpired(err.message).status));
    return;
  }
  deps.onOpen?.();

  let lastBookmarkRv = startRv;
  const bookmark = () => {
    if (lastRv <= lastBookmarkRv) return;
    lastBookmarkRv = lastRv;
    out.send(enc.bookmark(lastRv));
  };
  const bookmarkTimer = opts.allowWatchBookmarks ? setInterval(bookmark, deps.bookmarkIntervalMs) : undefined;
  const timeout = setTimeout(() => {
    if (opts.allowWatchBookmarks) bookmark();
    out.close();
  }, watchTimeoutMs(opts.timeoutSeconds));
  out.onClose = () => {
    unsubscribe();
    if (bookmarkTimer) clearInterval(bookmarkTimer);
    clearTimeout(timeout);
    deps.onClose?.();
  };
  const close = () => out.close();
  req.on('close', close);
  res.on('close', close);
  res.on('error', close);
  await out.open(initial());
}

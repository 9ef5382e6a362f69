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
 * Waits until the cache has reached the watch's resourceVersion; false when
 * the client left meanwhile. It may have left during authentication or
 * authorization already: Node does not replay 'close', so look now and watch
 * for it from the start.
 */
async function caughtUp(req: IncomingMessage, res: ServerResponse, storage: WatchDeps['storage'], opts: ListOptions): Promise<boolean> {
  let gone = res.closed || req.socket.destroyed;
  const left = () => (gone = true);
  req.once('close', left);
  res.once('close', left);
  try {
    if (opts.resourceVersion) await storage.waitForResourceVersion(opts.resourceVersion, opts.timeoutSeconds ? opts.timeoutSeconds * 1000 : undefined);
  } finally {
    req.off('close', left);
    res.off('close', left);
  }
  return !(gone || res.closed || req.socket.destroyed);
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
  if (!(await caughtUp(req, res, storage, opts))) return;
  const enc = new WatchEncoder(target, includeObject);
  const out = new WatchWriter(res, deps.log, deps.maxBufferedBytes ?? DEFAULT_MAX_BUFFERED_BYTES);
  // With resourceVersion "" or "0" a watch starts with the current objects
  // as ADDED events (sendInitialEvents defaults to true there, as in
  // kube-apiserver); with a resourceVersion it replays what came after it.
  const sendInitial = opts.sendInitialEvents ?? !opts.resourceVersion;
  const now = storage.clock.now();
  // The objects now (references into the cache, taken with the subscription below in one step), encoded as they are written.
  const snapshot = sendInitial ? storage.snapshot(namespace) : [];
  const initial = function* () {
    for (const o of snapshot) if (matches(o, namespace, opts)) yield enc.object('ADDED', storage.view(o, now), now);
    if (sendInitial && opts.allowWatchBookmarks) yield enc.bookmark(startRv, true);
  };
  const startRv = storage.resourceVersion;
  let lastRv = startRv;
  let unsubscribe: () => void;
  try {
    unsubscribe = storage.subscribe(
      {
        onEvent: (ev) => {
          const change = sharedChange(ev, () => storage.clock.now(), storage.view);
          const e = filterEvent(ev, namespace, opts, change.now, change.view);
          if (ev.rv > lastRv) lastRv = ev.rv;
          if (e) out.send(enc.shared(change, e.type, e.object));
        },
        onProgress: (rv) => {
          if (rv > lastRv) lastRv = rv;
        },
      },
      sendInitial ? undefined : opts.resourceVersion,
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

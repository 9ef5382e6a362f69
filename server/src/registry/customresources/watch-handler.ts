// A watch: a chunked stream of one JSON WatchEvent per line, started from a
// resourceVersion, the current state, or initial events ended by a bookmark.
// Table watches carry a one-row Table per event. A watcher that cannot keep
// up is closed (clients re-watch from their last resourceVersion) rather than
// buffered without bound.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from '../../log/logger.ts';
import type { Target } from '../../http/negotiate.ts';
import { newResourceExpired } from '../../status/status-error.ts';
import type { ListOptions } from './list-options.ts';
import type { CustomResourceStorage } from './storage.ts';
import { filterEvent, matches } from './strategy.ts';
import type { IncludeObject } from './table-columns.ts';
import { WatchEncoder } from './watch-encoder.ts';
import { toCustomResource } from './view.ts';
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

const HEADERS = { 'Content-Type': 'application/json', 'Cache-Control': 'no-cache, private', 'Transfer-Encoding': 'chunked' };

/** Writes a watch's frames, holding them until the headers are out and closing a watcher that does not keep up. */
class WatchWriter {
  private readonly res: ServerResponse;
  private readonly log: Logger;
  private readonly maxBuffered: number;
  private readonly pending: string[] = [];
  private buffered = 0;
  closed = false;
  onClose: () => void = () => {};

  constructor(res: ServerResponse, log: Logger, maxBuffered: number) {
    this.res = res;
    this.log = log;
    this.maxBuffered = maxBuffered;
    res.on('drain', () => (this.buffered = 0));
  }

  send(chunk: string): void {
    if (this.closed) return;
    if (!this.res.headersSent) {
      this.pending.push(chunk);
      return;
    }
    if (!this.res.write(chunk)) {
      this.buffered += chunk.length;
      if (this.buffered > this.maxBuffered) {
        this.log.warn('closing a watch that does not keep up', { buffered: this.buffered });
        this.close();
      }
    }
  }

  /** Sends the headers, then `first`, then whatever arrived meanwhile. */
  open(first: string[]): void {
    this.res.writeHead(200, HEADERS);
    this.res.flushHeaders();
    for (const c of first) this.res.write(c);
    for (const c of this.pending.splice(0)) this.res.write(c);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.onClose();
    this.res.end();
  }
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
  if (opts.resourceVersion) await storage.waitForResourceVersion(opts.resourceVersion);
  const enc = new WatchEncoder(target, includeObject);
  const out = new WatchWriter(res, deps.log, deps.maxBufferedBytes ?? 16 * 1024 * 1024);
  // With resourceVersion "" or "0" a watch starts with the current objects
  // as ADDED events (sendInitialEvents defaults to true there, as in
  // kube-apiserver); with a resourceVersion it replays what came after it.
  const sendInitial = opts.sendInitialEvents ?? !opts.resourceVersion;
  const now = storage.clock.now();
  const initial = sendInitial ? storage.snapshot(namespace).filter((o) => matches(o, namespace, opts)).map((o) => enc.object('ADDED', toCustomResource(o, now), now)) : [];
  const startRv = storage.resourceVersion;
  let lastRv = startRv;
  let unsubscribe: () => void;
  try {
    unsubscribe = storage.subscribe(
      {
        onEvent: (ev) => {
          const t = storage.clock.now();
          const e = filterEvent(ev, namespace, opts, t);
          if (ev.rv > lastRv) lastRv = ev.rv;
          if (e) out.send(enc.object(e.type, e.object, t));
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
  out.open(sendInitial && opts.allowWatchBookmarks ? [...initial, enc.bookmark(startRv, true)] : initial);

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
}

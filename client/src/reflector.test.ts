// The reflector driven by a fake lister-watcher, as client-go's
// reflector_test.go drives its own: paged lists, watches from the last
// resourceVersion seen (event or bookmark), a 410 that lists again, a broken
// watch that backs off and watches again without listing, and stop.
import { PassThrough } from 'node:stream';
import type { IncomingMessage } from 'node:http';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ApiError, ConnectionError } from './errors.ts';
import { Reflector, type ReflectorStore } from './reflector.ts';
import type { RequestOpts, RestClient } from './rest-client.ts';

interface Obj {
  metadata: { name: string; resourceVersion?: string };
}
const obj = (name: string, rv: string): Obj => ({ metadata: { name, resourceVersion: rv } });

/** One watch the fake answers: events then the server ends it, events then the stream breaks, or a refusal. */
type WatchScript = { events: { type: string; object: unknown }[]; then?: 'end' | 'hang' | 'break' } | { refuse: Error };

class FakeListerWatcher implements RestClient {
  readonly config = { server: 'https://fake.invalid' } as RestClient['config'];
  readonly lists: Record<string, string | undefined>[] = [];
  readonly watches: Record<string, string | undefined>[] = [];
  pages: { items: Obj[]; resourceVersion: string; continue?: string }[][] = [];
  scripts: WatchScript[] = [];
  readonly open: PassThrough[] = [];

  async send(): Promise<IncomingMessage> {
    throw new Error('not used');
  }

  async json<T>(_method: string, _path: string, ro: RequestOpts = {}): Promise<T> {
    this.lists.push({ ...ro.query });
    const pages = this.pages[0]!;
    const page = pages.shift()!;
    if (pages.length === 0) this.pages.shift();
    return { items: page.items, metadata: { resourceVersion: page.resourceVersion, ...(page.continue ? { continue: page.continue } : {}) } } as T;
  }

  async stream(_path: string, ro: RequestOpts = {}): Promise<IncomingMessage> {
    this.watches.push({ ...ro.query });
    const script = this.scripts.shift() ?? { events: [], then: 'hang' };
    if ('refuse' in script) throw script.refuse;
    const res = new PassThrough();
    this.open.push(res);
    ro.signal?.addEventListener('abort', () => res.destroy(Object.assign(new Error('aborted'), { name: 'AbortError' })));
    for (const e of script.events) res.write(`${JSON.stringify(e)}\n`);
    if (script.then === 'end') res.end();
    // Data already received is read before the connection breaks, as from a socket.
    else if (script.then === 'break') setImmediate(() => res.destroy(new Error('socket hang up')));
    return res as unknown as IncomingMessage;
  }

  close(): void {}
}

class RecordingStore implements ReflectorStore<Obj> {
  readonly log: string[] = [];
  replace(items: Obj[], rv: string) {
    this.log.push(`replace ${items.map((i) => i.metadata.name).join(',')} @${rv}`);
  }
  apply(type: string, o: Obj) {
    this.log.push(`${type} ${o.metadata.name} @${o.metadata.resourceVersion}`);
  }
  bookmark(rv: string) {
    this.log.push(`bookmark @${rv}`);
  }
  setLive(live: boolean) {
    this.log.push(live ? 'live' : 'not live');
  }
}

const silent = { info() {}, warn() {}, error() {}, debug() {} };

async function until(what: string, ok: () => boolean): Promise<void> {
  for (let i = 0; i < 1000 && !ok(); i++) await new Promise((r) => setImmediate(r));
  if (!ok()) throw new Error(`never: ${what}`);
}

function reflect(client: FakeListerWatcher, pageSize = 0) {
  const store = new RecordingStore();
  const r = new Reflector<Obj>({ client, path: '/apis/example.com/v1/things', description: 'things', store, log: silent, pageSize, labelSelector: 'team=a' });
  return { r, store };
}

afterEach(() => {
  vi.useRealTimers();
});

describe('Reflector', () => {
  it('lists in pages, then watches from the list resourceVersion with bookmarks and the same selector', async () => {
    const c = new FakeListerWatcher();
    c.pages = [[{ items: [obj('a', '5')], resourceVersion: '10', continue: 'tok' }, { items: [obj('b', '7')], resourceVersion: '10' }]];
    const { r, store } = reflect(c, 1);
    r.start();
    await until('the watch opens', () => c.watches.length === 1);
    expect(c.lists).toEqual([
      { limit: '1', continue: undefined, fieldSelector: undefined, labelSelector: 'team=a' },
      { limit: '1', continue: 'tok', fieldSelector: undefined, labelSelector: 'team=a' },
    ]);
    expect(c.watches[0]).toMatchObject({ watch: 'true', resourceVersion: '10', allowWatchBookmarks: 'true', labelSelector: 'team=a' });
    expect(store.log).toEqual(['replace a,b @10', 'live']);
    await r.stop();
  });

  it('applies events in order, takes a bookmark\'s resourceVersion, and watches again from the last one seen when the server ends the watch', async () => {
    const c = new FakeListerWatcher();
    c.pages = [[{ items: [], resourceVersion: '10' }]];
    c.scripts = [{ events: [{ type: 'ADDED', object: obj('a', '11') }, { type: 'MODIFIED', object: obj('a', '12') }, { type: 'BOOKMARK', object: { metadata: { resourceVersion: '15' } } }], then: 'end' }];
    const { r, store } = reflect(c);
    r.start();
    await until('the second watch opens', () => c.watches.length === 2);
    expect(store.log).toEqual(['replace  @10', 'live', 'ADDED a @11', 'MODIFIED a @12', 'bookmark @15', 'live']);
    expect(c.watches.map((w) => w['resourceVersion'])).toEqual(['10', '15']);
    expect(c.lists).toHaveLength(1);
    expect(r.lastSyncResourceVersion).toBe('15');
    await r.stop();
  });

  it('an ERROR event of 410 Expired lists again, then watches from the new list', async () => {
    const c = new FakeListerWatcher();
    c.pages = [[{ items: [obj('a', '5')], resourceVersion: '10' }], [{ items: [obj('a', '30'), obj('b', '31')], resourceVersion: '40' }]];
    c.scripts = [{ events: [{ type: 'ERROR', object: { kind: 'Status', code: 410, reason: 'Expired', message: 'too old resource version: 10 (35)' } }], then: 'hang' }];
    const { r, store } = reflect(c);
    r.start();
    await until('the second watch opens', () => c.watches.length === 2);
    expect(store.log).toEqual(['replace a @10', 'live', 'not live', 'replace a,b @40', 'live']);
    expect(c.watches.map((w) => w['resourceVersion'])).toEqual(['10', '40']);
    await r.stop();
  });

  it('a watch refused with 410 lists again too', async () => {
    const c = new FakeListerWatcher();
    c.pages = [[{ items: [], resourceVersion: '10' }], [{ items: [], resourceVersion: '50' }]];
    c.scripts = [{ refuse: new ApiError(410, { reason: 'Expired', code: 410 }, '', '/apis/example.com/v1/things') }];
    const { r } = reflect(c);
    r.start();
    await until('the second watch opens', () => c.watches.length === 2);
    expect(c.lists).toHaveLength(2);
    expect(c.watches[1]!['resourceVersion']).toBe('50');
    await r.stop();
  });

  it('a broken watch backs off (200 ms, then doubling) and watches again from where it was, without listing', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout'] });
    const c = new FakeListerWatcher();
    c.pages = [[{ items: [], resourceVersion: '10' }]];
    c.scripts = [
      { events: [{ type: 'ADDED', object: obj('a', '11') }], then: 'break' },
      { refuse: new ConnectionError('https://fake.invalid', 'connection refused', 'ECONNREFUSED') },
    ];
    const { r, store } = reflect(c);
    r.start();
    await until('the first watch breaks', () => store.log.includes('not live'));
    expect(c.watches).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(199);
    expect(c.watches).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1);
    await until('the second watch is tried', () => c.watches.length === 2);
    // Refused: the next try waits twice as long.
    await vi.advanceTimersByTimeAsync(399);
    expect(c.watches).toHaveLength(2);
    await vi.advanceTimersByTimeAsync(1);
    await until('the third watch opens', () => c.watches.length === 3);
    expect(c.watches.map((w) => w['resourceVersion'])).toEqual(['10', '11', '11']);
    expect(c.lists).toHaveLength(1);
    await r.stop();
  });

  it('progress: the resourceVersion and time of the last list, event or bookmark, and whether a watch is open', async () => {
    const c = new FakeListerWatcher();
    c.pages = [[{ items: [], resourceVersion: '10' }]];
    let clock = 1_000;
    const r = new Reflector<Obj>({ client: c, path: '/apis/example.com/v1/things', description: 'things', store: new RecordingStore(), log: silent, now: () => clock });
    expect(r.progress).toEqual({ resourceVersion: '', lastHeardAt: undefined, watching: false });
    c.scripts = [{ events: [], then: 'hang' }];
    r.start();
    await until('the watch opens', () => c.watches.length === 1);
    await until('watching', () => r.progress.watching);
    expect(r.progress).toEqual({ resourceVersion: '10', lastHeardAt: 1_000, watching: true });
    clock = 5_000;
    c.open[0]!.write(`${JSON.stringify({ type: 'ADDED', object: obj('a', '12') })}\n`);
    await until('the event is read', () => r.progress.resourceVersion === '12');
    expect(r.progress.lastHeardAt).toBe(5_000);
    clock = 9_000;
    c.open[0]!.write(`${JSON.stringify({ type: 'BOOKMARK', object: { metadata: { resourceVersion: '20' } } })}\n`);
    await until('the bookmark is read', () => r.progress.resourceVersion === '20');
    expect(r.progress.lastHeardAt).toBe(9_000);
    await r.stop();
    expect(r.progress.watching).toBe(false);
  });

  it('stop ends the open watch and the loop', async () => {
    const c = new FakeListerWatcher();
    c.pages = [[{ items: [], resourceVersion: '10' }]];
    const { r, store } = reflect(c);
    r.start();
    await until('the watch opens', () => c.watches.length === 1);
    await r.stop();
    expect(c.open[0]!.destroyed).toBe(true);
    expect(store.log.at(-1)).toBe('not live');
    expect(c.watches).toHaveLength(1);
  });
});

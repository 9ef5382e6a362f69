// Reads as Kubernetes promises them (issue 23), with two backend replicas on
// the shared control plane: a GET or LIST without resourceVersion through
// custom.example.com reflects every write acknowledged before it, here a
// direct PATCH of the storage object, 100 times out of 100, through
// kube-apiserver (the registered replica) and straight to the second
// replica. A LIST at a resourceVersion the cache has not reached (a ConfigMap
// write's) answers at or after it; resourceVersionMatch=Exact answers the
// past; a paged LIST goes on with its continue token. A watch-list
// (sendInitialEvents=true without resourceVersion) starts with every
// acknowledged write, its initial-events-end bookmark at or past it.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { request as httpsRequest } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBackend, type BackendInfo } from '../../cluster/backend.ts';
import { stopProcess } from '../../cluster/processes.ts';
import { asUser, backend, direct, frontProxyCert } from './backend-client.ts';
import { api, cluster, createObject, CUSTOM, eventually, STORAGE, useNamespace, waitServed, watch } from './harness.ts';

const ns = useNamespace(import.meta.filename);
let dir: string;
let second: BackendInfo;

interface Obj {
  metadata: { name: string; resourceVersion: string; annotations?: Record<string, string> };
}
interface List {
  metadata: { resourceVersion: string; continue?: string };
  items: Obj[];
}

const MARK = 'test.example.com/mark';

/** A read through custom.example.com: via kube-apiserver's proxy (the registered replica), or straight to the second replica as the proxy would send it. */
async function read<T>(via: 'apiserver' | 'second', path: string): Promise<T> {
  if (via === 'apiserver') {
    const r = await api<T>('admin', 'GET', path);
    expect(r.status, `${path}: ${r.text}`).toBe(200);
    return r.body;
  }
  const r = await direct({ path, cert: frontProxyCert(), headers: asUser('admin', ['system:masters']) }, second.port, second.caFile);
  expect(r.status, `${path} on the second replica: ${r.body}`).toBe(200);
  return r.json<T>();
}

async function mark(name: string, value: string): Promise<string> {
  const r = await api<Obj>('admin', 'PATCH', `${STORAGE}/namespaces/${ns()}/customresources/${name}`, { metadata: { annotations: { [MARK]: value } } }, { 'Content-Type': 'application/merge-patch+json' });
  expect(r.status, r.text).toBe(200);
  return r.body.metadata.resourceVersion;
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'kubectl-custom-fresh-reads-'));
  const b = backend();
  second = await startBackend({ cluster: cluster(), dir, register: false, tls: { caFile: b.caFile, certFile: b.certFile, keyFile: b.keyFile } });
  for (const n of ['a', 'b', 'c']) await createObject(ns(), n, { name: n, states: ['dev', 'prod'] });
  for (const n of ['a', 'b', 'c']) await waitServed(ns(), n);
  await eventually('the second replica serves c', async () => (await direct({ path: `${CUSTOM}/namespaces/${ns()}/customresources/c`, cert: frontProxyCert(), headers: asUser('admin', ['system:masters']) }, second.port, second.caFile)).status === 200);
}, 120_000);

afterAll(async () => {
  if (second) await stopProcess(second.pid);
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('GET and LIST without resourceVersion reflect every acknowledged write', () => {
  it('after a direct PATCH of the storage object, an immediate GET and LIST through either replica show it, 100 out of 100', async () => {
    const missed: string[] = [];
    for (let i = 0; i < 100; i++) {
      const value = `v${i}`;
      await mark('b', value);
      for (const via of ['apiserver', 'second'] as const) {
        const got = await read<Obj>(via, `${CUSTOM}/namespaces/${ns()}/customresources/b`);
        if (got.metadata.annotations?.[MARK] !== value) missed.push(`${i} GET via ${via}`);
        const list = await read<List>(via, `${CUSTOM}/namespaces/${ns()}/customresources`);
        if (list.items.find((o) => o.metadata.name === 'b')?.metadata.annotations?.[MARK] !== value) missed.push(`${i} LIST via ${via}`);
      }
    }
    expect(missed).toEqual([]);
  }, 120_000);
});

interface WatchEvent {
  type: string;
  object: { metadata: { name?: string; resourceVersion: string; annotations?: Record<string, string> } };
}

const isInitialEnd = (e: WatchEvent) => e.type === 'BOOKMARK' && e.object.metadata.annotations?.['k8s.io/initial-events-end'] === 'true';

/** A watch-list's initial events, up to and including its initial-events-end bookmark, through either replica; the watch is then closed. */
async function watchListStart(via: 'apiserver' | 'second', path: string): Promise<WatchEvent[]> {
  if (via === 'apiserver') {
    const w = watch('admin', path);
    try {
      await w.until((e) => isInitialEnd(e as unknown as WatchEvent));
      return w.events as unknown as WatchEvent[];
    } finally {
      w.close();
    }
  }
  return new Promise((resolve, reject) => {
    const events: WatchEvent[] = [];
    let text = '';
    const r = httpsRequest({ host: '127.0.0.1', port: second.port, path, ca: readFileSync(second.caFile), servername: 'localhost', ...frontProxyCert(), headers: asUser('admin', ['system:masters']), timeout: 15_000 }, (res) => {
      if (res.statusCode !== 200) return reject(new Error(`${path} on the second replica: ${res.statusCode}`));
      res.setEncoding('utf8');
      res.on('data', (d: string) => {
        text += d;
        let nl: number;
        while ((nl = text.indexOf('\n')) >= 0) {
          const e = JSON.parse(text.slice(0, nl)) as WatchEvent;
          text = text.slice(nl + 1);
          events.push(e);
          if (isInitialEnd(e)) {
            r.destroy();
            return resolve(events);
          }
        }
      });
      res.on('end', () => reject(new Error(`${path} on the second replica ended before its initial-events-end bookmark`)));
    });
    r.on('timeout', () => r.destroy(new Error('timeout')));
    r.on('error', (err) => (events.some(isInitialEnd) ? undefined : reject(err)));
    r.end();
  });
}

describe('a watch-list (sendInitialEvents=true, resourceVersion "") starts with every acknowledged write', () => {
  it('after a direct PATCH of the storage object, the initial events through either replica show it and the initial-events-end bookmark is at or past it, 100 out of 100', async () => {
    const path = `${CUSTOM}/namespaces/${ns()}/customresources?watch=1&sendInitialEvents=true&allowWatchBookmarks=true&resourceVersionMatch=NotOlderThan`;
    const missed: string[] = [];
    for (let i = 0; i < 100; i++) {
      const value = `w${i}`;
      const rv = Number(await mark('b', value));
      for (const via of ['apiserver', 'second'] as const) {
        const events = await watchListStart(via, path);
        const b = events.find((e) => e.type === 'ADDED' && e.object.metadata.name === 'b');
        if (b?.object.metadata.annotations?.[MARK] !== value) missed.push(`${i} initial events via ${via}`);
        const end = Number(events.find(isInitialEnd)!.object.metadata.resourceVersion);
        if (end < rv) missed.push(`${i} bookmark via ${via}: ${end} < ${rv}`);
      }
    }
    expect(missed).toEqual([]);
  }, 180_000);
});

describe('LIST at a resourceVersion', () => {
  it('at the resourceVersion of a ConfigMap write, which the cache never sees: answered at or after it, with the latest state', async () => {
    for (let i = 0; i < 5; i++) {
      await mark('a', `cm${i}`);
      const cm = await api<{ metadata: { resourceVersion: string } }>('admin', 'POST', `/api/v1/namespaces/${ns()}/configmaps`, { metadata: { generateName: 'moves-etcd-' } });
      expect(cm.status, cm.text).toBe(201);
      const rv = Number(cm.body.metadata.resourceVersion);
      for (const via of ['apiserver', 'second'] as const) {
        for (const limit of ['', '&limit=1']) {
          const list = await read<List>(via, `${CUSTOM}/namespaces/${ns()}/customresources?resourceVersion=${rv}${limit}`);
          expect(Number(list.metadata.resourceVersion), `via ${via}${limit}`).toBeGreaterThanOrEqual(rv);
          expect(list.items[0]!.metadata.annotations?.[MARK], `via ${via}${limit}`).toBe(`cm${i}`);
        }
      }
    }
  });

  it('resourceVersionMatch=Exact answers the past, and resourceVersion=0 answers from the cache', async () => {
    const then = await mark('c', 'then');
    await mark('c', 'now');
    for (const via of ['apiserver', 'second'] as const) {
      const past = await read<List>(via, `${CUSTOM}/namespaces/${ns()}/customresources?resourceVersion=${then}&resourceVersionMatch=Exact`);
      expect(past.metadata.resourceVersion).toBe(then);
      expect(past.items.find((o) => o.metadata.name === 'c')?.metadata.annotations?.[MARK]).toBe('then');
      const any = await read<List>(via, `${CUSTOM}/namespaces/${ns()}/customresources?resourceVersion=0`);
      expect(any.items.map((o) => o.metadata.name)).toEqual(['a', 'b', 'c']);
    }
  });

  it('a paged LIST goes on from its continue token through either replica, each object once, in order', async () => {
    await mark('a', 'paged');
    for (const [first, then] of [['apiserver', 'second'], ['second', 'apiserver']] as const) {
      const names: string[] = [];
      let page = await read<List>(first, `${CUSTOM}/namespaces/${ns()}/customresources?limit=1`);
      expect(page.items[0]!.metadata.annotations?.[MARK]).toBe('paged');
      names.push(...page.items.map((o) => o.metadata.name));
      while (page.metadata.continue) {
        page = await read<List>(then, `${CUSTOM}/namespaces/${ns()}/customresources?limit=1&continue=${encodeURIComponent(page.metadata.continue)}`);
        names.push(...page.items.map((o) => o.metadata.name));
      }
      expect(names).toEqual(['a', 'b', 'c']);
    }
  });
});

describe('describe-state and history read the object as new as every acknowledged write', () => {
  it('30 rounds: a set-state through one replica, then describe-state and history through the other show it at once', async () => {
    const viaFirst = (method: string, path: string, body?: unknown) => direct({ method, path, cert: frontProxyCert(), headers: { ...asUser('admin', ['system:masters']), 'Content-Type': 'application/json' }, ...(body ? { body: JSON.stringify(body) } : {}) });
    const viaSecond = (path: string) => direct({ path, cert: frontProxyCert(), headers: asUser('admin', ['system:masters']) }, second.port, second.caFile);
    const obj = `${CUSTOM}/namespaces/${ns()}/customresources/a`;
    const missed: string[] = [];
    for (let i = 0; i < 30; i++) {
      const from = (await viaFirst('GET', `${obj}/state`)).json<{ state: string }>().state;
      const to = from === 'dev' ? 'prod' : 'dev';
      const w = await viaFirst('PUT', `${obj}/state`, { state: to, from, reason: `round ${i}` });
      expect(w.status, w.body).toBe(200);
      if ((await viaSecond(`${obj}/state`)).json<{ state: string }>().state !== to) missed.push(`${i} describe-state`);
      const h = (await viaSecond(`${obj}/history`)).json<{ lives: { entries: { reason?: string }[] }[] }>();
      if (h.lives[0]?.entries.at(-1)?.reason !== `round ${i}`) missed.push(`${i} history`);
    }
    expect(missed).toEqual([]);
  });
});

// The backend on the real node (cluster/node.ts) under load and faults, as
// issue 20 asks: while clients promote and set-state back continuously
// through kube-apiserver (custom.example.com, proxied by kube-aggregator) and
// watchers watch through the aggregated API, the Deployment rolls to a second
// image (a distinct image ID, `npm run build:image -- --tag …`), a pod is
// deleted, and the node is drained; then the memory scenario of the bench
// (cluster-wide lists 10 at a time, 200 watchers that do not read) against
// one pod's real cgroup.
//
// What counts as a failure: every HTTP attempt is counted once. kubectl and
// client-go (and client/src/rest-client.ts) send a request again after a 429
// or a 5xx with Retry-After, and kubectl reports a connection reset; here
// nothing is retried, so any non-2xx answer, reset or timeout is a failed
// request. A watcher re-establishes its watch from the last resourceVersion
// it saw (bookmarks included), as client-go's reflector does, and must see
// every successful change's resourceVersion exactly once; a 410 (a re-list)
// counts as a miss. The trail must hold one entry per successful change, and
// `kubectl custom history --verify` must pass.
//
// One node per machine: like in-cluster.test.ts and helm-in-cluster.test.ts,
// this file waits for another run's node to stop (the host record is the lock).
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import type { IncomingMessage } from 'node:http';
import { Agent, request as httpsRequest } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { lineSplitter } from '../../client/src/watch-stream.ts';
import { importImage } from '../../cluster/images.ts';
import { installInCluster } from '../../cluster/in-cluster.ts';
import { containerPid } from '../../cluster/node.ts';
import { nodeFootprint, readRecord, type NodeFootprint } from '../../cluster/node-host.ts';
import { startNodeStack, type NodeStack } from '../../cluster/stack.ts';
import { buildImage, type BuiltImage } from '../../scripts/build-image.ts';
import { apiOn } from './harness.ts';
import { DIST, kubectlCustom } from './plugin-cli.ts';
import { type Run, runCommand } from './run-command.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const APP_VERSION = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;
const NEXT_TAG = `${APP_VERSION}-next`;
const SYSTEM = 'custom-system';
const DEPLOYMENT = 'kubectl-custom-backend';
const SELECTOR = 'app.kubernetes.io/component=backend';
const CUSTOM = '/apis/custom.example.com/v1';
const STORAGE = '/apis/example.com/v1';
const log = (l: string) => process.stderr.write(`[in-cluster-faults] ${l}\n`);
/** Objects the memory scenario lists (the bench loads up to 20,000 on a local backend). */
const OBJECTS_FOR_MEMORY = 3000;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

let stack: NodeStack | undefined;
let dir: string;
let next: BuiltImage;
let first: BuiltImage;

function kubectl(args: string[], timeoutMs = 300_000): Promise<Run> {
  const c = stack!.cluster;
  return runCommand(c.binaries.kubectl, ['--kubeconfig', c.kubeconfigs.admin, ...args], { timeoutMs });
}

async function kubectlJson<T>(args: string[]): Promise<T> {
  const r = await kubectl([...args, '-o', 'json']);
  if (r.code !== 0) throw new Error(`kubectl ${args.join(' ')}: ${r.stderr}`);
  return JSON.parse(r.stdout) as T;
}

async function until(what: string, fn: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await fn().catch(() => false)) return;
    await sleep(250);
  }
  throw new Error(`timed out after ${timeoutMs / 1000} s waiting until ${what}`);
}

interface Answer {
  status: number;
  body: unknown;
  text: string;
}

/** One attempt as admin through kube-apiserver, on a keep-alive connection as a long-lived client keeps one; a network error is status 0. */
function call(agent: Agent, method: string, path: string, body?: unknown, timeoutMs = 30_000): Promise<Answer> {
  return apiOn(stack!.cluster, 'admin', method, path, body, {}, timeoutMs, agent).then(
    (r) => ({ status: r.status, body: r.body, text: r.text }),
    (err: NodeJS.ErrnoException) => ({ status: 0, body: undefined, text: `${err.code ?? ''} ${err.message}` }),
  );
}

function adminAgent(maxSockets = 4): Agent {
  const c = stack!.cluster;
  return new Agent({ keepAlive: true, maxSockets, ca: readFileSync(c.caFile), cert: readFileSync(c.users.admin.cert), key: readFileSync(c.users.admin.key) });
}

const rvOf = (o: unknown) => (o as { metadata?: { resourceVersion?: string } } | undefined)?.metadata?.resourceVersion;

/**
 * A watcher as client-go's reflector runs one: list, then watch from the
 * list's resourceVersion with bookmarks; when the stream ends or breaks,
 * watch again from the last resourceVersion seen. Records how often it saw
 * each resourceVersion.
 */
class Watcher {
  readonly seen = new Map<string, number>();
  events = 0;
  ended = 0;
  broken = 0;
  readonly failures: string[] = [];
  private rv = '';
  private stopped = false;
  private req: ReturnType<typeof httpsRequest> | undefined;
  private done: Promise<void> | undefined;
  private readonly agent = adminAgent(1);
  private readonly path: string;

  constructor(ns: string) {
    this.path = `${CUSTOM}/namespaces/${ns}/customresources`;
  }

  async start(): Promise<void> {
    await this.list();
    this.done = this.loop();
  }

  private async list(): Promise<void> {
    const r = await call(this.agent, 'GET', this.path);
    if (r.status !== 200) throw new Error(`list ${this.path}: ${r.status} ${r.text.slice(0, 300)}`);
    this.rv = rvOf(r.body)!;
  }

  private async loop(): Promise<void> {
    while (!this.stopped) {
      const outcome = await this.watchOnce();
      if (this.stopped) return;
      if (outcome === 'ended') this.ended++;
      else if (outcome === 'broken') this.broken++;
      else if (outcome === 'gone') {
        this.failures.push(`410 Gone at resourceVersion ${this.rv}: a re-list, events missed`);
        await this.list().catch((err: Error) => this.failures.push(err.message));
      } else {
        this.failures.push(outcome);
        await sleep(500);
      }
    }
  }

  /** 'ended' (the server closed it), 'broken' (reset), 'gone' (410), or a failure's text. */
  private watchOnce(): Promise<string> {
    const c = stack!.cluster;
    return new Promise((resolve) => {
      let settled = false;
      const settle = (v: string) => {
        if (!settled) {
          settled = true;
          resolve(v);
        }
      };
      const url = new URL(`${this.path}?watch=1&allowWatchBookmarks=true&resourceVersion=${this.rv}`, c.server);
      this.req = httpsRequest(url, { agent: this.agent, headers: { Accept: 'application/json' } }, (res) => {
        if (res.statusCode === 410) {
          res.resume();
          settle('gone');
          return;
        }
        if (res.statusCode !== 200) {
          let t = '';
          res.on('data', (d: Buffer) => (t += d.toString()));
          res.on('end', () => settle(`watch ${res.statusCode}: ${t.slice(0, 300)}`));
          return;
        }
        const lines = lineSplitter();
        res.setEncoding('utf8');
        res.on('data', (d: string) => {
          for (const line of lines(d)) {
            const ev = JSON.parse(line) as { type: string; object: unknown };
            if (ev.type === 'ERROR') {
              const code = (ev.object as { code?: number }).code;
              settle(code === 410 ? 'gone' : `watch ERROR event: ${line.slice(0, 300)}`);
              res.destroy();
              return;
            }
            const rv = rvOf(ev.object);
            if (!rv) continue;
            this.rv = rv;
            if (ev.type === 'BOOKMARK') continue;
            this.events++;
            this.seen.set(rv, (this.seen.get(rv) ?? 0) + 1);
          }
        });
        res.on('end', () => settle('ended'));
        res.on('error', () => settle('broken'));
        res.on('close', () => settle('broken'));
      });
      this.req.on('error', (err: NodeJS.ErrnoException) => settle(this.stopped ? 'ended' : `watch request: ${err.code ?? ''} ${err.message}`));
      this.req.end();
    });
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.req?.destroy();
    await this.done;
    this.agent.destroy();
  }
}

interface Change {
  name: string;
  action: 'promote' | 'set-state';
  rv: string;
}

interface LoadFigures {
  requests: number;
  changes: Change[];
  failures: string[];
  watchers: Watcher[];
}

/** Objects dev → staging → prod, no gates: anyone with edit moves them. */
async function createObjects(ns: string, names: string[]): Promise<void> {
  const agent = adminAgent();
  for (const name of names) {
    const r = await call(agent, 'POST', `${STORAGE}/namespaces/${ns}/customresources`, { apiVersion: 'example.com/v1', kind: 'CustomResource', metadata: { name }, spec: { name, states: ['dev', 'staging', 'prod'] } });
    if (r.status !== 201) throw new Error(`create ${ns}/${name}: ${r.status} ${r.text}`);
  }
  // Served by both replicas, with the finalizer the backend adds in the background (after it the resourceVersion stays put).
  await until('the objects are served with their finalizer', async () => {
    for (const name of names) {
      const r = await call(agent, 'GET', `${CUSTOM}/namespaces/${ns}/customresources/${name}`);
      if (r.status !== 200 || !((r.body as { metadata: { finalizers?: string[] } }).metadata.finalizers ?? []).includes('custom.example.com/history')) return false;
    }
    return true;
  }, 60_000);
  agent.destroy();
}

/**
 * Writers (one object each) promote dev → staging and set-state back,
 * continuously, while 3 watchers follow the namespace; `fault` runs once some
 * changes are through, and the load goes on until some more are. Then every
 * watcher must have seen every change once, and each object's trail must hold
 * exactly its changes and verify.
 */
async function underLoad(ns: string, fault: () => Promise<void>): Promise<LoadFigures> {
  const names = Array.from({ length: 4 }, (_, i) => `obj-${i}`);
  expect((await kubectl(['create', 'namespace', ns])).code).toBe(0);
  await createObjects(ns, names);
  const watchers = Array.from({ length: 3 }, () => new Watcher(ns));
  for (const w of watchers) await w.start();
  const figures: LoadFigures = { requests: 0, changes: [], failures: [], watchers };
  let stop = false;
  const writer = async (name: string) => {
    const agent = adminAgent(2);
    let at = 'dev';
    for (let i = 0; !stop; i++) {
      const forward = at === 'dev';
      const reason = `${name} change ${i}`;
      const r = forward
        ? await call(agent, 'POST', `${CUSTOM}/namespaces/${ns}/customresources/${name}/promote`, { from: 'dev', reason })
        : await call(agent, 'PUT', `${CUSTOM}/namespaces/${ns}/customresources/${name}/state`, { state: 'dev', from: 'staging', reason });
      figures.requests++;
      // promote is a POST that creates a change: 201; set-state a PUT: 200.
      if (r.status === 200 || r.status === 201) {
        const rv = rvOf(r.body);
        if (!rv) figures.failures.push(`${name}: a change answered without a resourceVersion: ${r.text.slice(0, 200)}`);
        else figures.changes.push({ name, action: forward ? 'promote' : 'set-state', rv });
        at = forward ? 'staging' : 'dev';
        continue;
      }
      figures.failures.push(`${new Date().toISOString()} ${name} ${forward ? 'promote' : 'set-state'}: ${r.status} ${r.text.slice(0, 300)}`);
      // Where it stands now (a failed attempt may still have gone through): read again, counted as a request too.
      for (;;) {
        const s = await call(agent, 'GET', `${CUSTOM}/namespaces/${ns}/customresources/${name}/state`);
        figures.requests++;
        if (s.status === 200) {
          at = (s.body as { state: string }).state;
          break;
        }
        figures.failures.push(`${new Date().toISOString()} ${name} get state: ${s.status} ${s.text.slice(0, 300)}`);
        await sleep(250);
      }
    }
    agent.destroy();
  };
  const writers = names.map(writer);
  try {
    await until('some changes are through', async () => figures.changes.length >= 20, 60_000);
    const t = Date.now();
    await fault();
    log(`${ns}: the fault took ${((Date.now() - t) / 1000).toFixed(1)} s`);
    const after = figures.changes.length;
    await until('more changes are through after the fault', async () => figures.changes.length >= after + 20, 60_000);
  } catch (err) {
    // No load left running behind a failed fault.
    stop = true;
    await Promise.all(writers);
    for (const w of watchers) await w.stop();
    throw err;
  }
  stop = true;
  await Promise.all(writers);
  const rvs = figures.changes.map((c) => c.rv);
  await until('every watcher has seen every change', async () => watchers.every((w) => rvs.every((rv) => w.seen.has(rv))), 30_000).catch(() => undefined);
  for (const w of watchers) await w.stop();
  log(`${ns}: ${figures.requests} requests, ${figures.changes.length} changes, ${figures.failures.length} failed; watchers: ${watchers.map((w) => `${w.events} events, ${w.ended} ended and ${w.broken} broken streams re-established, ${w.failures.length} failures`).join('; ')}`);
  for (const f of figures.failures) log(`  failed: ${f}`);
  for (const w of watchers) for (const f of w.failures) log(`  watcher: ${f}`);
  return figures;
}

async function expectNothingLost(ns: string, f: LoadFigures): Promise<void> {
  expect(f.failures, 'no request failed').toEqual([]);
  for (const [i, w] of f.watchers.entries()) {
    expect(w.failures, `watcher ${i} needed no re-list`).toEqual([]);
    const missed = f.changes.filter((c) => w.seen.get(c.rv) !== 1).map((c) => `${c.name} ${c.action} at ${c.rv}: seen ${w.seen.get(c.rv) ?? 0} times`);
    expect(missed, `watcher ${i} saw every change once`).toEqual([]);
  }
  const env = { KUBECONFIG: stack!.cluster.kubeconfigs.admin };
  for (const name of new Set(f.changes.map((c) => c.name))) {
    const mine = f.changes.filter((c) => c.name === name);
    const raw = await kubectl(['get', '--raw', `${CUSTOM}/namespaces/${ns}/customresources/${name}/history`]);
    expect(raw.code, raw.stderr).toBe(0);
    const h = JSON.parse(raw.stdout) as { lives: { entries: { action: string }[] }[] };
    const entries = h.lives[0]!.entries;
    expect(entries.map((e) => e.action), `${name}: one entry per successful change`).toEqual(mine.map((c) => c.action));
    const verified = await kubectlCustom(undefined, ['history', name, '-n', ns, '--verify'], env);
    expect(verified.code, verified.stdout + verified.stderr).toBe(0);
    expect(verified.stdout).toContain(`verified: seq 1–${mine.length}, ${mine.length} entries`);
  }
}

interface Pod {
  metadata: { name: string; uid: string; deletionTimestamp?: string };
  spec: { containers: { image: string }[] };
  status: { phase: string; podIP?: string; containerStatuses?: { ready: boolean; restartCount: number; containerID?: string; imageID: string; lastState?: Record<string, unknown> }[] };
}

const backendPods = async () => (await kubectlJson<{ items: Pod[] }>(['get', 'pods', '-n', SYSTEM, '-l', SELECTOR])).items;
const readyPods = async () => (await backendPods()).filter((p) => !p.metadata.deletionTimestamp && p.status.phase === 'Running' && p.status.containerStatuses?.[0]?.ready);

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'kubectl-custom-faults-node-'));
  writeFileSync(join(dir, 'owner.pid'), String(process.pid));
  // Two versions of the backend: the second a distinct image (its version label differs, so does its ID).
  first = await buildImage({ log });
  next = await buildImage({ version: NEXT_TAG, log });
  // Another run's node (one per machine): wait for it rather than fail.
  stack = await startNodeStack({ dir, log, waitMs: 40 * 60_000 });
  await installInCluster(stack.cluster, stack.node, { pluginDir: DIST, log });
  importImage(stack.node.containerdSocket, next.archive, next.containerdName);
}, 60 * 60_000);

afterAll(async () => {
  if (stack) await stack.stop();
  if (dir && !process.env['KEEP_CLUSTER_DIR']) rmSync(dir, { recursive: true, force: true });
}, 120_000);

/** The container's memory cgroup (v1 here; v2 where the machine has it), from its main process as the host sees it. */
function memoryCgroup(pod: Pod): { dir: string; v2: boolean } {
  const id = pod.status.containerStatuses![0]!.containerID!.replace(/^containerd:\/\//, '');
  const pid = containerPid(stack!.node, id);
  const lines = readFileSync(`/proc/${pid}/cgroup`, 'utf8').split('\n');
  const v1 = lines.find((l) => l.split(':')[1]?.split(',').includes('memory'));
  if (v1) return { dir: join('/sys/fs/cgroup/memory', v1.split(':')[2]!), v2: false };
  return { dir: join('/sys/fs/cgroup', lines.find((l) => l.startsWith('0::'))!.slice(3)), v2: true };
}

function readCgroup(dir: string, file: string): string | undefined {
  try {
    return readFileSync(join(dir, file), 'utf8').trim();
  } catch {
    return undefined;
  }
}

/** The counters that say whether the limit was hit and whether anything was killed for it. */
function memoryCounters(cg: { dir: string; v2: boolean }): { limit: number; usage: number; peak: number; failcnt: number; oomKills: number; ooms: number } {
  const num = (f: string) => Number(readCgroup(cg.dir, f) ?? NaN);
  const field = (text: string | undefined, key: string) => Number(new RegExp(`^${key} (\\d+)$`, 'm').exec(text ?? '')?.[1] ?? 0);
  if (cg.v2) {
    const events = readCgroup(cg.dir, 'memory.events');
    return { limit: num('memory.max'), usage: num('memory.current'), peak: num('memory.peak'), failcnt: field(events, 'max'), oomKills: field(events, 'oom_kill'), ooms: field(events, 'oom') };
  }
  const oom = readCgroup(cg.dir, 'memory.oom_control');
  return { limit: num('memory.limit_in_bytes'), usage: num('memory.usage_in_bytes'), peak: num('memory.max_usage_in_bytes'), failcnt: num('memory.failcnt'), oomKills: field(oom, 'oom_kill'), ooms: field(oom, 'under_oom') };
}

/** A request straight to a pod, as kube-apiserver's proxy makes it: the front-proxy client certificate and the user in X-Remote-* headers. */
function direct(pod: Pod, ca: Buffer, path: string, onResponse: (res: IncomingMessage) => void): ReturnType<typeof httpsRequest> {
  const c = stack!.cluster;
  const req = httpsRequest({
    host: pod.status.podIP, port: 8443, path, servername: `${DEPLOYMENT}.${SYSTEM}.svc`, ca, cert: readFileSync(c.frontProxyClient.cert), key: readFileSync(c.frontProxyClient.key),
    headers: { Accept: 'application/json', 'X-Remote-User': 'memory-test', 'X-Remote-Group': 'system:masters' },
  }, onResponse);
  req.end();
  return req;
}

describe('the in-cluster backend under load and faults', () => {
  it('a rolling upgrade to a second image under load: no request fails, no watch misses a change, nothing is lost from the trail', async () => {
    expect(next.imageId).not.toBe(first.imageId);
    const before = await readyPods();
    expect(before).toHaveLength(2);
    const f = await underLoad('rolling', async () => {
      const set = await kubectl(['set', 'image', `deployment/${DEPLOYMENT}`, '-n', SYSTEM, `backend=${next.name}`]);
      expect(set.code, set.stderr).toBe(0);
      const rolled = await kubectl(['rollout', 'status', `deployment/${DEPLOYMENT}`, '-n', SYSTEM, '--timeout=300s']);
      expect(rolled.code, rolled.stderr).toBe(0);
      // The old pods are gone (their shutdown delay and drain included), not only the new ones Ready.
      await until('only the new pods remain', async () => (await backendPods()).every((p) => p.spec.containers[0]!.image === next.name && !p.metadata.deletionTimestamp), 120_000);
    });
    const after = await readyPods();
    expect(after.map((p) => p.spec.containers[0]!.image)).toEqual([next.name, next.name]);
    expect(new Set(after.map((p) => p.status.containerStatuses![0]!.imageID)).size).toBe(1);
    expect(after[0]!.status.containerStatuses![0]!.imageID).not.toBe(before[0]!.status.containerStatuses![0]!.imageID);
    await expectNothingLost('rolling', f);
  }, 600_000);

  it('deleting a pod while writes run loses nothing', async () => {
    const f = await underLoad('pod-deleted', async () => {
      const [victim] = await readyPods();
      const del = await kubectl(['delete', 'pod', victim!.metadata.name, '-n', SYSTEM, '--wait=true', '--timeout=120s']);
      expect(del.code, del.stderr).toBe(0);
      await until('two replicas Ready again', async () => (await readyPods()).length === 2, 180_000);
    });
    await expectNothingLost('pod-deleted', f);
  }, 600_000);

  it('draining the node respects the PDB: one pod evicted, the other refused with 429 while the cordoned node cannot take its replacement; no request fails meanwhile', async () => {
    const before = (await readyPods()).map((p) => p.metadata.name);
    expect(before).toHaveLength(2);
    let drain: Run | undefined;
    let eviction: { status: number; text: string } | undefined;
    let during: Pod[] = [];
    const f = await underLoad('drained', async () => {
      drain = await kubectl(['drain', '127.0.0.1', '--ignore-daemonsets', '--delete-emptydir-data', '--timeout=40s']);
      // Still cordoned: the replacement of the evicted pod has nowhere to go (one node).
      during = await backendPods();
      const left = during.filter((p) => before.includes(p.metadata.name));
      const agent = adminAgent(1);
      eviction = await call(agent, 'POST', `/api/v1/namespaces/${SYSTEM}/pods/${left[0]?.metadata.name}/eviction`, { apiVersion: 'policy/v1', kind: 'Eviction', metadata: { name: left[0]?.metadata.name, namespace: SYSTEM } });
      agent.destroy();
      expect((await kubectl(['uncordon', '127.0.0.1'])).code).toBe(0);
      await until('two replicas Ready again after uncordon', async () => (await readyPods()).length === 2, 180_000);
    });
    log(`kubectl drain: exit ${drain!.code}\n${drain!.stdout}${drain!.stderr}`);
    // The first eviction is allowed (2 healthy, minAvailable 1); the second would break the budget until a replacement is Ready, which cannot happen on a cordoned single node, so drain gives up.
    expect(drain!.code).not.toBe(0);
    expect(drain!.stdout + drain!.stderr).toMatch(/evicting pod custom-system\/kubectl-custom-backend-/);
    expect(drain!.stdout + drain!.stderr).toContain('Cannot evict pod as it would violate the pod\'s disruption budget');
    expect(eviction!.status, eviction!.text).toBe(429);
    const survivors = during.filter((p) => before.includes(p.metadata.name) && !p.metadata.deletionTimestamp);
    expect(survivors, 'exactly one of the two pods was evicted').toHaveLength(1);
    expect(survivors[0]!.status.containerStatuses?.[0]?.ready, 'the other kept serving').toBe(true);
    const pending = during.filter((p) => !before.includes(p.metadata.name));
    expect(pending.map((p) => p.status.phase), 'its replacement waits for a schedulable node').toEqual(['Pending']);
    const node = await kubectlJson<{ spec: { unschedulable?: boolean } }>(['get', 'node', '127.0.0.1']);
    expect(node.spec.unschedulable ?? false).toBe(false);
    await expectNothingLost('drained', f);
  }, 600_000);

  it('the memory limit holds in the container\'s real cgroup under cluster-wide lists 10 at a time and 200 watchers that do not read: no OOM kill, no restart', async () => {
    const ns = 'memory';
    expect((await kubectl(['create', 'namespace', ns])).code).toBe(0);
    // Objects to list: created 16 at a time through kube-apiserver (and the backend's webhook).
    const agent = adminAgent(16);
    const total = OBJECTS_FOR_MEMORY;
    let made = 0;
    await Promise.all(Array.from({ length: 16 }, async () => {
      while (made < total) {
        const i = made++;
        const r = await call(agent, 'POST', `${STORAGE}/namespaces/${ns}/customresources`, { apiVersion: 'example.com/v1', kind: 'CustomResource', metadata: { name: `m-${i}`, labels: { team: `t${i % 10}` } }, spec: { name: `Memory ${i} ${'x'.repeat(200)}`, states: ['dev', 'staging', 'prod'] } });
        if (r.status !== 201) throw new Error(`create m-${i}: ${r.status} ${r.text}`);
      }
    }));
    const [pod] = await readyPods();
    const secret = await kubectlJson<{ data: Record<string, string> }>(['get', 'secret', 'kubectl-custom-backend-serving-cert', '-n', SYSTEM]);
    const ca = Buffer.from(secret.data['ca.crt']!, 'base64');
    await until(`${pod!.metadata.name} serves all ${total} objects`, () => new Promise<boolean>((resolve) => {
      direct(pod!, ca, `${CUSTOM}/namespaces/${ns}/customresources?limit=1`, (res) => {
        let t = '';
        res.on('data', (d: Buffer) => (t += d.toString()));
        res.on('end', () => resolve(res.statusCode === 200 && (JSON.parse(t) as { metadata: { remainingItemCount?: number } }).metadata.remainingItemCount === total - 1));
      }).on('error', () => resolve(false));
    }), 120_000);
    const cg = memoryCgroup(pod!);
    const start = memoryCounters(cg);
    log(`memory: ${total} objects; ${pod!.metadata.name}'s cgroup ${cg.dir}: limit ${(start.limit / 2 ** 20).toFixed(0)} MiB, usage ${(start.usage / 2 ** 20).toFixed(1)} MiB`);
    expect(start.limit).toBe(320 * 2 ** 20);
    // 200 watchers straight to the pod that read nothing after the headers (their events pile up in the pod's buffers).
    const slow: ReturnType<typeof httpsRequest>[] = [];
    for (let i = 0; i < 200; i++) {
      await new Promise<void>((resolve, reject) => {
        const req = direct(pod!, ca, `${CUSTOM}/customresources?watch=1`, (res) => {
          res.pause();
          resolve();
        });
        req.on('error', reject);
        slow.push(req);
      });
    }
    // Changes meanwhile, so that the watchers have events to not read.
    let stop = false;
    let changes = 0;
    const churn = (async () => {
      const a = adminAgent(2);
      for (let i = 0; !stop; i++) {
        const name = `m-${i % 50}`;
        const forward = Math.floor(i / 50) % 2 === 0;
        const r = forward
          ? await call(a, 'POST', `${CUSTOM}/namespaces/${ns}/customresources/${name}/promote`, { from: 'dev', reason: `churn ${i}` })
          : await call(a, 'PUT', `${CUSTOM}/namespaces/${ns}/customresources/${name}/state`, { state: 'dev', from: 'staging', reason: `churn ${i}` });
        if (r.status === 200 || r.status === 201) changes++;
      }
      a.destroy();
    })();
    let highest = start.usage;
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        highest = Math.max(highest, memoryCounters(cg).usage);
        await sleep(200);
      }
    })();
    let lists = 0;
    const t = Date.now();
    for (let round = 0; round < 5; round++) {
      await Promise.all(Array.from({ length: 10 }, () => new Promise<void>((resolve, reject) => {
        direct(pod!, ca, `${CUSTOM}/customresources`, (res) => {
          let bytes = 0;
          res.on('data', (d: Buffer) => (bytes += d.length));
          res.on('end', () => {
            if (res.statusCode !== 200) reject(new Error(`list: ${res.statusCode}`));
            else {
              lists++;
              resolve();
            }
          });
        }).on('error', reject);
      })));
    }
    stop = true;
    await churn;
    for (const w of slow) w.destroy();
    sampling = false;
    await sampler;
    agent.destroy();
    const end = memoryCounters(cg);
    const mib = (n: number) => (n / 2 ** 20).toFixed(1);
    log(`memory: ${lists} cluster-wide lists of ${total}+ objects 10 at a time, 200 watchers not reading, ${changes} changes, in ${((Date.now() - t) / 1000).toFixed(1)} s: highest usage sampled ${mib(highest)} MiB, cgroup peak ${mib(end.peak)} MiB of ${mib(end.limit)} MiB; failcnt ${end.failcnt}, oom_kill ${end.oomKills}`);
    expect(lists).toBe(50);
    expect(end.oomKills, 'no OOM kill in the container\'s cgroup').toBe(0);
    const after = (await backendPods()).find((p) => p.metadata.name === pod!.metadata.name)!;
    expect(after.status.containerStatuses![0]!.restartCount).toBe(0);
    expect(after.status.containerStatuses![0]!.lastState ?? {}).toEqual({});
    expect(after.status.containerStatuses![0]!.ready).toBe(true);
  }, 600_000);

  it('stopping the node leaves no chain, bridge, route, mount, cgroup or shim of its own', async () => {
    const s = stack!;
    stack = undefined;
    // Looked at before this node lets go of the machine (another file's node may be waiting to start).
    let after: NodeFootprint | undefined;
    await s.stop({ beforeRelease: () => (after = nodeFootprint(dir)) });
    expect(after).toMatchObject({ chains: [], bridge: false, routes: [], mounts: [], cgroups: [], shims: [] });
    expect(readRecord()?.dir, 'the machine\'s node lock released').not.toBe(join(dir, 'node'));
  }, 120_000);
});

import { describe, expect, it } from 'vitest';
import { apiError, fakeClient, harness, NOW, terminalInput, type FakeCall } from '../../testing/harness.ts';
import type { InStream } from '../../deps.ts';
import { run } from '../../root-command.ts';
import { runUninstall, type Sleeper } from './uninstall.ts';
import { INSTALLED, objectUrl } from './installed-objects.ts';
import type { CommandContext } from '../context.ts';
import { newChalk } from '../../output/color.ts';

const APISERVICE_PATH = '/apis/apiregistration.k8s.io/v1/apiservices/v1.custom.example.com';
const LIST_PATH = '/apis/example.com/v1/customresources';
const objectPath = (ns: string, name: string) => `/apis/example.com/v1/namespaces/${ns}/customresources/${encodeURIComponent(name)}`;

interface ClusterOptions {
  /** The APIService's Available condition, or missing. */
  available?: 'True' | 'False' | 'missing';
  /** The condition's message when it is False. */
  message?: string;
  objects?: { namespace: string; name: string }[];
  /** How many objects being deleted the backend releases between two lists; 0: it never does. */
  releasePerList?: number;
  /** Installed objects already gone (their DELETE answers 404). */
  gone?: (o: (typeof INSTALLED)[number]) => boolean;
  /** Installed objects whose DELETE is refused. */
  refused?: (o: (typeof INSTALLED)[number]) => boolean;
  /** Called on every list, to add objects behind uninstall's back. */
  onList?: (n: number, add: (namespace: string, name: string) => void) => void;
  /** Items per page of the list. */
  pageSize?: number;
}

/** A cluster where kubectl-custom is installed: the storage CRD's objects, their finalizer, and a backend releasing them. */
function fakeCluster(o: ClusterOptions = {}) {
  const objects = new Map<string, { namespace: string; name: string; deleting: boolean }>();
  const add = (namespace: string, name: string) => objects.set(`${namespace}/${name}`, { namespace, name, deleting: false });
  for (const x of o.objects ?? []) add(x.namespace, x.name);
  let lists = 0;
  const routes: Record<string, unknown> = {
    [`GET ${APISERVICE_PATH}`]: () => {
      if (o.available === 'missing') throw apiError(404, 'NotFound', 'apiservices.apiregistration.k8s.io "v1.custom.example.com" not found', APISERVICE_PATH, { name: 'v1.custom.example.com' });
      return { status: { conditions: [{ type: 'Available', status: o.available ?? 'True', ...(o.available === 'False' ? { reason: 'FailedDiscoveryCheck', message: o.message ?? 'failing or missing response from https://10.0.0.7:443/apis/custom.example.com/v1' } : {}) }] } };
    },
    [`GET ${LIST_PATH}`]: (call: FakeCall) => {
      const cont = Number(call.opts?.query?.['continue'] ?? 0);
      if (cont === 0) {
        o.onList?.(++lists, add);
        // The backend archives and releases some of the objects being deleted.
        let release = o.releasePerList ?? Infinity;
        for (const [k, v] of objects) if (v.deleting && release-- > 0) objects.delete(k);
      }
      const all = [...objects.values()];
      const size = o.pageSize ?? all.length;
      const page = all.slice(cont, cont + size);
      return {
        metadata: cont + size < all.length ? { continue: String(cont + size) } : {},
        items: page.map((x) => ({ metadata: { namespace: x.namespace, name: x.name, finalizers: ['custom.example.com/history'], ...(x.deleting ? { deletionTimestamp: NOW.toISOString() } : {}) } })),
      };
    },
  };
  for (const x of o.objects ?? []) {
    routes[`DELETE ${objectPath(x.namespace, x.name)}`] = () => {
      const found = objects.get(`${x.namespace}/${x.name}`);
      if (!found) throw apiError(404, 'NotFound', 'not found', objectPath(x.namespace, x.name), { name: x.name });
      found.deleting = true;
      return {};
    };
  }
  // A deleted CRD is still there once (its objects are being cleaned up), then gone.
  const deletedCrds = new Map<string, number>();
  for (const i of INSTALLED) {
    routes[`DELETE ${objectUrl(i)}`] = () => {
      if (o.gone?.(i)) throw apiError(404, 'NotFound', `${i.name} not found`, objectUrl(i), { name: i.name });
      if (o.refused?.(i)) throw apiError(403, 'Forbidden', `${i.name} is forbidden: User "bob" cannot delete it`, objectUrl(i));
      deletedCrds.set(objectUrl(i), 0);
      return {};
    };
    if (i.kind === 'CustomResourceDefinition') {
      routes[`GET ${objectUrl(i)}`] = () => {
        const seen = deletedCrds.get(objectUrl(i)) ?? 0;
        deletedCrds.set(objectUrl(i), seen + 1);
        if (seen >= 1) throw apiError(404, 'NotFound', `${i.name} not found`, objectUrl(i), { name: i.name });
        return { metadata: { name: i.name, deletionTimestamp: NOW.toISOString() } };
      };
    }
  }
  const client = fakeClient(routes);
  const deletes = () => client.calls.filter((c) => c.method === 'DELETE').map((c) => c.path);
  return { client, objects, deletes, add };
}

/** Sleeping moves the test's clock: the timeout is reached without waiting. */
function fakeTime(): { now: () => Date; sleeper: Sleeper; slept: () => number } {
  let t = NOW.getTime();
  let slept = 0;
  return { now: () => new Date(t), sleeper: { sleep: async (ms) => void ((t += ms), (slept += ms)) }, slept: () => slept };
}

async function uninstall(cluster: ReturnType<typeof fakeCluster>, flags: { yes?: boolean; keepHistory?: boolean; timeout?: string } = { yes: true }, stdin?: InStream) {
  const time = fakeTime();
  const h = harness({ client: cluster.client, now: time.now, ...(stdin ? { stdin } : {}) });
  const ctx: CommandContext = { deps: h.deps, chalk: newChalk(false), flags: {}, client: async () => cluster.client };
  let error: unknown;
  try {
    await runUninstall(ctx, { yes: !!flags.yes, keepHistory: !!flags.keepHistory, timeout: flags.timeout ?? '5m' }, time.sleeper);
  } catch (e) {
    error = e;
  }
  return { out: h.out(), err: h.err(), error: error as Error | undefined, slept: time.slept() };
}

const SHOP = [{ namespace: 'shop', name: 'checkout' }, { namespace: 'shop', name: 'cart' }, { namespace: 'web', name: 'search' }];
const installedDeletes = (paths: string[]) => paths.filter((p) => !p.startsWith('/apis/example.com/'));

describe('uninstall: everything', () => {
  it('deletes every object, waits for the backend to release them, then what manifests/base installs in order', async () => {
    const cluster = fakeCluster({ objects: SHOP, releasePerList: 1 });
    const r = await uninstall(cluster);
    expect(r.error).toBeUndefined();
    expect(cluster.objects.size).toBe(0);
    // Every object was deleted before anything installed was.
    const deletes = cluster.deletes();
    expect(deletes.slice(0, 3).sort()).toEqual(SHOP.map((x) => objectPath(x.namespace, x.name)).sort());
    expect(installedDeletes(deletes)).toEqual(INSTALLED.map(objectUrl));
    // Each CRD is waited for until it is gone, as kubectl delete waits.
    for (const crd of INSTALLED.filter((i) => i.kind === 'CustomResourceDefinition')) {
      expect(cluster.client.calls.filter((c) => c.method === 'GET' && c.path === objectUrl(crd))).toHaveLength(2);
    }
    expect(cluster.client.calls.filter((c) => c.method === 'DELETE').every((c) => (c.opts?.body as { propagationPolicy?: string }).propagationPolicy === 'Background')).toBe(true);
    await expect(r.out).toMatchFileSnapshot('./testdata/uninstall.golden.txt');
    await expect(r.err).toMatchFileSnapshot('./testdata/uninstall-progress.golden.txt');
  });

  it('--keep-history keeps the archive\'s CRD and the namespace, and says so', async () => {
    const cluster = fakeCluster({ objects: SHOP });
    const r = await uninstall(cluster, { yes: true, keepHistory: true });
    expect(r.error).toBeUndefined();
    const deleted = installedDeletes(cluster.deletes());
    expect(deleted).not.toContain('/apis/apiextensions.k8s.io/v1/customresourcedefinitions/statehistories.example.com');
    expect(deleted).not.toContain('/api/v1/namespaces/custom-system');
    expect(deleted).toContain('/api/v1/namespaces/custom-system/serviceaccounts/kubectl-custom-backend');
    expect(r.out).toContain('customresourcedefinition.apiextensions.k8s.io "statehistories.example.com" kept (--keep-history)\n');
    expect(r.out.endsWith('namespace "custom-system" kept (--keep-history)\n')).toBe(true);
  });

  it('objects that appear while waiting are deleted too', async () => {
    // The fake knows how to delete newcomer, which is created behind uninstall's back on the second look.
    const cluster = fakeCluster({ objects: [...SHOP, { namespace: 'late', name: 'newcomer' }], releasePerList: 1, onList: (n, add) => void (n === 2 && add('late', 'newcomer')) });
    cluster.objects.delete('late/newcomer');
    const r = await uninstall(cluster);
    expect(r.error).toBeUndefined();
    expect(cluster.objects.size).toBe(0);
    expect(cluster.deletes()).toContain(objectPath('late', 'newcomer'));
    expect(r.out).toContain('customresource.example.com "newcomer" deleted from late namespace\n');
    // Counted among the objects waited for.
    expect(r.err).toContain('waiting for the backend to archive and release 3 of 4 objects\n');
  });

  it('reads every page of the list', async () => {
    const many = Array.from({ length: 7 }, (_, i) => ({ namespace: 'ns', name: `o${i}` }));
    const cluster = fakeCluster({ objects: many, pageSize: 3 });
    const r = await uninstall(cluster);
    expect(r.error).toBeUndefined();
    expect(cluster.deletes().filter((p) => p.startsWith('/apis/example.com/'))).toHaveLength(7);
  });

  it('objects already being deleted are waited for, not deleted again', async () => {
    const cluster = fakeCluster({ objects: SHOP, releasePerList: 1 });
    cluster.objects.get('shop/cart')!.deleting = true;
    const r = await uninstall(cluster);
    expect(r.error).toBeUndefined();
    expect(cluster.deletes()).not.toContain(objectPath('shop', 'cart'));
  });

  it('no objects: straight to the installed objects, nothing said about waiting', async () => {
    const cluster = fakeCluster({ objects: [] });
    const r = await uninstall(cluster);
    expect(r.error).toBeUndefined();
    expect(r.err).toBe('');
    expect(installedDeletes(cluster.deletes())).toEqual(INSTALLED.map(objectUrl));
  });

  it('installed objects already gone are passed over quietly (an overlay without a Deployment, a second run)', async () => {
    const cluster = fakeCluster({ objects: [], gone: (o) => o.kind === 'Deployment' || o.kind === 'PodDisruptionBudget' });
    const r = await uninstall(cluster);
    expect(r.error).toBeUndefined();
    expect(r.out).not.toContain('deployment.apps');
    expect(r.out).toContain('service "kubectl-custom-backend" deleted from custom-system namespace\n');
  });

  it('nothing installed at all', async () => {
    const cluster = fakeCluster({ available: 'missing', objects: [], gone: () => true });
    const r = await uninstall(cluster);
    expect(r.error).toBeUndefined();
    expect(r.out).toBe('');
    expect(r.err).toBe('the backend is not available (there is no APIService v1.custom.example.com), but no object is left to archive: going on\nkubectl-custom was not installed in this cluster: nothing to delete\n');
  });
});

describe('uninstall: stops before harm', () => {
  it.each([
    { name: 'the APIService not Available', available: 'False' as const, why: 'APIService v1.custom.example.com is Available=False (FailedDiscoveryCheck): failing or missing response from https://10.0.0.7:443/apis/custom.example.com/v1' },
    { name: 'no APIService', available: 'missing' as const, why: 'there is no APIService v1.custom.example.com' },
  ])('$name while objects remain: says why, deletes nothing', async ({ available, why }) => {
    const cluster = fakeCluster({ available, objects: SHOP });
    const r = await uninstall(cluster);
    expect(r.error?.message).toBe(
      `the kubectl-custom backend is not available (${why}), and 3 customresources.example.com objects remain. `
      + 'Only the backend archives an object\'s history and releases its finalizer custom.example.com/history; deleting them now would leave them stuck in deletion. '
      + 'Bring the backend back (kubectl -n custom-system get deploy,pods; kubectl get apiservice v1.custom.example.com), then run kubectl custom uninstall again',
    );
    expect(cluster.deletes()).toEqual([]);
  });

  it('the APIService\'s condition is escaped', async () => {
    const cluster = fakeCluster({ available: 'False', message: 'down\x1b[2J', objects: [] });
    const r = await uninstall(cluster);
    expect(r.err).toContain('is Available=False (FailedDiscoveryCheck): down\\x1b[2J), but no object is left');
  });

  it('the backend unavailable but nothing to archive: finishes (an interrupted uninstall run again)', async () => {
    const cluster = fakeCluster({ available: 'missing', objects: [], gone: (o) => o.kind === 'APIService' });
    const r = await uninstall(cluster);
    expect(r.error).toBeUndefined();
    expect(r.err).toContain('but no object is left to archive: going on');
    expect(installedDeletes(cluster.deletes())).toEqual(INSTALLED.map(objectUrl));
  });

  it('times out naming the objects still there, and deletes nothing installed', async () => {
    const many = Array.from({ length: 12 }, (_, i) => ({ namespace: 'ns', name: `o${String(i).padStart(2, '0')}` }));
    const cluster = fakeCluster({ objects: many, releasePerList: 0 });
    const r = await uninstall(cluster, { yes: true, timeout: '30s' });
    expect(r.error?.message).toBe(
      'timed out after 30s waiting for the backend to archive and release 12 objects: ns/o00, ns/o01, ns/o02, ns/o03, ns/o04, ns/o05, ns/o06, ns/o07, ns/o08, ns/o09 and 2 more. '
      + 'They still carry its finalizer custom.example.com/history, and nothing of kubectl-custom itself was deleted yet. '
      + 'Look at the backend (kubectl -n custom-system logs deploy/kubectl-custom-backend), then run kubectl custom uninstall again, or give it longer with --timeout',
    );
    expect(r.slept).toBe(30_000);
    expect(installedDeletes(cluster.deletes())).toEqual([]);
    expect(r.err).toBe('deleting 12 objects in 1 namespace; the backend archives each one\'s history before it goes (timeout 30s)\nwaiting for the backend to archive and release 12 of 12 objects\n');
  });

  it('a refused deletion stops it, so the order holds', async () => {
    const cluster = fakeCluster({ objects: [], refused: (o) => o.name === 'customresources.example.com' });
    const r = await uninstall(cluster);
    expect(r.error?.message).toBe('customresources.example.com is forbidden: User "bob" cannot delete it');
    expect(r.out).toBe('apiservice.apiregistration.k8s.io "v1.custom.example.com" deleted\n');
    expect(installedDeletes(cluster.deletes())).toHaveLength(2);
  });

  it('escapes object names from the server', async () => {
    const cluster = fakeCluster({ objects: [{ namespace: 'shop', name: 'evil\x1b[2J' }], releasePerList: 0 });
    const r = await uninstall(cluster, { yes: true, timeout: '1s' });
    expect(r.out).toBe('customresource.example.com "evil\\x1b[2J" deleted from shop namespace\n');
    expect(r.error?.message).toContain(': shop/evil\\x1b[2J. ');
  });
});

describe('uninstall: asking first', () => {
  it('without a terminal and without --yes: refuses before connecting', async () => {
    const h = harness();
    expect(await run(['uninstall'], h.deps)).toBe(1);
    expect(h.err()).toBe('error: uninstall deletes every object and kubectl-custom itself, and standard input is not a terminal to confirm that on: pass --yes (see "kubectl custom --help")\n');
    expect(h.connects).toEqual([]);
  });

  it.each([
    { name: 'n', input: terminalInput('n') },
    { name: 'an empty line', input: terminalInput('') },
    { name: 'anything but yes', input: terminalInput('sure') },
    { name: 'the terminal closed', input: terminalInput() },
  ])('answered $name: cancelled, nothing deleted', async ({ input }) => {
    const cluster = fakeCluster({ objects: SHOP });
    const r = await uninstall(cluster, {}, input);
    expect(r.error).toBeUndefined();
    expect(r.err).toBe(
      'This uninstalls kubectl-custom from the cluster at https://k.example: it deletes every customresources.example.com object in all namespaces (the backend archives each one\'s history first), then the backend, its APIService, its CRDs (every GatePolicy and Freeze with them), the RBAC and namespace custom-system with the archived history.\n'
      + 'Continue? (y/N): uninstall cancelled: nothing was deleted\n',
    );
    expect(cluster.client.calls).toEqual([]);
  });

  it.each([{ answer: 'y' }, { answer: 'yes' }, { answer: 'Y' }, { answer: ' YES ' }])('answered "$answer": goes on', async ({ answer }) => {
    const cluster = fakeCluster({ objects: SHOP });
    const r = await uninstall(cluster, { keepHistory: true }, terminalInput(answer));
    expect(r.error).toBeUndefined();
    expect(r.err).toContain('the archived history (CRD statehistories.example.com, its segments and namespace custom-system) is kept.\nContinue? (y/N): ');
    expect(cluster.objects.size).toBe(0);
  });

  it('--yes does not ask', async () => {
    const cluster = fakeCluster({ objects: [] });
    const r = await uninstall(cluster, { yes: true }, terminalInput());
    expect(r.err).not.toContain('Continue?');
  });

  it.each([{ timeout: 'soon' }, { timeout: '0' }, { timeout: '-5m' }])('--timeout $timeout is a usage error', async ({ timeout }) => {
    const h = harness();
    expect(await run(['uninstall', '--yes', '--timeout', timeout], h.deps)).toBe(1);
    expect(h.err()).toMatch(/^error: invalid --timeout /);
    expect(h.connects).toEqual([]);
  });

  it('help names the flags', async () => {
    const h = harness();
    expect(await run(['uninstall', '--help'], h.deps)).toBe(0);
    for (const f of ['--yes', '--keep-history', '--timeout']) expect(h.out()).toContain(f);
  });
});

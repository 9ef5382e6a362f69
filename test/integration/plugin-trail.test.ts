// The trail and the gates through the built executable and kubectl
// (`kubectl custom …`), against the real control plane and backend: the
// history of an object with many changes and of earlier lives, --verify
// before and after a retention delete, --override recorded, what the plugin
// prints when stored values carry terminal escapes, and uninstall on a stack
// of this file's own.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { issueCertificate, loadCertificateAuthority } from '../../client/src/certificates.ts';
import type { CustomResourceHistory, CustomResourceState, HistoryEntry } from '../../api/src/types.ts';
import { FINALIZER, HISTORY_LABELS } from '../../api/src/names.ts';
import { apiServiceAvailability, registerLocalApiService } from '../../cluster/aggregation.ts';
import { adminKubeConfig, BACKEND_SERVICE, installBase, startBackend } from '../../cluster/backend.ts';
import { writeKubeconfig } from '../../cluster/kubeconfig.ts';
import { freePort, stopProcess } from '../../cluster/processes.ts';
import { startStack, type Stack } from '../../cluster/stack.ts';
import { escapeTerminal, hasUnsafeCharacters } from '../../plugin/src/output/escape.ts';
import { INSTALLED, objectUrl } from '../../plugin/src/commands/uninstall/installed-objects.ts';
import { api, apiOn, cluster, type ApiResponse, createObject, CUSTOM, eventually, grantRole, STORAGE, useNamespace, waitServed } from './harness.ts';
import { kubectlCustom, type CliResult } from './plugin-cli.ts';

const ns = useNamespace(import.meta.filename);
const tmp = mkdtempSync(join(tmpdir(), 'kubectl-custom-trail-'));

afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const READ = { apiGroups: ['custom.example.com'], resources: ['customresources', 'customresources/state', 'customresources/history'], verbs: ['get', 'list', 'watch'] };
const CHANGE = [
  { apiGroups: ['custom.example.com'], resources: ['customresources/promote'], verbs: ['create'] },
  { apiGroups: ['custom.example.com'], resources: ['customresources/state'], verbs: ['update'] },
];
/** Users whose client certificate names this group (mallory below) get a role through it. */
const TESTERS = 'kubectl-custom-trail-testers';

beforeAll(async () => {
  // alice may read, change, and break glass into staging; bob may read and change, no more.
  await grantRole(ns(), 'alice-trail', 'alice', [READ, ...CHANGE, { apiGroups: ['custom.example.com'], resources: ['states'], resourceNames: ['staging'], verbs: ['override'] }]);
  await grantRole(ns(), 'bob-trail', 'bob', [READ, ...CHANGE]);
  await eventually('RBAC in force', async () => (await kubectlCustom('bob', ['list', '-n', ns()])).code === 0);
});

const lines = (s: string) => s.trimEnd().split('\n');
const unsafeOutsideLineBreaks = (s: string) => hasUnsafeCharacters(s.replaceAll('\n', ''));

async function historyJson(user: 'admin' | 'alice', name: string): Promise<CustomResourceHistory> {
  const r = await kubectlCustom(user, ['history', name, '-n', ns(), '-o', 'json']);
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(r.stdout) as CustomResourceHistory;
}

async function stateJson(name: string): Promise<CustomResourceState> {
  const r = await kubectlCustom('admin', ['describe-state', name, '-n', ns(), '-o', 'json']);
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(r.stdout) as CustomResourceState;
}

type Segment = { metadata: { name: string }; spec: { entries: HistoryEntry[] } };

/** The StateHistory segments of one life, read as a cluster admin (right after a CRD changes, kube-apiserver may answer 429 for a moment). */
async function segmentsOf(get: (path: string) => Promise<ApiResponse<{ items: Segment[] }>>, uid: string): Promise<Segment[]> {
  let items: Segment[] | undefined;
  await eventually(`the segments of ${uid}`, async () => {
    const r = await get(`${STORAGE}/namespaces/custom-system/statehistories?labelSelector=${encodeURIComponent(`${HISTORY_LABELS.uid}=${uid}`)}`);
    items = r.status === 200 ? r.body.items : undefined;
    return items !== undefined;
  });
  return items!;
}

/** `count` changes as admin, straight to the API (moving a → b → c → a …), each with its number as reason. */
async function churn(name: string, count: number, start = 'a'): Promise<void> {
  const states = ['a', 'b', 'c'];
  let at = start;
  for (let i = 1; i <= count; i++) {
    const to = states[(states.indexOf(at) + 1) % states.length]!;
    const r = await api('admin', 'PUT', `${CUSTOM}/namespaces/${ns()}/customresources/${name}/state`, { state: to, from: at, reason: `change ${i}` });
    expect(r.status, r.text).toBe(200);
    at = to;
  }
}

describe('history of an object with many changes, and of its earlier life', () => {
  const CHANGES = 150;
  let firstUid = '';

  beforeAll(async () => {
    await createObject(ns(), 'busy', { name: 'Busy', states: ['a', 'b', 'c'] });
    await waitServed(ns(), 'busy');
    await churn('busy', CHANGES);
    firstUid = (await api<{ metadata: { uid: string } }>('admin', 'GET', `${STORAGE}/namespaces/${ns()}/customresources/busy`)).body.metadata.uid;
  }, 120_000);

  it('prints every entry, oldest first, under the life\'s title', async () => {
    const r = await kubectlCustom('alice', ['history', 'busy', '-n', ns()]);
    expect(r.code, r.stderr).toBe(0);
    const out = lines(r.stdout);
    expect(out[0]).toBe(`Life uid ${firstUid} (current)`);
    expect(out[1]).toMatch(/^SEQ\s+TIME\s+AGE\s+ACTION\s+FROM\s+TO\s+USER\s+DETAILS\s+REASON$/);
    const rows = out.slice(2);
    expect(rows).toHaveLength(CHANGES);
    expect(rows.map((l) => Number(l.split(/\s+/)[0]))).toEqual(Array.from({ length: CHANGES }, (_, i) => i + 1));
    expect(rows[0]).toMatch(/^1\s+\S+\s+\S+\s+set-state\s+a\s+b\s+admin\s+change 1$/);
    expect(rows.at(-1)).toMatch(new RegExp(`^${CHANGES}\\s.*\\schange ${CHANGES}$`));
  });

  it('--verify recomputes the chain: one line for the life', async () => {
    const r = await kubectlCustom('alice', ['history', 'busy', '-n', ns(), '--verify']);
    expect(r).toEqual({ code: 0, stdout: `Life uid ${firstUid} (current): verified: seq 1–${CHANGES}, ${CHANGES} entries\n`, stderr: '' });
  });

  it('-o json and -o yaml: the document, archive and window together', async () => {
    const doc = await historyJson('alice', 'busy');
    expect(doc.kind).toBe('CustomResourceHistory');
    expect(doc.lives).toHaveLength(1);
    expect(doc.lives[0]).toMatchObject({ uid: firstUid, live: true });
    expect(doc.lives[0]!.entries.map((e) => e.seq)).toEqual(Array.from({ length: CHANGES }, (_, i) => i + 1));
    const yaml = parse((await kubectlCustom('alice', ['history', 'busy', '-n', ns(), '-o', 'yaml'])).stdout) as CustomResourceHistory;
    expect(yaml).toEqual(doc);
  });

  it('describe-state shows the window, and says how many earlier entries history shows', async () => {
    const view = await stateJson('busy');
    expect(view.history.at(-1)?.seq).toBe(CHANGES);
    const first = view.history[0]!.seq!;
    // 150 changes are more than the window holds: the older ones are in the archive.
    expect(first).toBeGreaterThan(1);
    const d = await kubectlCustom('alice', ['describe-state', 'busy', '-n', ns()]);
    expect(d.code, d.stderr).toBe(0);
    expect(d.stdout.endsWith(`  … and ${first - 1} entries before these (seq 1–${first - 1}): kubectl custom history busy -n ${ns()}\n`)).toBe(true);
    // The newest first, each with its seq.
    expect(d.stdout).toMatch(new RegExp(`\\n {2}SEQ\\s+TIME\\s+AGE\\s+ACTION\\s+FROM\\s+TO\\s+USER\\s+DETAILS\\s+REASON\\n {2}${CHANGES}\\s`));
  });

  it('deleted and created again: the new life first, then the earlier one ending in its deletion; both verify', async () => {
    const del = await api('admin', 'DELETE', `${STORAGE}/namespaces/${ns()}/customresources/busy`);
    expect(del.status, del.text).toBe(200);
    // The backend archives the window, writes the `deleted` entry and releases its finalizer.
    await eventually('busy is gone', async () => (await api('admin', 'GET', `${STORAGE}/namespaces/${ns()}/customresources/busy`)).status === 404, 30_000);
    await createObject(ns(), 'busy', { name: 'Busy again', states: ['a', 'b', 'c'] });
    await waitServed(ns(), 'busy');
    await churn('busy', 1);
    const secondUid = (await api<{ metadata: { uid: string } }>('admin', 'GET', `${STORAGE}/namespaces/${ns()}/customresources/busy`)).body.metadata.uid;

    const r = await kubectlCustom('alice', ['history', 'busy', '-n', ns()]);
    expect(r.code, r.stderr).toBe(0);
    const out = lines(r.stdout);
    expect(out[0]).toBe(`Life uid ${secondUid} (current)`);
    expect(out[2]).toMatch(/^1\s.*set-state\s+a\s+b\s+admin\s+change 1$/);
    expect(out[3]).toBe('');
    expect(out[4]).toMatch(new RegExp(`^Life uid ${firstUid}, deleted at \\S+ \\(\\S+ ago\\)$`));
    // Who deleted it is not in the object; the entry names whoever the backend records.
    expect(out.at(-1)).toMatch(new RegExp(`^${CHANGES + 1}\\s+\\S+\\s+\\S+\\s+deleted\\s+\\S+`));

    const v = await kubectlCustom('alice', ['history', 'busy', '-n', ns(), '--verify']);
    expect(v.code, v.stderr).toBe(0);
    expect(lines(v.stdout)).toEqual([
      `Life uid ${secondUid} (current): verified: seq 1, 1 entry`,
      expect.stringMatching(new RegExp(`^Life uid ${firstUid}, deleted at .*: verified: seq 1–${CHANGES + 1}, ${CHANGES + 1} entries$`)),
    ]);
  }, 60_000);

  it('after a cluster admin deletes the oldest segment, --verify says where the kept trail starts', async () => {
    const segments = await segmentsOf((path) => api('admin', 'GET', path), firstUid);
    // Entries that left the window while it lived, and the window at its deletion: two segments at least.
    expect(segments.length, 'segments of the first life').toBeGreaterThanOrEqual(2);
    segments.sort((a, b) => a.spec.entries[0]!.seq! - b.spec.entries[0]!.seq!);
    const keptFrom = segments[1]!.spec.entries[0]!.seq!;
    const del = await api('admin', 'DELETE', `${STORAGE}/namespaces/custom-system/statehistories/${segments[0]!.metadata.name}`);
    expect(del.status, del.text).toBe(200);

    const v = await kubectlCustom('alice', ['history', 'busy', '-n', ns(), '--verify']);
    expect(v.code, v.stderr).toBe(0);
    expect(lines(v.stdout)[1]).toMatch(new RegExp(`^Life uid ${firstUid}, deleted at .*: verified: seq ${keptFrom}–${CHANGES + 1}, ${CHANGES + 2 - keptFrom} entries; the kept trail starts at seq ${keptFrom}; earlier entries were deleted$`));
    const h = await kubectlCustom('alice', ['history', 'busy', '-n', ns()]);
    expect(h.stdout).toContain(`(the kept trail starts at seq ${keptFrom}; earlier entries were deleted)\n`);
  });

  it('nothing of that name, live or earlier: NotFound', async () => {
    const r = await kubectlCustom('alice', ['history', 'never-was', '-n', ns()]);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/^Error from server \(NotFound\): .*"never-was" not found\n$/);
  });
});

describe('--override', () => {
  beforeAll(async () => {
    // An hour of soak in dev: promote is refused until then, unless someone breaks glass.
    await createObject(ns(), 'gated', { name: 'Gated', states: ['dev', 'staging', 'prod'], protectedStates: ['prod'], minSoakSeconds: { dev: 3600 } });
    await createObject(ns(), 'gated-too', { name: 'Gated too', states: ['dev', 'staging', 'prod'], minSoakSeconds: { dev: 3600 } });
    await Promise.all([waitServed(ns(), 'gated'), waitServed(ns(), 'gated-too')]);
  });

  it('without it the soak gate refuses', async () => {
    const r = await kubectlCustom('alice', ['promote', 'gated', '-n', ns(), '--reason', 'too early']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^The CustomResource "gated" is invalid: status\.stateSince: Forbidden: "dev" needs 1h of soak time/);
  });

  it('needs a reason', async () => {
    const r = await kubectlCustom('alice', ['promote', 'gated', '-n', ns(), '--override']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/reason: Required value/);
    expect((await stateJson('gated')).state).toBe('dev');
  });

  it('needs the override permission on the target state', async () => {
    const r = await kubectlCustom('bob', ['promote', 'gated-too', '-n', ns(), '--override', '--reason', 'incident 4711']);
    expect(r.code).toBe(1);
    expect(lines(r.stderr)).toHaveLength(1);
    expect(r.stderr).toMatch(/^Error from server \(Forbidden\): .*"bob".*override.*"staging"/);
    expect((await stateJson('gated-too')).state).toBe('dev');
  });

  it('with it and a reason: moved, the line says it was an override, and it is recorded as one with the gate it passed', async () => {
    const r = await kubectlCustom('alice', ['promote', 'gated', '-n', ns(), '--override', '--reason', 'incident 4711']);
    expect(r).toEqual({ code: 0, stdout: 'gated promoted: dev → staging (override of soak)\n', stderr: '' });
    const entry = (await historyJson('alice', 'gated')).lives[0]!.entries.at(-1)!;
    expect(entry).toMatchObject({ action: 'override', from: 'dev', to: 'staging', user: 'alice', reason: 'incident 4711', overrode: ['soak'] });
    const h = await kubectlCustom('alice', ['history', 'gated', '-n', ns()]);
    expect(h.stdout).toMatch(/\n1\s+\S+\s+\S+\s+override \(soak\)\s+dev\s+staging\s+alice\s+incident 4711\n/);
    const d = await kubectlCustom('alice', ['describe-state', 'gated', '-n', ns()]);
    expect(d.stdout).toMatch(/\n {2}1\s+\S+\s+\S+\s+override \(soak\)\s+dev\s+staging\s+alice\s+incident 4711\n/);
    expect((await kubectlCustom('alice', ['history', 'gated', '-n', ns(), '--verify'])).code).toBe(0);
  });

  it('--dry-run --override changes nothing and says both', async () => {
    const r = await kubectlCustom('alice', ['set-state', 'gated-too', 'staging', '-n', ns(), '--override', '--reason', 'rehearsal', '--dry-run']);
    expect(r).toEqual({ code: 0, stdout: 'gated-too moved: dev → staging (override; server dry run)\n', stderr: '' });
    expect((await stateJson('gated-too')).state).toBe('dev');
  });
});

describe('terminal escapes in stored values', () => {
  const ESCAPES = '\x1b[2J\x1b[1;1H';

  it('a reason cannot carry an escape sequence: the server refuses it, and the plugin prints the refusal escaped', async () => {
    await createObject(ns(), 'plain', { name: 'Plain', states: ['dev', 'staging'] });
    await waitServed(ns(), 'plain');
    const r = await kubectlCustom('alice', ['promote', 'plain', '-n', ns(), '--reason', `ok${ESCAPES}FAKE\n0   promote   alice`]);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/^The CustomResource "plain" is invalid: reason: /);
    expect(unsafeOutsideLineBreaks(r.stderr)).toBe(false);
    expect(lines(r.stderr)).toHaveLength(1);
    expect((await stateJson('plain')).history).toEqual([]);
  });

  it('a user whose name carries C1 and bidi controls: every view prints it escaped, -o json keeps it exact', async () => {
    // kube-apiserver takes a client certificate's CN as the user name as it is; the group gives the role.
    const c = cluster();
    const ca = await loadCertificateAuthority(readFileSync(c.clusterCa.cert, 'utf8'), readFileSync(c.clusterCa.key, 'utf8'));
    const cert = await issueCertificate(ca, { commonName: 'mallory\u202e\u009b31m', organizations: [TESTERS], usage: 'client' });
    const certFile = join(tmp, 'mallory.crt');
    const keyFile = join(tmp, 'mallory.key');
    writeFileSync(certFile, cert.cert);
    writeFileSync(keyFile, cert.key, { mode: 0o600 });
    const kubeconfig = writeKubeconfig(join(tmp, 'mallory.kubeconfig'), { server: c.server, caFile: c.caFile, user: 'mallory', credentials: { certFile, keyFile } });
    const role = await api('admin', 'POST', `/apis/rbac.authorization.k8s.io/v1/namespaces/${ns()}/roles`, { metadata: { name: 'trail-testers' }, rules: [READ, ...CHANGE] });
    expect(role.status, role.text).toBe(201);
    const binding = await api('admin', 'POST', `/apis/rbac.authorization.k8s.io/v1/namespaces/${ns()}/rolebindings`, {
      metadata: { name: 'trail-testers' },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'trail-testers' },
      subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'Group', name: TESTERS }],
    });
    expect(binding.status, binding.text).toBe(201);
    await createObject(ns(), 'signed', { name: 'Signed', states: ['dev', 'staging'] });
    await waitServed(ns(), 'signed');
    let promoted: CliResult | undefined;
    await eventually('mallory may promote', async () => (promoted = await kubectlCustom(undefined, ['promote', 'signed', '-n', ns(), '--reason', 'by mallory'], { KUBECONFIG: kubeconfig })).code === 0);
    expect(promoted!.stdout).toBe('signed promoted: dev → staging\n');

    // What the backend stored as the user (the exact decoding is the server's business): it holds characters a terminal acts on.
    const user = (await historyJson('admin', 'signed')).lives[0]!.entries.at(-1)!.user;
    expect(hasUnsafeCharacters(user), JSON.stringify(user)).toBe(true);
    expect((await stateJson('signed')).history.at(-1)?.user).toBe(user);

    const views = [
      await kubectlCustom('admin', ['history', 'signed', '-n', ns()]),
      await kubectlCustom('admin', ['describe-state', 'signed', '-n', ns()]),
      await kubectlCustom('admin', ['list', '-n', ns(), '-o', 'wide']),
    ];
    for (const v of views) {
      expect(v.code, v.stderr).toBe(0);
      expect(unsafeOutsideLineBreaks(v.stdout)).toBe(false);
    }
    expect(views[0]!.stdout).toContain(`   ${escapeTerminal(user)}   `);
    expect(views[1]!.stdout).toContain(`   ${escapeTerminal(user)}   `);
    // -o json|yaml are data: the same user once parsed, with nothing raw for a terminal.
    const json = await kubectlCustom('admin', ['describe-state', 'signed', '-n', ns(), '-o', 'json']);
    expect(unsafeOutsideLineBreaks(json.stdout)).toBe(false);
    expect((JSON.parse(json.stdout) as CustomResourceState).history.at(-1)?.user).toBe(user);
    const yaml = await kubectlCustom('admin', ['describe-state', 'signed', '-n', ns(), '-o', 'yaml']);
    expect(unsafeOutsideLineBreaks(yaml.stdout)).toBe(false);
    expect((parse(yaml.stdout) as CustomResourceState).history.at(-1)?.user).toBe(user);
  });

  it('a display name with escape sequences is refused by the CRD, or printed escaped', async () => {
    const displayName = `Evil${ESCAPES}FAKE ROW`;
    const r = await api('admin', 'POST', `${STORAGE}/namespaces/${ns()}/customresources`, { apiVersion: 'example.com/v1', kind: 'CustomResource', metadata: { name: 'crafted' }, spec: { name: displayName, states: ['dev', 'prod'] } });
    if (r.status === 422) {
      // The schema refuses control characters: nothing crafted is ever stored.
      expect(r.text).toContain('spec.name');
      return;
    }
    expect(r.status, r.text).toBe(201);
    await waitServed(ns(), 'crafted');
    for (const args of [['list', '-n', ns()], ['list', '-n', ns(), '-o', 'wide'], ['describe-state', 'crafted', '-n', ns()]]) {
      const v = await kubectlCustom('admin', args);
      expect(v.code, v.stderr).toBe(0);
      expect(unsafeOutsideLineBreaks(v.stdout)).toBe(false);
      expect(v.stdout).toContain(escapeTerminal(displayName));
    }
  });
});

describe('uninstall on a stack of its own', () => {
  let stack: Stack;
  let dir: string;
  const NAMESPACES = ['team-a', 'team-b'];

  const admin = <T = Record<string, unknown>>(method: string, path: string, body?: unknown) => apiOn<T>(stack.cluster, 'admin', method, path, body);
  const custom = (args: string[]) => kubectlCustom(undefined, args, { KUBECONFIG: stack.cluster.kubeconfigs.admin });

  /** Objects in both namespaces, a few changes each, so each has a trail to archive. */
  async function populate(prefix: string): Promise<string[]> {
    const uids: string[] = [];
    for (const n of NAMESPACES) {
      for (const name of [`${prefix}-1`, `${prefix}-2`]) {
        const r = await admin<{ metadata: { uid: string } }>('POST', `${STORAGE}/namespaces/${n}/customresources`, { apiVersion: 'example.com/v1', kind: 'CustomResource', metadata: { name }, spec: { name, states: ['dev', 'prod'] } });
        expect(r.status, r.text).toBe(201);
        uids.push(r.body.metadata.uid);
        await eventually(`the backend serves ${n}/${name}`, async () => (await admin('GET', `${CUSTOM}/namespaces/${n}/customresources/${name}`)).status === 200, 30_000);
        const p = await admin('POST', `${CUSTOM}/namespaces/${n}/customresources/${name}/promote`, { from: 'dev', reason: 'before uninstall' });
        expect(p.status, p.text).toBe(201);
      }
    }
    // The backend holds its finalizer on every object.
    await eventually('the finalizer on every object', async () => {
      const list = await admin<{ items: { metadata: { finalizers?: string[] } }[] }>('GET', `${STORAGE}/customresources`);
      return list.body.items.length === uids.length && list.body.items.every((i) => i.metadata.finalizers?.includes(FINALIZER));
    }, 30_000);
    return uids;
  }

  /** The installed objects still there (the namespace counts only when it is not terminating). */
  async function remaining(except: (o: (typeof INSTALLED)[number]) => boolean = () => false): Promise<string[]> {
    const left: string[] = [];
    for (const o of INSTALLED.filter((x) => !except(x))) {
      const r = await admin<{ metadata?: { deletionTimestamp?: string } }>('GET', objectUrl(o));
      // Without kube-controller-manager a deleted namespace stays Terminating.
      if (r.status === 200 && !(o.kind === 'Namespace' && r.body.metadata?.deletionTimestamp)) left.push(`${o.kind} ${o.name}`);
    }
    return left;
  }

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'kubectl-custom-uninstall-'));
    stack = await startStack({ dir });
    for (const n of NAMESPACES) expect((await admin('POST', '/api/v1/namespaces', { metadata: { name: n } })).status).toBe(201);
  }, 180_000);

  afterAll(async () => {
    await stack?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('without a terminal and without --yes: refuses, deletes nothing', async () => {
    const r = await custom(['uninstall']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^error: .*standard input is not a terminal.*pass --yes/);
    expect(await remaining()).toHaveLength(INSTALLED.length - 2); // no Deployment, no PDB in the local overlay
  });

  it('while the backend is not available and objects remain: stops and says why, deletes nothing', async () => {
    await populate('early');
    const kc = adminKubeConfig(stack.cluster);
    const caBundle = readFileSync(stack.backend.caFile, 'utf8');
    await registerLocalApiService(kc, { group: 'custom.example.com', version: 'v1', service: BACKEND_SERVICE, port: await freePort(), caBundle });
    try {
      await eventually('the APIService is not Available', async () => (await apiServiceAvailability(kc, 'v1.custom.example.com'))?.status === 'False', 60_000);
      const r = await custom(['uninstall', '--yes']);
      expect(r.code).toBe(1);
      expect(r.stdout).toBe('');
      expect(r.stderr).toMatch(/^error: the kubectl-custom backend is not available \(APIService v1\.custom\.example\.com is Available=False .*\), and 4 customresources\.example\.com objects remain\. .*run kubectl custom uninstall again\n$/);
      expect((await admin<{ items: unknown[] }>('GET', `${STORAGE}/customresources`)).body.items).toHaveLength(4);
    } finally {
      await registerLocalApiService(kc, { group: 'custom.example.com', version: 'v1', service: BACKEND_SERVICE, port: stack.backend.port, caBundle });
      await eventually('the APIService is Available again', async () => (await apiServiceAvailability(kc, 'v1.custom.example.com'))?.status === 'True', 60_000);
    }
  }, 150_000);

  it('--keep-history: every object archived and gone, the archive, the policy keeping it immutable and its namespace kept, the rest deleted', async () => {
    const uids = (await admin<{ items: { metadata: { uid: string } }[] }>('GET', `${STORAGE}/customresources`)).body.items.map((i) => i.metadata.uid);
    const r = await custom(['uninstall', '--yes', '--keep-history']);
    expect(r.code, r.stderr).toBe(0);
    const out = lines(r.stdout);
    expect(out.filter((l) => l.startsWith('customresource.example.com ')).sort()).toEqual(NAMESPACES.flatMap((n) => [`customresource.example.com "early-1" deleted from ${n} namespace`, `customresource.example.com "early-2" deleted from ${n} namespace`]).sort());
    // The objects first, then the APIService, then the rest in order.
    expect(out[4]).toBe('apiservice.apiregistration.k8s.io "v1.custom.example.com" deleted');
    expect(out).toContain('customresourcedefinition.apiextensions.k8s.io "statehistories.example.com" kept (--keep-history)');
    expect(out.at(-1)).toBe('namespace "custom-system" kept (--keep-history)');
    expect(r.stderr).toMatch(/^deleting 4 objects in 2 namespaces; .*\n(.*\n)*every object is archived and gone\n$/);

    expect(await remaining((o) => !!o.keptWithHistory)).toEqual([]);
    expect(await remaining((o) => !o.keptWithHistory)).toEqual(['CustomResourceDefinition statehistories.example.com', 'ValidatingAdmissionPolicyBinding kubectl-custom-history', 'ValidatingAdmissionPolicy kubectl-custom-history', 'Namespace custom-system']);
    // Each object's trail is in the archive, ending with its deletion.
    for (const uid of uids) {
      const entries = (await segmentsOf((path) => admin('GET', path), uid)).flatMap((seg) => seg.spec.entries).sort((a, b) => a.seq! - b.seq!);
      expect(entries.map((e) => e.action), uid).toEqual(['promote', 'deleted']);
      // The webhook recorded who asked: uninstall, as admin.
      expect(entries.at(-1)!.user, uid).toBe('admin');
    }
  }, 120_000);

  it('installed again, then all of it: no object left with the finalizer, no installed object left', async () => {
    // manifests/base again, and a backend with a token of the ServiceAccount made anew.
    await installBase(stack.cluster);
    const { proc: _proc, ...backend } = await startBackend({ cluster: stack.cluster, dir: join(dir, 'backend-2') });
    await stopProcess(stack.backend.pid);
    // stack.stop() stops the backend object it was made with: update that one.
    Object.assign(stack.backend, backend);
    await populate('late');

    const r = await custom(['uninstall', '--yes']);
    expect(r.code, r.stderr).toBe(0);
    const out = lines(r.stdout);
    expect(out.slice(0, 4).every((l) => /^customresource\.example\.com "late-[12]" deleted from team-[ab] namespace$/.test(l))).toBe(true);
    expect(out[4]).toBe('apiservice.apiregistration.k8s.io "v1.custom.example.com" deleted');
    expect(out.at(-1)).toBe('namespace "custom-system" deleted');
    expect(out).not.toContain('kept');

    // The CRD is gone, so no object can be left, with or without the finalizer; and nothing installed is.
    expect((await admin('GET', `${STORAGE}/customresources`)).status).toBe(404);
    expect(await remaining()).toEqual([]);
    // The namespaces the objects were in are not stuck behind a finalizer: they delete as any other.
    for (const n of NAMESPACES) expect((await admin('DELETE', `/api/v1/namespaces/${n}`)).status).toBe(200);
  }, 150_000);
});

// Freezes as gates, through kubectl as each user: a namespaced freeze holds
// forward moves into its states and names itself; rollbacks pass; an
// override passes and the entry records the freeze it broke; unfreezing lets
// the promote through; a freeze in custom-system holds every namespace.
// `kubectl custom list` marks frozen objects and -o wide names the freeze.
// Which freezes hold at which instant (recurring windows, time zones) is
// unit-tested with an injected clock in server/src/store/freeze-cache.test.ts.
import { randomBytes } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import type { CustomResourceHistory, CustomResourceState } from '../../api/src/types.ts';
import { api, createObject, CUSTOM, eventually, grantRole, useNamespace, waitServed } from './harness.ts';
import { kubectlCustom } from './plugin-cli.ts';

const ns = useNamespace(import.meta.filename);
const other = useNamespace(`${import.meta.filename}-other`);
/** A state no other test's objects have: a cluster-wide Freeze of it holds nothing of theirs. */
const OWN_STATE = `live-${randomBytes(3).toString('hex')}`;

const use = { apiGroups: ['custom.example.com'], resources: ['customresources', 'customresources/state', 'customresources/promote', 'customresources/history'], verbs: ['get', 'list', 'watch', 'create', 'update'] };
const states = (verbs: string[], names: string[]) => ({ apiGroups: ['custom.example.com'], resources: ['states'], resourceNames: names, verbs });

const stateOf = async (namespace: string, name: string) => (await api<CustomResourceState>('admin', 'GET', `${CUSTOM}/namespaces/${namespace}/customresources/${name}/state`)).body;

/** Waits until the backend's freeze cache holds (or no longer holds) the next move of `name`, as describe-state tells. */
async function frozen(namespace: string, name: string, want: boolean): Promise<void> {
  await eventually(`${namespace}/${name} ${want ? 'frozen' : 'not frozen'}`, async () => ((await stateOf(namespace, name)).gates.promoteBlockedBy).includes('freeze') === want);
}

beforeAll(async () => {
  // alice moves things and may break glass on prod; she does not freeze (admin does).
  await grantRole(ns(), 'alice-mover', 'alice', [use, states(['override'], ['prod'])]);
  await grantRole(other(), 'alice-mover', 'alice', [use]);
  await createObject(ns(), 'app', { name: 'App', states: ['dev', 'prod'] });
  await createObject(ns(), 'back', { name: 'Back', states: ['dev', 'prod'] });
  await createObject(ns(), 'mine', { name: 'Mine', states: ['dev', OWN_STATE] });
  await createObject(other(), 'theirs', { name: 'Theirs', states: ['dev', OWN_STATE] });
  for (const [n, o] of [[ns(), 'app'], [ns(), 'back'], [ns(), 'mine'], [other(), 'theirs']] as const) await waitServed(n, o);
  // `back` reaches prod before any freeze, to roll back during one.
  const p = await kubectlCustom('alice', ['promote', 'back', '-n', ns()]);
  expect(p.code, p.stderr).toBe(0);
});

describe('a namespaced freeze', () => {
  it('holds promote into prod, naming itself, its reason and its end; kubectl custom list marks the object', async () => {
    const f = await kubectlCustom('admin', ['freeze', '-n', ns(), '--states', 'prod', '--for', '2h', '--reason', 'incident 4711', '--name', 'incident']);
    expect(f.code, f.stderr).toBe(0);
    await frozen(ns(), 'app', true);

    const r = await kubectlCustom('alice', ['promote', 'app', '-n', ns()]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(new RegExp(`^The CustomResource "app" is invalid: freeze: Forbidden: "prod" is frozen by Freeze ${ns()}/incident until \\S+Z: incident 4711; rollbacks pass, and --override breaks glass\\n$`));
    expect((await stateOf(ns(), 'app')).state).toBe('dev');

    // --dry-run names the freeze too, and exits non-zero.
    const dry = await kubectlCustom('alice', ['promote', 'app', '-n', ns(), '--dry-run']);
    expect(dry.code).not.toBe(0);
    expect(dry.stdout + dry.stderr).toContain(`${ns()}/incident`);

    const list = await kubectlCustom('alice', ['list', '-n', ns()]);
    expect(list.code, list.stderr).toBe(0);
    expect(list.stdout).toMatch(/^app +App +dev +prod \(frozen\) /m);
    expect(list.stdout).toMatch(new RegExp(`^mine +Mine +dev +${OWN_STATE} +`, 'm'));
    const wide = await kubectlCustom('alice', ['list', '-n', ns(), '-o', 'wide']);
    expect(wide.stdout.split('\n')[0]).toMatch(/ {3}APPROVALS {3}FROZEN BY$/);
    expect(wide.stdout).toMatch(new RegExp(`^app .* {3}${ns()}/incident$`, 'm'));
  });

  it('lets a rollback through', async () => {
    const r = await kubectlCustom('alice', ['set-state', 'back', 'dev', '-n', ns(), '--reason', 'roll back during the incident']);
    expect(r.code, r.stderr).toBe(0);
    expect((await stateOf(ns(), 'back')).state).toBe('dev');
  });

  it('--override by a holder of override passes it, and the entry records the freeze it broke', async () => {
    const r = await kubectlCustom('alice', ['promote', 'app', '-n', ns(), '--override', '--reason', 'hotfix for incident 4711']);
    expect(r.code, r.stderr).toBe(0);
    const trail = (await api<CustomResourceHistory>('alice', 'GET', `${CUSTOM}/namespaces/${ns()}/customresources/app/history`)).body.lives[0]!.entries;
    expect(trail.at(-1)).toMatchObject({ action: 'override', from: 'dev', to: 'prod', user: 'alice', reason: 'hotfix for incident 4711', overrode: ['freeze'], freeze: `${ns()}/incident` });
    const history = await kubectlCustom('alice', ['history', 'app', '-n', ns()]);
    expect(history.stdout).toContain(`${ns()}/incident`);
  });

  it('unfreeze lets the promote through', async () => {
    // `back` is at dev again; frozen until the admin unfreezes.
    expect((await kubectlCustom('alice', ['promote', 'back', '-n', ns()])).code).toBe(1);
    const u = await kubectlCustom('admin', ['unfreeze', 'incident', '-n', ns()]);
    expect(u.code, u.stderr).toBe(0);
    await frozen(ns(), 'back', false);
    const r = await kubectlCustom('alice', ['promote', 'back', '-n', ns()]);
    expect(r.code, r.stderr).toBe(0);
    expect((await stateOf(ns(), 'back')).state).toBe('prod');
  });
});

describe('a cluster-wide freeze (in custom-system)', () => {
  it('holds the same state in two namespaces, and only that state; unfrozen with -A, both go through', async () => {
    const name = `all-${OWN_STATE}`;
    const f = await kubectlCustom('admin', ['freeze', '-A', '--states', OWN_STATE, '--for', '1h', '--reason', 'quarter end', '--name', name]);
    expect(f.code, f.stderr).toBe(0);
    await frozen(ns(), 'mine', true);
    await frozen(other(), 'theirs', true);
    for (const [n, o] of [[ns(), 'mine'], [other(), 'theirs']] as const) {
      const r = await kubectlCustom('alice', ['promote', o, '-n', n]);
      expect(r.code).toBe(1);
      expect(r.stderr).toContain(`is frozen by Freeze custom-system/${name} until `);
      expect(r.stderr).toContain(': quarter end;');
    }
    // prod in this namespace is not held by it.
    expect((await stateOf(ns(), 'app')).gates.promoteBlockedBy).not.toContain('freeze');

    expect((await kubectlCustom('admin', ['unfreeze', name, '-A'])).code).toBe(0);
    await frozen(ns(), 'mine', false);
    await frozen(other(), 'theirs', false);
    for (const [n, o] of [[ns(), 'mine'], [other(), 'theirs']] as const) {
      const r = await kubectlCustom('alice', ['promote', o, '-n', n]);
      expect(r.code, r.stderr).toBe(0);
      expect((await stateOf(n, o)).state).toBe(OWN_STATE);
    }
  });
});

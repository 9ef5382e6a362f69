// The trail's end, through kubectl and the built executable against the real
// control plane and backend (issue 18): a deleted object's life ends with
// its `deleted` entry, so when a cluster admin deletes the last archived
// segment of that life, `kubectl custom history NAME --verify` fails and
// names the life and the last seq kept. An untouched trail passes.
//
// With a window of HISTORY_WINDOW (10) entries of which HISTORY_KEEP (4)
// stay when it overflows, 19 changes and the deletion archive three
// segments: seq 1–7, 8–14 and 15–20. Cutting the last leaves seq 1–14 of a
// life that had 20 entries.
import { beforeAll, describe, expect, it } from 'vitest';
import { HISTORY_LABELS } from '../../api/src/names.ts';
import type { HistoryEntry } from '../../api/src/types.ts';
import { HISTORY_KEEP, HISTORY_WINDOW } from '../../server/src/state/history.ts';
import { api, createObject, CUSTOM, eventually, grantRole, STORAGE, useNamespace, waitServed } from './harness.ts';
import { kubectlCustom } from './plugin-cli.ts';

const ns = useNamespace(import.meta.filename);
const stored = (name: string) => `${STORAGE}/namespaces/${ns()}/customresources/${name}`;
const SEGMENTS = `${STORAGE}/namespaces/custom-system/statehistories`;
const CHANGES = 19;
const READ = { apiGroups: ['custom.example.com'], resources: ['customresources', 'customresources/state', 'customresources/history'], verbs: ['get', 'list', 'watch'] };

type Segment = { metadata: { name: string }; spec: { entries: HistoryEntry[] } };

/** The StateHistory segments of one life, oldest first, read as a cluster admin. */
async function segmentsOf(uid: string): Promise<Segment[]> {
  const r = await api<{ items: Segment[] }>('admin', 'GET', `${SEGMENTS}?labelSelector=${encodeURIComponent(`${HISTORY_LABELS.uid}=${uid}`)}`);
  expect(r.status, r.text).toBe(200);
  return r.body.items.sort((a, b) => a.spec.entries[0]!.seq! - b.spec.entries[0]!.seq!);
}

/**
 * An object of `name` with CHANGES changes as admin (promote and set-state,
 * a → b → c → a …), then deleted; resolves, once the backend has archived
 * the deletion and let the object go, with its uid.
 */
async function liveAndDie(name: string): Promise<string> {
  await createObject(ns(), name, { name, states: ['a', 'b', 'c'] });
  await waitServed(ns(), name);
  const uid = (await api<{ metadata: { uid: string } }>('admin', 'GET', stored(name))).body.metadata.uid;
  const states = ['a', 'b', 'c'];
  for (let i = 1, at = 'a'; i <= CHANGES; i++) {
    const r = at === 'c'
      ? await api('admin', 'PUT', `${CUSTOM}/namespaces/${ns()}/customresources/${name}/state`, { state: 'a', from: 'c', reason: `change ${i}` })
      : await api('admin', 'POST', `${CUSTOM}/namespaces/${ns()}/customresources/${name}/promote`, { from: at, reason: `change ${i}` });
    expect(r.status, r.text).toBeLessThan(300);
    at = states[(states.indexOf(at) + 1) % states.length]!;
  }
  const del = await api('admin', 'DELETE', stored(name));
  expect(del.status, del.text).toBe(200);
  await eventually(`${name} is archived and gone`, async () => (await api('admin', 'GET', stored(name))).status === 404, 30_000);
  return uid;
}

beforeAll(async () => {
  // alice only reads: --verify needs no more, and no cluster admin's word.
  await grantRole(ns(), 'alice-read', 'alice', [READ]);
  await eventually('RBAC in force', async () => (await kubectlCustom('alice', ['list', '-n', ns()])).code === 0);
});

describe('history --verify and the end of a deleted object\'s life', () => {
  let uid = '';
  let segments: Segment[] = [];

  beforeAll(async () => {
    uid = await liveAndDie('cut');
    segments = await segmentsOf(uid);
  }, 120_000);

  it(`the life was archived in segments of ${HISTORY_WINDOW - HISTORY_KEEP + 1} entries and a last one ending with the deletion`, () => {
    expect(segments.map((s) => s.spec.entries.map((e) => e.seq))).toEqual([
      [1, 2, 3, 4, 5, 6, 7],
      [8, 9, 10, 11, 12, 13, 14],
      [15, 16, 17, 18, 19, 20],
    ]);
    expect(segments.at(-1)!.spec.entries.at(-1)!.action).toBe('deleted');
  });

  it('untouched: verifies, all 20 entries', async () => {
    const r = await kubectlCustom('alice', ['history', 'cut', '-n', ns(), '--verify']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`^Life uid ${uid}, deleted at \\S+ \\(\\S+ ago\\): verified: seq 1–20, 20 entries\\n$`));
  });

  it('its last segment deleted by a cluster admin: --verify fails, naming the life and the last seq kept', async () => {
    const last = segments.at(-1)!;
    const del = await api('admin', 'DELETE', `${SEGMENTS}/${last.metadata.name}`);
    expect(del.status, del.text).toBe(200);
    expect((await segmentsOf(uid)).map((s) => s.metadata.name)).toEqual(segments.slice(0, 2).map((s) => s.metadata.name));

    const r = await kubectlCustom('alice', ['history', 'cut', '-n', ns(), '--verify']);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe(`Life uid ${uid}, deleted: cut after seq 14: the object is gone, but its life does not end with its deleted entry (seq 1–14 verify, 14 entries; the entries after seq 14 are missing)\n`);
    expect(r.stderr).toBe(`error: the history of cut does not verify: Life uid ${uid}, deleted is cut after seq 14, the last seq kept: its deleted entry is missing\n`);
    // Without --verify the kept entries are still shown.
    const h = await kubectlCustom('alice', ['history', 'cut', '-n', ns()]);
    expect(h.code, h.stderr).toBe(0);
    expect(h.stdout).toMatch(/\n14\s.*change 14\n$/);
  });

  it('re-created, the new life verifies on its own and the earlier one is still reported cut', async () => {
    await createObject(ns(), 'cut', { name: 'cut again', states: ['a', 'b'] });
    await waitServed(ns(), 'cut');
    const r = await kubectlCustom('alice', ['history', 'cut', '-n', ns(), '--verify']);
    expect(r.code).toBe(1);
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/ \(current\): verified: no entries$/);
    expect(lines[1]).toBe(`Life uid ${uid}, deleted: cut after seq 14: the object is gone, but its life does not end with its deleted entry (seq 1–14 verify, 14 entries; the entries after seq 14 are missing)`);
    expect(r.stderr).toBe(`error: the history of cut does not verify: Life uid ${uid}, deleted is cut after seq 14, the last seq kept: its deleted entry is missing\n`);
  });
});

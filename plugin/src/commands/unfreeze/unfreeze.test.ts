import { describe, expect, it } from 'vitest';
import { run } from '../../root-command.ts';
import { apiError, fakeClient, harness } from '../../testing/harness.ts';

const IN_SHOP = '/apis/example.com/v1/namespaces/shop/freezes/holidays';
const CLUSTER_WIDE = '/apis/example.com/v1/namespaces/custom-system/freezes/holidays';
const notFound = (path: string) => () => {
  throw apiError(404, 'NotFound', 'freezes.example.com "holidays" not found', path, { name: 'holidays', group: 'example.com', kind: 'freezes' });
};

async function unfreeze(args: string[], routes: Record<string, unknown>) {
  const client = fakeClient(routes);
  const h = harness({ client });
  const code = await run(['unfreeze', ...args], h.deps);
  return { code, out: h.out(), err: h.err(), calls: client.calls.map((c) => `${c.method} ${c.path}`), connects: h.connects.length };
}

describe('unfreeze', () => {
  it.each([
    { name: 'in the namespace', args: ['holidays', '-n', 'shop'], path: IN_SHOP, out: 'freeze.example.com "holidays" deleted from shop namespace\n' },
    { name: 'cluster-wide with -A', args: ['holidays', '-A'], path: CLUSTER_WIDE, out: 'freeze.example.com "holidays" deleted from custom-system namespace\n' },
  ])('deletes the Freeze $name, as kubectl delete says it', async ({ args, path, out }) => {
    const r = await unfreeze(args, { [`DELETE ${path}`]: {} });
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(r.calls).toEqual([`DELETE ${path}`]);
    expect(r.out).toBe(out);
  });

  it('not in the namespace but cluster-wide: says to add -A', async () => {
    const r = await unfreeze(['holidays', '-n', 'shop'], { [`DELETE ${IN_SHOP}`]: notFound(IN_SHOP), [`GET ${CLUSTER_WIDE}`]: {} });
    expect(r.code).toBe(1);
    expect(r.err).toBe('error: there is no freeze holidays in namespace shop, but there is a cluster-wide one: kubectl custom unfreeze holidays -A\n');
  });

  it('nowhere: NotFound, as kubectl says it', async () => {
    const r = await unfreeze(['holidays', '-n', 'shop'], { [`DELETE ${IN_SHOP}`]: notFound(IN_SHOP), [`GET ${CLUSTER_WIDE}`]: notFound(CLUSTER_WIDE) });
    expect(r.code).toBe(1);
    expect(r.err).toBe('Error from server (NotFound): freezes.example.com "holidays" not found\n');
  });

  it('a user who may not unfreeze: Forbidden', async () => {
    const forbidden = () => {
      throw apiError(403, 'Forbidden', 'freezes.example.com "holidays" is forbidden: User "bob" cannot delete resource "freezes" in API group "example.com" in the namespace "shop"', IN_SHOP);
    };
    const r = await unfreeze(['holidays', '-n', 'shop'], { [`DELETE ${IN_SHOP}`]: forbidden });
    expect(r.code).toBe(1);
    expect(r.err).toBe('Error from server (Forbidden): freezes.example.com "holidays" is forbidden: User "bob" cannot delete resource "freezes" in API group "example.com" in the namespace "shop"\n');
  });

  it('escapes a name with control characters', async () => {
    const path = '/apis/example.com/v1/namespaces/shop/freezes/a%1B%5B2Jb';
    const r = await unfreeze(['a\x1b[2Jb', '-n', 'shop'], { [`DELETE ${path}`]: {} });
    expect(r.out).toBe('freeze.example.com "a\\x1b[2Jb" deleted from shop namespace\n');
  });

  it('-A with -n is refused before connecting', async () => {
    const r = await unfreeze(['holidays', '-A', '-n', 'shop'], {});
    expect(r.code).toBe(1);
    expect(r.err).toContain('-A names a cluster-wide Freeze (in custom-system): leave out -n');
    expect(r.connects).toBe(0);
  });
});

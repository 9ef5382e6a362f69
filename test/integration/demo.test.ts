// npm run demo's story (cluster/demo.ts) on a stack of its own, with
// manifests/samples as the demo applies them: the samples put a GatePolicy
// in custom-system that gates every namespace, which would disturb the
// other files' objects on the shared control plane. The demo must keep
// showing every gate: when the samples or the gates change, this fails
// rather than a newcomer's first run.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CustomResourceHistory } from '../../api/src/types.ts';
import { Demo } from '../../cluster/demo.ts';
import { startStack, type Stack } from '../../cluster/stack.ts';
import { startDemoMetrics, type DemoMetrics } from '../../cluster/demo-metrics.ts';
import { apiOn, CUSTOM } from './harness.ts';
import { DIST } from './plugin-cli.ts';

const SAMPLES = fileURLToPath(new URL('../../manifests/samples', import.meta.url));

let stack: Stack;
let dir: string;
let metrics: DemoMetrics;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'kubectl-custom-demo-'));
  // The story runs synchronously: what Prometheus scrapes must be a process of its own, as in npm run demo.
  [stack, metrics] = await Promise.all([startStack({ dir }), startDemoMetrics(join(dir, 'prometheus'))]);
}, 240_000);

afterAll(async () => {
  await metrics?.stop();
  await stack?.stop();
  if (dir && !process.env['KEEP_CLUSTER_DIR']) rmSync(dir, { recursive: true, force: true });
});

describe('the demo', () => {
  it('shows a soak, a protected state needing two approvals from others than the mover, and an active freeze', async () => {
    let told = '';
    const demo = new Demo({ cluster: stack.cluster, path: [DIST], write: (s) => (told += s), metrics });
    demo.kubectl('admin', ['apply', '-k', SAMPLES]);
    expect(demo.ran()).toBe(false);
    demo.story();
    expect(demo.ran()).toBe(true);

    // The soak, and a dry run naming every gate that refuses at once.
    expect(told).toContain('checkout promoted: dev → staging');
    expect(told).toMatch(/status\.stateSince: Forbidden: "staging" needs 1h of soak time .*\n\* status\.approvals: Forbidden: moving into "prod" needs 1 approval/);
    // The protected state: bob may approve prod, not enter it.
    expect(told).toContain('User "bob" cannot enter state "prod": it is protected');
    // Four eyes: alice's own approval is named but does not count for her promote.
    expect(told).toContain('cart approved: staging → prod (2 needed, not counting the promoter\'s own; given by alice)');
    expect(told).toContain('needs 2 approvals by holders of "approve" on it other than alice: 1 given (by bob), 1 more needed');
    expect(told).toContain('cart promoted: staging → prod');
    // The freeze holds admin, names itself, and stays.
    expect(told).toContain('freeze.example.com/eu-peak created');
    expect(told).toMatch(/"draining" is frozen by Freeze platform\/eu-peak until \S+: EU peak season/);
    // kubectl custom list marks the object the freeze holds.
    expect(told).toMatch(/^cluster-eu-1 +Cluster eu-1 +active +draining \(frozen\) +/m);
    expect(told, 'no colour when not told on a terminal').not.toContain('\u001b[');

    const trail = await apiOn<CustomResourceHistory>(stack.cluster, 'admin', 'GET', `${CUSTOM}/namespaces/shop/customresources/cart/history`);
    expect(trail.body.lives?.[0]?.entries.map((e) => [e.action, e.user, e.approvers?.join(',') ?? ''])).toEqual([
      ['promote', 'alice', ''],
      ['approve', 'alice', ''],
      ['approve', 'bob', ''],
      ['approve', 'carol', ''],
      ['promote', 'alice', 'bob,carol'],
      ['set-state', 'alice', ''],
    ]);
    expect(told).toMatch(/weakening the gates of "prod" .*needs the "override" verb on states.custom.example.com "prod" in namespace "shop"/);
    const eu = await apiOn<{ state: string }>(stack.cluster, 'admin', 'GET', `${CUSTOM}/namespaces/platform/customresources/cluster-eu-1/state`);
    expect(eu.body.state).toBe('active');

    // A check failing, then passing: checkout's error rate, measured while it is in staging.
    const chapter = told.slice(told.indexOf('5. A check'));
    expect(chapter).toContain('$ kubectl custom check checkout -n shop   # as alice: the error rate now: 8%');
    expect(chapter).toMatch(/error-rate .*fail.*0\.08/);
    expect(chapter).toMatch(/error-rate .*pass.*0\.002/);
    const st = await apiOn<{ checks?: { gate: string; met: boolean }[]; gates: { promoteBlockedBy: string[] } }>(stack.cluster, 'admin', 'GET', `${CUSTOM}/namespaces/shop/customresources/checkout/state`);
    expect(st.body.checks?.find((c) => c.gate === 'checks')?.met).toBe(true);
    expect(st.body.gates.promoteBlockedBy).not.toContain('checks');
  });
});

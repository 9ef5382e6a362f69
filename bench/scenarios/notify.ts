// 8. Notifications (issue 22): what a NotificationPolicy adds to the write
// path. Promotes of objects a policy selects (its webhook, a receiver on
// 127.0.0.1 answering 200, gets every event) against promotes of objects no
// policy selects, one client, alternating request by request. Delivery reads
// the trail after the change is written, so the promote should not wait for
// it: target ≤ 1.10× at p50.
import { createServer } from 'node:http';
import type { Ctx } from '../context.ts';
import { createObjects, CUSTOM, STORAGE, waitCache } from '../fixtures.ts';
import { ms } from '../report.ts';
import { interleave, summarize } from '../stats.ts';

const NS = { with: 'bench-notify-on', without: 'bench-notify-off' } as const;
const STATES = Array.from({ length: 32 }, (_, i) => `s${i}`);
const MOVES = 30;
const KEY = `whsec_${Buffer.from('bench receiver key of 32 bytes!!').toString('base64')}`;

export async function scenarioNotify(ctx: Ctx): Promise<number> {
  const { c, cfg, report } = ctx;
  const objects = cfg.notifyObjects;
  let received = 0;
  const receiver = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      received++;
      res.writeHead(200).end();
    });
  });
  await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
  const port = (receiver.address() as { port: number }).port;
  try {
    for (const ns of Object.values(NS)) {
      const r = await c.call('POST', '/api/v1/namespaces', { metadata: { name: ns } });
      if (r.status !== 201 && r.status !== 409) throw new Error(`namespace ${ns}: ${r.status} ${r.text.slice(0, 200)}`);
    }
    const must = async (what: string, p: Promise<{ status: number; text: string }>) => {
      const r = await p;
      if (r.status >= 300) throw new Error(`${what}: ${r.status} ${r.text.slice(0, 300)}`);
    };
    await must('secret', c.call('POST', `/api/v1/namespaces/${NS.with}/secrets`, { metadata: { name: 'hook' }, stringData: { secret: KEY } }));
    await must('rolebinding', c.call('POST', `/apis/rbac.authorization.k8s.io/v1/namespaces/${NS.with}/rolebindings`, { metadata: { name: 'kubectl-custom-notifications' }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'kubectl-custom-secrets' }, subjects: [{ kind: 'ServiceAccount', name: 'kubectl-custom-backend', namespace: 'custom-system' }] }));
    await must('policy', c.call('POST', `${STORAGE}/namespaces/${NS.with}/notificationpolicies`, { apiVersion: 'example.com/v1', kind: 'NotificationPolicy', metadata: { name: 'bench' }, spec: { sinks: [{ name: 'hook', webhook: { url: `http://127.0.0.1:${port}/events`, secretRef: { name: 'hook' } } }] } }));
    for (const ns of Object.values(NS)) await createObjects(c, ns, objects, { states: STATES });
    // Its own namespaces only: the count elsewhere is the other scenarios' business (the watch scenario's objects, say).
    for (const ns of Object.values(NS)) await waitCache(c, ns, objects);
    const at = { with: 0, without: 0 };
    const promote = (side: keyof typeof NS) => async () => {
      const i = at[side]++;
      const obj = `obj-${i % objects}`;
      const from = STATES[Math.floor(i / objects)]!;
      const r = await c.call('POST', `${CUSTOM}/namespaces/${NS[side]}/customresources/${obj}/promote`, { from, reason: `r${i}` });
      if (r.status !== 201) throw new Error(`promote ${NS[side]}/${obj} from ${from}: ${r.status} ${r.text.slice(0, 300)}`);
    };
    // Every object moves MOVES times (the warm-up's 3 rounds included).
    const r = await interleave(objects * MOVES - 3, { with: promote('with'), without: promote('without') });
    const a = summarize(r.with);
    const b = summarize(r.without);
    const sent = at.with;
    const deadline = Date.now() + 60_000;
    while (received < sent && Date.now() < deadline) await new Promise((res) => setTimeout(res, 100));
    report.add({
      scenario: '8 Notifications', measure: `promote p50, ${r.with.length} a side, one client, alternating`,
      a: { name: 'selected by a NotificationPolicy (webhook)', summary: a }, b: { name: 'no policy', summary: b },
      target: '≤ 1.10×', pass: a.p50 / b.p50 <= 1.1,
      cause: `a promote of a selected object took ${ms(a.p50)} ms at p50 against ${ms(b.p50)} ms: delivery runs on the leader after the change is acknowledged (the watch event only marks the object), but shares the backend's CPU and kube-apiserver with the write path (a status write per second per policy, a Secret read every 10 s, one POST per event).`,
    });
    report.note('8 Notifications', `the receiver got ${received} of the ${sent} events the promotes made (every one, at least once, is expected).`);
    return 2 * objects;
  } finally {
    receiver.closeAllConnections();
    await new Promise((r) => receiver.close(r));
  }
}

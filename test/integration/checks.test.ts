// Verification checks as gates, against a real Prometheus (Debian's, started
// on loopback, scraping an exporter whose error ratio the test sets) and a
// real HTTP endpoint (issue 21): the backend measures the checks of the next
// move while the object is in the state before; a promote is refused while
// the error ratio is high and accepted once it has dropped over a whole run;
// a GatePolicy's check holds an object whose spec has none; an override
// passes on the record with the values; a dry run names each check;
// Prometheus unreachable is a recorded error and a refusal. Admission keeps
// an editor from removing or changing a check, from writing one that cannot
// be evaluated, and from pointing one at a Secret he may not read. The
// schedule itself is unit-tested with a fake clock
// (server/src/controllers/check-runner.test.ts); here runs are 1 s apart.
import { createServer, type Server } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CheckReport, CheckSpec } from '../../api/src/checks.ts';
import { SECRETS_ROLE } from '../../api/src/names.ts';
import type { CustomResourceHistory, CustomResourceState } from '../../api/src/types.ts';
import { freePort } from '../../cluster/processes.ts';
import { startPrometheus, type RunningPrometheus } from '../../cluster/prometheus.ts';
import { api, createObject, CUSTOM, eventually, grantRole, kubectl, STORAGE, useNamespace, waitServed } from './harness.ts';
import { kubectlCustom } from './plugin-cli.ts';

const ns = useNamespace(import.meta.filename);
const dir = mkdtempSync(join(tmpdir(), 'kubectl-custom-checks-gates-'));
const servers: Server[] = [];
let prometheus: RunningPrometheus;
/** The error ratio the exporter reports, by app. */
const errorRatio: Record<string, number> = { checkout: 0.5, hotfix: 0.5 };
/** What the change system answers for a ticket. */
let ticketState = 'pending';
let ticketUrl = '';

const use = { apiGroups: ['custom.example.com'], resources: ['customresources', 'customresources/state', 'customresources/promote', 'customresources/approve', 'customresources/history', 'customresources/check'], verbs: ['get', 'list', 'watch', 'create', 'update'] };
const edit = { apiGroups: ['example.com'], resources: ['customresources'], verbs: ['get', 'list', 'watch', 'create', 'update', 'patch'] };
const states = (verbs: string[], names: string[]) => ({ apiGroups: ['custom.example.com'], resources: ['states'], resourceNames: names, verbs });

async function listen(s: Server): Promise<number> {
  const port = await freePort();
  await new Promise<void>((r) => s.listen(port, '127.0.0.1', r));
  servers.push(s);
  return port;
}

const errorRateCheck = (over: Partial<CheckSpec> = {}): CheckSpec => ({
  name: 'error-rate',
  prometheus: { address: prometheus.url, query: 'shop_error_ratio{app="{{name}}"}' },
  successCondition: 'result[0] < 0.01',
  count: 2,
  intervalSeconds: 1,
  ...over,
});

const stateOf = async (name: string) => (await api<CustomResourceState>('admin', 'GET', `${CUSTOM}/namespaces/${ns()}/customresources/${name}/state`)).body;
const checkOf = async (name: string, check: string) => (await stateOf(name)).checks?.find((c) => c.gate === 'checks' && c.check?.name === check);
const trailOf = async (name: string) => (await api<CustomResourceHistory>('admin', 'GET', `${CUSTOM}/namespaces/${ns()}/customresources/${name}/history`)).body.lives[0]!.entries;

/** Creates an object in staging (promoted from dev, which has no gates). */
async function inStaging(name: string, spec: Record<string, unknown>, labels?: Record<string, string>): Promise<void> {
  await createObject(ns(), name, { name, states: ['dev', 'staging', 'prod'], ...spec }, labels);
  await waitServed(ns(), name);
  const r = await kubectlCustom('alice', ['promote', name, '-n', ns()]);
  expect(r.code, r.stderr).toBe(0);
}

beforeAll(async () => {
  const exporter = createServer((_req, res) => {
    res.writeHead(200, { 'Content-Type': 'text/plain; version=0.0.4' });
    res.end(`# TYPE shop_error_ratio gauge\n${Object.entries(errorRatio).map(([app, v]) => `shop_error_ratio{app="${app}"} ${v}`).join('\n')}\n`);
  });
  const ticket = createServer((_req, res) => {
    res.writeHead(200, { 'Content-Type': 'application/json' });
    res.end(JSON.stringify({ state: ticketState }));
  });
  const [exporterPort, ticketPort] = [await listen(exporter), await listen(ticket)];
  ticketUrl = `http://127.0.0.1:${ticketPort}/tickets/{{namespace}}/{{name}}`;
  prometheus = await startPrometheus(join(dir, 'prometheus'), [`127.0.0.1:${exporterPort}`], { log: (l) => process.stderr.write(`[prometheus] ${l}\n`) });
  await eventually('Prometheus has scraped the exporter', async () => {
    const r = await fetch(`${prometheus.url}/api/v1/query?query=shop_error_ratio`);
    return ((await r.json()) as { data?: { result?: unknown[] } }).data?.result?.length === 2;
  }, 60_000);
  // alice moves things, approves and breaks glass on prod; bob edits objects and may approve, nothing more.
  await grantRole(ns(), 'alice-mover', 'alice', [use, edit, states(['enter', 'approve', 'override'], ['prod'])]);
  await grantRole(ns(), 'bob-editor', 'bob', [use, edit, states(['approve'], ['prod'])]);
}, 180_000);

afterAll(async () => {
  await prometheus?.stop();
  for (const s of servers) s.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('a prometheus check of prod', () => {
  it('refuses a promote while the error ratio is high, with the check, its condition and the value measured', async () => {
    await inStaging('checkout', { checks: { prod: [errorRateCheck()] } });
    await eventually('the run has failed', async () => (await checkOf('checkout', 'error-rate'))?.check?.last?.phase === 'Failed');
    const r = await kubectlCustom('alice', ['promote', 'checkout', '-n', ns(), '--reason', 'ship it']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^The CustomResource "checkout" is invalid: checks: Forbidden: check "error-rate" \(spec\) (failed: result\[0\] < 0\.01 did not hold|of the move into "prod" has not passed yet)/);
    expect(r.stderr).toContain('{"result":[0.5]}');
    expect((await stateOf('checkout')).state).toBe('staging');
    // The run's end is told once, as a Warning Event on the object.
    await eventually('the CheckFailed Event', async () => {
      const ev = await kubectl('admin', ['get', 'events', '-n', ns(), '--field-selector', 'reason=CheckFailed,involvedObject.name=checkout', '-o', 'jsonpath={.items[*].message}']);
      return ev.stdout.includes('check error-rate (spec) of the move staging → prod failed: {"result":[0.5]}');
    });
    const st = await stateOf('checkout');
    expect(st.gates.promoteBlockedBy).toContain('checks');
    // kubectl custom list says why the next move is held.
    const list = await kubectlCustom('alice', ['list', '-n', ns()]);
    expect(list.stdout).toMatch(/^checkout +checkout +staging +prod \(checks 0\/1\) /m);
    expect(st.checks!.find((c) => c.gate === 'checks')).toMatchObject({ met: false, sources: [{ kind: 'spec' }], check: { name: 'error-rate', provider: 'prometheus', successCondition: 'result[0] < 0.01', count: 2 } });
  });

  it('a dry run names each check that holds the move, and changes nothing', async () => {
    const dry = await api<{ details?: { causes?: { field: string; message: string }[] } }>('alice', 'POST', `${CUSTOM}/namespaces/${ns()}/customresources/checkout/promote?dryRun=All`, { reason: 'ship it' });
    expect(dry.status).toBe(422);
    expect(dry.body.details!.causes!.filter((c) => c.field === 'checks').map((c) => c.message)).toEqual([expect.stringContaining('check "error-rate" (spec)')]);
    expect((await stateOf('checkout')).state).toBe('staging');
  });

  it('POST …/check measures the checks of the next move once, now, and records nothing', async () => {
    const before = (await stateOf('checkout')).checks;
    const r = await api<CheckReport>('alice', 'POST', `${CUSTOM}/namespaces/${ns()}/customresources/checkout/check`, {});
    expect(r.status, r.text).toBe(200);
    expect(r.body).toMatchObject({ kind: 'CustomResourceCheck', from: 'staging', to: 'prod', passed: false, results: [{ name: 'error-rate', source: 'spec', provider: 'prometheus', measurement: { phase: 'Failed', value: '{"result":[0.5]}' } }] });
    // Whoever may not create customresources/check is refused by the backend's authorization.
    expect((await api('carol', 'POST', `${CUSTOM}/namespaces/${ns()}/customresources/checkout/check`, {})).status).toBe(403);
    expect((await stateOf('checkout')).checks?.find((c) => c.gate === 'checks')?.check?.measured).toBeLessThanOrEqual(before?.find((c) => c.gate === 'checks')?.check?.measured ?? 2);
  });

  it('lets the promote through once the ratio has dropped over a whole run, and the entry keeps the results', async () => {
    errorRatio.checkout = 0.001;
    await eventually('the check passed', async () => (await checkOf('checkout', 'error-rate'))?.check?.phase === 'Successful', 30_000);
    const r = await kubectlCustom('alice', ['promote', 'checkout', '-n', ns(), '--reason', 'errors are down']);
    expect(r.code, r.stderr).toBe(0);
    expect((await stateOf('checkout')).state).toBe('prod');
    expect((await trailOf('checkout')).at(-1)).toMatchObject({ action: 'promote', from: 'staging', to: 'prod', checks: [{ name: 'error-rate', source: 'spec', phase: 'Successful', value: '{"result":[0.001]}' }] });
  });

  it('a rollback passes the checks', async () => {
    errorRatio.checkout = 0.9;
    const r = await kubectlCustom('alice', ['set-state', 'checkout', 'staging', '-n', ns(), '--reason', 'errors again']);
    expect(r.code, r.stderr).toBe(0);
    // In staging again: a new stay, new runs, and the gate shut while the ratio is high.
    await eventually('the new run has measured', async () => (await checkOf('checkout', 'error-rate'))?.check?.last !== undefined);
    const again = await kubectlCustom('alice', ['promote', 'checkout', '-n', ns(), '--reason', 'again']);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain('check "error-rate"');
  });
});

describe('a GatePolicy check of prod', () => {
  it('holds an object whose spec has no check, naming the policy, until the change system says approved', async () => {
    const policy = {
      apiVersion: 'example.com/v1',
      kind: 'GatePolicy',
      metadata: { name: 'prod-change-ticket' },
      spec: { rules: [{ states: ['prod'], selector: { matchLabels: { change: 'ticketed' } }, checks: [{ name: 'ticket', http: { url: ticketUrl }, successCondition: 'status == 200 && body.state == "approved"', intervalSeconds: 1 }] }] },
    };
    const p = await api('admin', 'POST', `${STORAGE}/namespaces/${ns()}/gatepolicies`, policy);
    expect(p.status, p.text).toBe(201);
    await inStaging('cart', {}, { change: 'ticketed' });
    await eventually('the ticket was measured', async () => (await checkOf('cart', 'ticket'))?.check?.last !== undefined);
    const refused = await kubectlCustom('alice', ['promote', 'cart', '-n', ns(), '--reason', 'go']);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain(`check "ticket" (GatePolicy ${ns()}/prod-change-ticket)`);
    expect(refused.stderr).toContain('"state":"pending"');
    ticketState = 'approved';
    await eventually('the ticket check passed', async () => (await checkOf('cart', 'ticket'))?.check?.phase === 'Successful', 30_000);
    const ok = await kubectlCustom('alice', ['promote', 'cart', '-n', ns(), '--reason', 'ticket approved']);
    expect(ok.code, ok.stderr).toBe(0);
    expect((await trailOf('cart')).at(-1)).toMatchObject({ to: 'prod', checks: [{ name: 'ticket', source: `GatePolicy ${ns()}/prod-change-ticket`, phase: 'Successful' }] });
  });
});

describe('breaking glass and errors', () => {
  it('--override passes a failing check on the record, with the value it passed', async () => {
    await inStaging('hotfix', { checks: { prod: [errorRateCheck()] } });
    await eventually('the run has failed', async () => (await checkOf('hotfix', 'error-rate'))?.check?.last?.phase === 'Failed');
    const r = await kubectlCustom('alice', ['promote', 'hotfix', '-n', ns(), '--override', '--reason', 'the fix for the errors themselves']);
    expect(r.code, r.stderr).toBe(0);
    expect((await trailOf('hotfix')).at(-1)).toMatchObject({ action: 'override', to: 'prod', overrode: ['checks'], checks: [{ name: 'error-rate', value: '{"result":[0.5]}' }] });
    expect(['Failed', 'Running']).toContain((await trailOf('hotfix')).at(-1)!.checks![0]!.phase);
  });

  it('Prometheus unreachable: the run records an error that says so, and the promote is refused', async () => {
    const closed = await freePort();
    await inStaging('blind', { checks: { prod: [errorRateCheck({ prometheus: { address: `http://127.0.0.1:${closed}`, query: 'up' } })] } });
    await eventually('the error was recorded', async () => (await checkOf('blind', 'error-rate'))?.check?.last?.phase === 'Error');
    expect((await checkOf('blind', 'error-rate'))!.check!.last!.message).toBe(`cannot reach Prometheus at http://127.0.0.1:${closed}: connection refused`);
    const r = await kubectlCustom('alice', ['promote', 'blind', '-n', ns(), '--reason', 'go']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('connection refused');
  });
});

describe("a check's Secret", () => {
  it('is read only where the namespace lets the backend read Secrets, goes only into the request, and never shows', async () => {
    const token = 'tok-' + Math.random().toString(36).slice(2);
    const guarded = createServer((req, res) => {
      const ok = req.headers.authorization === `Bearer ${token}`;
      res.writeHead(ok ? 200 : 401, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify({ ok }));
    });
    const port = await listen(guarded);
    const secret = await api('admin', 'POST', `/api/v1/namespaces/${ns()}/secrets`, { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'health-token' }, stringData: { token } });
    expect(secret.status, secret.text).toBe(201);
    await inStaging('guarded-health', { checks: { prod: [{ name: 'health', http: { url: `http://127.0.0.1:${port}/health`, tokenSecretRef: { name: 'health-token', key: 'token' } }, successCondition: 'status == 200', intervalSeconds: 1 }] } });
    // Until the namespace binds the role, the backend may not read it: an error that says what to do.
    await eventually('the error was recorded', async () => (await checkOf('guarded-health', 'health'))?.check?.last?.phase === 'Error');
    expect((await checkOf('guarded-health', 'health'))!.check!.last!.message).toBe(
      `the backend may not read Secret ${ns()}/health-token: bind the ClusterRole ${SECRETS_ROLE} to its ServiceAccount in namespace ${ns()}: kubectl create rolebinding ${SECRETS_ROLE} -n ${ns()} --clusterrole=${SECRETS_ROLE} --serviceaccount=custom-system:kubectl-custom-backend`,
    );
    const bind = await kubectl('admin', ['create', 'rolebinding', SECRETS_ROLE, '-n', ns(), `--clusterrole=${SECRETS_ROLE}`, '--serviceaccount=custom-system:kubectl-custom-backend']);
    expect(bind.code, bind.stderr).toBe(0);
    await eventually('the check passed with the token', async () => (await checkOf('guarded-health', 'health'))?.check?.phase === 'Successful', 30_000);
    // The value is nowhere the backend writes or answers.
    const stored = await api('admin', 'GET', `${STORAGE}/namespaces/${ns()}/customresources/guarded-health`);
    const described = await api('admin', 'GET', `${CUSTOM}/namespaces/${ns()}/customresources/guarded-health/state`);
    const events = await kubectl('admin', ['get', 'events', '-n', ns(), '-o', 'json']);
    for (const text of [stored.text, described.text, events.stdout]) expect(text).not.toContain(token);
  });
});

describe('admission of checks', () => {
  const patch = (user: 'bob' | 'alice', name: string, body: unknown) => kubectl(user, ['patch', 'customresources.example.com', name, '-n', ns(), '--type', 'merge', '-p', JSON.stringify(body)]);

  it('an editor may not remove or change a check without override on the state', async () => {
    await createObject(ns(), 'guarded', { name: 'guarded', states: ['dev', 'staging', 'prod'], checks: { prod: [{ name: 'up', http: { url: 'http://127.0.0.1:1/' }, successCondition: 'status == 200' }] } });
    const removed = await patch('bob', 'guarded', { spec: { checks: null } });
    expect(removed.code).not.toBe(0);
    // The policy on spec alone answers first (kube-apiserver evaluates it before calling the webhook).
    expect(removed.stderr).toContain('weakening the gates of "prod" (a check removed or changed) needs the "override" verb on states.custom.example.com "prod"');
    const changed = await patch('bob', 'guarded', { spec: { checks: { prod: [{ name: 'up', http: { url: 'http://127.0.0.1:1/' }, successCondition: 'true' }] } } });
    expect(changed.code).not.toBe(0);
    expect(changed.stderr).toMatch(/override/);
    // Adding one is no weakening.
    const added = await patch('bob', 'guarded', { spec: { checks: { staging: [{ name: 'up', http: { url: 'http://127.0.0.1:1/' }, successCondition: 'status == 200' }] } } });
    expect(added.code, added.stderr).toBe(0);
    // alice holds override on prod: she may.
    const ok = await patch('alice', 'guarded', { spec: { checks: { prod: null } } });
    expect(ok.code, ok.stderr).toBe(0);
  });

  it("relabelling an object out of a GatePolicy rule's checks needs override: the webhook names the check", async () => {
    await createObject(ns(), 'relabel', { name: 'relabel', states: ['dev', 'staging', 'prod'] }, { change: 'ticketed' });
    await waitServed(ns(), 'relabel');
    const r = await kubectl('bob', ['label', 'customresources.example.com', 'relabel', '-n', ns(), 'change=none', '--overwrite']);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain(`weakening the gates of "prod" (check "ticket" (GatePolicy ${ns()}/prod-change-ticket) removed or changed) needs the "override" verb on states.custom.example.com "prod"`);
  });

  it("relabelling an object whose check's query names that label needs override: it would measure another series", async () => {
    await createObject(ns(), 'by-label', { name: 'by-label', states: ['dev', 'staging', 'prod'], checks: { prod: [{ name: 'errors', prometheus: { address: prometheus.url, query: 'shop_error_ratio{app="{{labels.app}}"}' }, successCondition: 'result[0] < 0.01' }] } }, { app: 'checkout' });
    await waitServed(ns(), 'by-label');
    const r = await kubectl('bob', ['label', 'customresources.example.com', 'by-label', '-n', ns(), 'app=some-healthy-app', '--overwrite']);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('weakening the gates of "prod" (check "errors" (spec) removed or changed) needs the "override" verb');
    // Another label is no change of the check.
    const other = await kubectl('bob', ['label', 'customresources.example.com', 'by-label', '-n', ns(), 'tier=web']);
    expect(other.code, other.stderr).toBe(0);
  });

  it('a condition that is not CEL, or an unknown placeholder, is refused when written', async () => {
    const bad = await api('admin', 'POST', `${STORAGE}/namespaces/${ns()}/customresources`, { apiVersion: 'example.com/v1', kind: 'CustomResource', metadata: { name: 'bad-cel' }, spec: { name: 'x', states: ['dev', 'prod'], checks: { prod: [{ name: 'e', prometheus: { address: 'http://p:9090', query: 'up{app="{{nme}}"}' }, successCondition: 'result[0] <' }] } } });
    expect(bad.status).toBe(422);
    expect(bad.text).toContain('successCondition');
    expect(bad.text).toContain('not a CEL expression');
    expect(bad.text).toContain('unknown placeholder {{nme}}');
    const twoProviders = await api('admin', 'POST', `${STORAGE}/namespaces/${ns()}/customresources`, { apiVersion: 'example.com/v1', kind: 'CustomResource', metadata: { name: 'two' }, spec: { name: 'x', states: ['dev', 'prod'], checks: { prod: [{ name: 'e', prometheus: { address: 'http://p', query: 'up' }, http: { url: 'http://h/' }, successCondition: 'true' }] } } });
    expect(twoProviders.status).toBe(422);
    expect(twoProviders.text).toContain('exactly one provider');
  });

  it('a check naming a Secret its writer may not read is forbidden: it would send the value where the writer says', async () => {
    const spec = { name: 'x', states: ['dev', 'prod'], checks: { prod: [{ name: 'steal', http: { url: 'http://127.0.0.1:9/collect', tokenSecretRef: { name: 'prod-db', key: 'password' } }, successCondition: 'true' }] } };
    const r = await api('bob', 'POST', `${STORAGE}/namespaces/${ns()}/customresources`, { apiVersion: 'example.com/v1', kind: 'CustomResource', metadata: { name: 'exfil' }, spec });
    expect(r.status).toBe(403);
    expect(r.text).toContain('a check names Secret \\"prod-db\\"');
    // admin may read Secrets: allowed.
    const ok = await api('admin', 'POST', `${STORAGE}/namespaces/${ns()}/customresources`, { apiVersion: 'example.com/v1', kind: 'CustomResource', metadata: { name: 'exfil' }, spec });
    expect(ok.status, ok.text).toBe(201);
  });
});

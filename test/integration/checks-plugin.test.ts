// Verification checks through the built executable (issue 21): against the
// real control plane and backend, an object whose move into staging needs an
// HTTP check of an endpoint on loopback whose answer the test changes.
// describe-state's Checks table, `kubectl custom check` (its table, its exit
// code, -o json, a viewer's 403 naming create on customresources/check, an
// object that is not there), the refusal of promote, and an override's
// recorded check in history, with the roles of manifests/base
// (kubectl-custom-editor, -viewer). The check is measured again only 30 s
// after it failed, so its failed run stands still while the test reads it;
// nothing here waits for that.
import { createServer, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CheckReport } from '../../api/src/checks.ts';
import type { CustomResourceState } from '../../api/src/types.ts';
import { freePort } from '../../cluster/processes.ts';
import { api, bindClusterRole, createObject, CUSTOM, eventually, grantRole, useNamespace, waitServed } from './harness.ts';
import { kubectlCustom } from './plugin-cli.ts';

const ns = useNamespace(import.meta.filename);
let healthy = false;
let endpoint: Server;

/** The phase of the health check's run, as describe-state reports it. */
async function phase(): Promise<string | undefined> {
  const r = await api<CustomResourceState>('admin', 'GET', `${CUSTOM}/namespaces/${ns()}/customresources/svc/state`);
  return r.body.checks?.find((c) => c.gate === 'checks' && c.check?.name === 'health')?.check?.phase;
}

beforeAll(async () => {
  endpoint = createServer((_req, res) => {
    res.writeHead(200, { 'Content-Type': 'application/json' });
    res.end(JSON.stringify({ ok: healthy }));
  });
  const port = await freePort();
  await new Promise<void>((r) => endpoint.listen(port, '127.0.0.1', r));
  await bindClusterRole(ns(), 'alice', 'kubectl-custom-editor');
  await grantRole(ns(), 'alice-override', 'alice', [{ apiGroups: ['custom.example.com'], resources: ['states'], resourceNames: ['staging'], verbs: ['override'] }]);
  await bindClusterRole(ns(), 'bob', 'kubectl-custom-viewer');
  await createObject(ns(), 'svc', {
    name: 'Service',
    states: ['dev', 'staging'],
    checks: { staging: [{ name: 'health', http: { url: `http://127.0.0.1:${port}/healthz` }, successCondition: 'status == 200 && body.ok', count: 1, intervalSeconds: 30 }] },
  });
  await waitServed(ns(), 'svc');
});

afterAll(async () => {
  await new Promise<void>((r) => endpoint.close(() => r()));
});

describe('kubectl custom and checks', () => {
  it('an unhealthy endpoint: describe-state lists the failed check, check prints it and exits 1', async () => {
    await eventually('the backend measured the check as failed', async () => (await phase()) === 'Failed', 30_000);

    const d = await kubectlCustom('alice', ['describe-state', 'svc', '-n', ns()]);
    expect(d.code, d.stderr).toBe(0);
    expect(d.stdout).toMatch(/^Checks:\n {2}CHECK +SOURCE +RESULT +MEASURED +LAST VALUE +LAST RUN +NEXT RUN +MESSAGE\n/m);
    expect(d.stdout).toMatch(/^ {2}health +spec +fail +1\/1 +\{"status":200,"body":\{"ok":fals… +\d+s ago/m);
    expect(d.stdout).toContain('promote: no (checks not passed)');

    const c = await kubectlCustom('alice', ['check', 'svc', '-n', ns()]);
    expect(c.code).toBe(1);
    expect(c.stdout).toMatch(/^CHECK +SOURCE +RESULT +VALUE +MESSAGE\nhealth +spec +fail +\S*"ok":false\S* +\S/);
    expect(c.stderr).toBe('error: 1 of 1 check of svc (dev → staging) did not pass: health fail\n');

    const j = await kubectlCustom('alice', ['check', 'svc', '-n', ns(), '-o', 'json']);
    expect(j.code).toBe(1);
    const report = JSON.parse(j.stdout) as CheckReport;
    expect(report).toMatchObject({ kind: 'CustomResourceCheck', from: 'dev', to: 'staging', passed: false, results: [{ name: 'health', source: 'spec', provider: 'http', measurement: { phase: 'Failed' } }] });
  });

  it('refuses a viewer, naming create on customresources/check; an object that is not there is NotFound', async () => {
    const r = await kubectlCustom('bob', ['check', 'svc', '-n', ns()]);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/^Error from server \(Forbidden\): .*cannot create resource "customresources\/check" in API group "custom\.example\.com"/);

    const n = await kubectlCustom('alice', ['check', 'nosuch', '-n', ns()]);
    expect(n.code).toBe(1);
    expect(n.stderr).toBe('Error from server (NotFound): customresources.custom.example.com "nosuch" not found\n');
  });

  it('healthy again: check passes now (exit 0), while promote is refused on the recorded run; an override passes it and history shows what it passed', async () => {
    healthy = true;
    const c = await kubectlCustom('alice', ['check', 'svc', '-n', ns()]);
    expect(c.code, c.stderr).toBe(0);
    expect(c.stderr).toBe('');
    expect(c.stdout).toMatch(/^health +spec +pass +\S*"ok":true\S* +\S/m);

    // The gate counts the backend's runs, not what check measured just now.
    const refused = await kubectlCustom('alice', ['promote', 'svc', '-n', ns()]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/^The CustomResource "svc" is invalid: checks: Forbidden: .*health/);

    const o = await kubectlCustom('alice', ['promote', 'svc', '-n', ns(), '--override', '--reason', 'endpoint fixed']);
    expect(o.code, o.stderr).toBe(0);
    expect(o.stdout).toBe('svc promoted: dev → staging (override of checks)\n');

    const h = await kubectlCustom('alice', ['history', 'svc', '-n', ns()]);
    expect(h.code, h.stderr).toBe(0);
    expect(h.stdout).toMatch(/^1 .* override \(checks\) +dev +staging +alice +checks health fail \{"status":200,"… +endpoint fixed$/m);

    // At the last state there is nothing to check.
    const last = await kubectlCustom('alice', ['check', 'svc', '-n', ns()]);
    expect(last).toMatchObject({ code: 0, stdout: '', stderr: 'svc is at its last state: there is no move to check.\n' });
  });
});

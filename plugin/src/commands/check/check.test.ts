import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import type { CheckReport, CheckReportItem } from '../../../../api/src/checks.ts';
import { newChalk } from '../../output/color.ts';
import { hasUnsafeCharacters } from '../../output/escape.ts';
import { renderCheckReport } from '../../output/check-printer.ts';
import { run } from '../../root-command.ts';
import type { CommandContext } from '../context.ts';
import { complete } from '../completion/completion.ts';
import { apiError, fakeClient, harness } from '../../testing/harness.ts';

const OBJ = '/apis/custom.example.com/v1/namespaces/shop/customresources/checkout';
const APISERVICE = '/apis/apiregistration.k8s.io/v1/apiservices/v1.custom.example.com';

const errorRate = (over: Partial<CheckReportItem['measurement']> = {}): CheckReportItem => ({
  name: 'error-rate',
  source: 'spec',
  provider: 'prometheus',
  successCondition: 'result[0] < 0.01',
  measurement: { phase: 'Successful', time: '2025-06-01T12:00:00Z', value: '[0.004]', ...over },
});

const health = (over: Partial<CheckReportItem['measurement']> = {}): CheckReportItem => ({
  name: 'health',
  source: 'GatePolicy custom-system/prod-gates',
  provider: 'http',
  successCondition: 'status == 200 && body.ok',
  failureCondition: 'status >= 500',
  measurement: { phase: 'Successful', time: '2025-06-01T12:00:00Z', value: '{"status":200,"body":{"ok":true}}', ...over },
});

/** A CheckReport as POST …/check answers for checkout moving staging → prod. */
function report(results: CheckReportItem[], passed = results.every((r) => r.measurement.phase === 'Successful'), move: { from?: string; to?: string } = { from: 'staging', to: 'prod' }): CheckReport {
  return { kind: 'CustomResourceCheck', apiVersion: 'custom.example.com/v1', metadata: { name: 'checkout', namespace: 'shop' }, ...move, results, passed };
}

async function runWith(argv: string[], routes: Record<string, unknown>): Promise<{ code: number; out: string; err: string; calls: ReturnType<typeof fakeClient>['calls'] }> {
  const client = fakeClient(routes);
  const h = harness({ client });
  const code = await run(argv, h.deps);
  return { code, out: h.out(), err: h.err(), calls: client.calls };
}

describe('check: the report', () => {
  it('every check passed: the table, exit 0, one POST with an empty body in the namespace given', async () => {
    const r = await runWith(['check', 'checkout', '-n', 'shop'], { [`POST ${OBJ}/check`]: report([errorRate(), health()]) });
    expect(r.code).toBe(0);
    expect(r.err).toBe('');
    expect(r.calls).toEqual([{ method: 'POST', path: `${OBJ}/check`, opts: { body: {} } }]);
    for (const l of r.out.split('\n')) expect(l).toBe(l.trimEnd());
    expect(r.out).toMatch(/^CHECK {8}SOURCE {3,}RESULT {3}VALUE {3,}MESSAGE\n/);
    await expect(r.out).toMatchFileSnapshot('./testdata/check-passed.golden.txt');
  });

  it('a check that did not pass: the table, then one error line naming it, exit 1', async () => {
    const r = await runWith(['check', 'checkout', '-n', 'shop'], { [`POST ${OBJ}/check`]: report([errorRate({ phase: 'Failed', value: '[0.042]' }), health()]) });
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/^error-rate +spec +fail +\[0\.042\] +result\[0\] < 0\.01 does not hold$/m);
    expect(r.err).toBe('error: 1 of 2 checks of checkout (staging → prod) did not pass: error-rate fail\n');
    await expect(r.out).toMatchFileSnapshot('./testdata/check-failed.golden.txt');
  });

  it.each<{ name: string; item: CheckReportItem; result: string; message: string }>([
    { name: 'failed by its failureCondition', item: health({ phase: 'Failed', value: '{"status":503}' }), result: 'fail', message: 'status >= 500 holds' },
    { name: 'inconclusive: neither condition held', item: health({ phase: 'Inconclusive', value: '{"status":302}' }), result: 'inconclusive', message: 'neither status == 200 && body.ok nor status >= 500 holds' },
    { name: 'an error: the provider could not be asked, its message shown, no value', item: errorRate({ phase: 'Error', value: undefined, message: 'Get "http://prometheus:9090/api/v1/query": connection refused' }), result: 'error', message: 'Get "http://prometheus:9090/api/v1/query": connection refused' },
    { name: "the server's message wins over the conditions", item: errorRate({ phase: 'Failed', message: 'result [0.042]: result[0] < 0.01 is false' }), result: 'fail', message: 'result [0.042]: result[0] < 0.01 is false' },
    { name: 'a phase a newer server sends, shown as it is', item: errorRate({ phase: 'Skipped' as never }), result: 'Skipped', message: '' },
  ])('$name', async ({ item, result, message }) => {
    const r = await runWith(['check', 'checkout', '-n', 'shop'], { [`POST ${OBJ}/check`]: report([item]) });
    expect(r.code).toBe(1);
    const [name, source, shown, ...rest] = r.out.split('\n')[1]!.split(/ {3,}/);
    expect([name, source, shown]).toEqual([item.name, item.source, result]);
    // VALUE then MESSAGE; an empty MESSAGE leaves the value last.
    expect(rest).toEqual([item.measurement.value, message].filter((x) => x));
    expect(r.err).toBe(`error: 1 of 1 check of checkout (staging → prod) did not pass: ${item.name} ${result}\n`);
  });

  it('a long value is cut in the table (-o json keeps it whole)', async () => {
    const long = `{"status":200,"body":${JSON.stringify({ items: Array.from({ length: 20 }, (_, i) => i) })}}`;
    const r = await runWith(['check', 'checkout', '-n', 'shop'], { [`POST ${OBJ}/check`]: report([health({ value: long })]) });
    expect(r.code).toBe(0);
    expect(r.out).toContain(`${long.slice(0, 39)}…   `);
    expect(r.out).not.toContain(long);
  });

  it('no checks on the move: said on stderr, exit 0', async () => {
    const r = await runWith(['check', 'checkout', '-n', 'shop'], { [`POST ${OBJ}/check`]: report([]) });
    expect(r).toMatchObject({ code: 0, out: '', err: 'No checks on the move of checkout from staging to prod.\n' });
  });

  it('at the last state there is no move: said on stderr, exit 0', async () => {
    const r = await runWith(['check', 'checkout', '-n', 'shop'], { [`POST ${OBJ}/check`]: report([], true, {}) });
    expect(r).toMatchObject({ code: 0, out: '', err: 'checkout is at its last state: there is no move to check.\n' });
  });

  it('a server that says not passed is believed, even with every measurement successful', async () => {
    const r = await runWith(['check', 'checkout', '-n', 'shop'], { [`POST ${OBJ}/check`]: report([errorRate()], false) });
    expect(r.code).toBe(1);
    expect(r.err).toBe('error: the checks of checkout (staging → prod) did not pass\n');
  });

  it('escapes what the server sent: names, sources, values, messages, the move', async () => {
    const crafted: CheckReportItem = {
      name: 'rate\x1b[2J',
      source: 'GatePolicy x/\u202ey',
      provider: 'prometheus',
      successCondition: 'result[0] < 1\n  fake   row',
      measurement: { phase: 'Failed', time: 't', value: '[1]\x07', message: 'boom\r\x1b[32mok' },
    };
    const r = await runWith(['check', 'checkout', '-n', 'shop'], { [`POST ${OBJ}/check`]: report([crafted], false, { from: 'st\x9bage', to: 'prod\u2066' }) });
    expect(r.code).toBe(1);
    expect(hasUnsafeCharacters(r.out.replaceAll('\n', ''))).toBe(false);
    expect(hasUnsafeCharacters(r.err.replace(/\n$/, ''))).toBe(false);
    for (const want of ['rate\\x1b[2J', 'GatePolicy x/\\u202ey', '[1]\\x07', 'boom\\r\\x1b[32mok']) expect(r.out).toContain(want);
    expect(r.err).toBe('error: 1 of 1 check of checkout (st\\x9bage → prod\\u2066) did not pass: rate\\x1b[2J fail\n');
  });

  it('colours the result on a terminal: green pass, red fail and error, yellow inconclusive', () => {
    const text = renderCheckReport(report([errorRate(), errorRate({ phase: 'Failed' }), errorRate({ phase: 'Error' }), errorRate({ phase: 'Inconclusive' })]), newChalk(true));
    for (const want of ['\x1b[32mpass\x1b[39m', '\x1b[31mfail\x1b[39m', '\x1b[31merror\x1b[39m', '\x1b[33minconclusive\x1b[39m']) expect(text).toContain(want);
  });
});

describe('check -o json|yaml', () => {
  it.each([
    { name: 'json, passed', argv: ['-o', 'json'], passed: true, decode: (s: string) => JSON.parse(s) as unknown },
    { name: 'yaml, not passed: still exit 1', argv: ['-o', 'yaml'], passed: false, decode: (s: string) => parse(s) as unknown },
  ])('$name: the report as data, the exit code says whether it passed', async ({ argv, passed, decode }) => {
    const doc = report([errorRate(passed ? {} : { phase: 'Failed' })]);
    const r = await runWith(['check', 'checkout', '-n', 'shop', ...argv], { [`POST ${OBJ}/check`]: doc });
    expect(decode(r.out)).toEqual(doc);
    expect(r.code).toBe(passed ? 0 : 1);
    expect(r.err).toBe(passed ? '' : 'error: 1 of 1 check of checkout (staging → prod) did not pass: error-rate fail\n');
  });
});

describe('check: arguments and errors', () => {
  it.each<{ name: string; argv: string[]; want: string }>([
    { name: 'no name', argv: ['check'], want: 'error: Not enough non-option arguments: got 0, need at least 1 (see "kubectl custom --help")\n' },
    { name: 'two names', argv: ['check', 'a', 'b'], want: 'error: Unknown argument: b (see "kubectl custom --help")\n' },
    { name: 'an output it does not print', argv: ['check', 'checkout', '-o', 'wide'], want: 'error: unable to match a printer suitable for the output format "wide", allowed formats are: json, yaml (see "kubectl custom --help")\n' },
    { name: 'a flag it does not take', argv: ['check', 'checkout', '--reason', 'x'], want: 'error: Unknown argument: reason (see "kubectl custom --help")\n' },
  ])('$name: a usage error before any request', async ({ argv, want }) => {
    const r = await runWith(argv, {});
    expect(r).toMatchObject({ code: 1, out: '', err: want, calls: [] });
  });

  it.each<{ name: string; routes: Record<string, unknown>; want: string }>([
    {
      name: 'no such object',
      routes: { [`POST ${OBJ}/check`]: () => { throw apiError(404, 'NotFound', 'customresources.custom.example.com "checkout" not found', `${OBJ}/check`, { name: 'checkout', group: 'custom.example.com', kind: 'customresources' }); } },
      want: 'Error from server (NotFound): customresources.custom.example.com "checkout" not found\n',
    },
    {
      name: 'no permission: the verb on customresources/check, as the server names it',
      routes: { [`POST ${OBJ}/check`]: () => { throw apiError(403, 'Forbidden', 'customresources.custom.example.com "checkout" is forbidden: User "viewer" cannot create resource "customresources/check" in API group "custom.example.com" in the namespace "shop"', `${OBJ}/check`, { name: 'checkout', group: 'custom.example.com', kind: 'customresources' }); } },
      want: 'Error from server (Forbidden): customresources.custom.example.com "checkout" is forbidden: User "viewer" cannot create resource "customresources/check" in API group "custom.example.com" in the namespace "shop"\n',
    },
    {
      name: 'the backend is down: the APIService condition',
      routes: {
        [`POST ${OBJ}/check`]: () => { throw apiError(503, 'ServiceUnavailable', 'the server is currently unable to handle the request', `${OBJ}/check`); },
        [`GET ${APISERVICE}`]: { status: { conditions: [{ type: 'Available', status: 'False', reason: 'MissingEndpoints', message: 'endpoints for service/kubectl-custom-backend in "custom-system" have no addresses' }] } },
      },
      want: 'error: the kubectl-custom backend is not available: APIService v1.custom.example.com is Available=False (MissingEndpoints): endpoints for service/kubectl-custom-backend in "custom-system" have no addresses\n',
    },
    {
      name: 'a backend older than checks: it serves the object but not the subresource',
      routes: {
        [`POST ${OBJ}/check`]: () => { throw apiError(404, 'NotFound', 'the server could not find the requested resource', `${OBJ}/check`, {}); },
        [`GET ${OBJ}/state`]: { kind: 'CustomResourceState' },
      },
      want: 'error: the kubectl-custom backend does not serve customresources/check: it is older than this plugin (checks came with issue 21); upgrade the backend\n',
    },
    {
      name: 'nothing serves the group at all: as every verb says it',
      routes: {
        [`POST ${OBJ}/check`]: () => { throw apiError(404, 'NotFound', 'the server could not find the requested resource', `${OBJ}/check`); },
        [`GET ${OBJ}/state`]: () => { throw apiError(404, 'NotFound', 'the server could not find the requested resource', `${OBJ}/state`); },
        [`GET ${APISERVICE}`]: () => { throw apiError(404, 'NotFound', 'apiservices.apiregistration.k8s.io "v1.custom.example.com" not found', APISERVICE, { name: 'v1.custom.example.com' }); },
      },
      want: 'error: the custom.example.com API is not installed in this cluster (there is no APIService v1.custom.example.com); install the kubectl-custom backend (kubectl apply -k manifests/base) or pick another --context\n',
    },
  ])('$name: one line, exit 1', async ({ routes, want }) => {
    const r = await runWith(['check', 'checkout', '-n', 'shop'], routes);
    expect(r).toMatchObject({ code: 1, out: '', err: want });
  });

  it('--help says what it does, that nothing is recorded, and its exit code', async () => {
    const h = harness();
    expect(await run(['check', '--help'], h.deps)).toBe(0);
    const text = h.out().replace(/\s+/g, ' ');
    for (const want of ['check <name>', 'Measure the checks of the next move now', 'not recorded', 'exits 0 only when every check passed', '--output', 'kubectl custom check checkout -n shop', '--namespace']) expect(text).toContain(want);
    expect(h.connects).toEqual([]);
  });
});

describe('check: completion', () => {
  const LIST = '/apis/custom.example.com/v1/namespaces/shop/customresources';
  const ctxWith = (routes: Record<string, unknown>): CommandContext => {
    const client = fakeClient(routes);
    const h = harness({ client });
    return { deps: h.deps, chalk: newChalk(false), flags: {}, client: () => Promise.resolve(client) };
  };

  it('offers the verb, object names in the namespace as other verbs do, and json or yaml for -o', async () => {
    const ctx = ctxWith({ [`GET ${LIST}`]: { items: [{ metadata: { name: 'cart' } }, { metadata: { name: 'checkout' } }, { metadata: { name: 'search' } }] } });
    expect(await complete(ctx, ['ch'])).toBe('check\n:4\n');
    expect(await complete(ctx, ['check', '-n', 'shop', 'c'])).toBe('cart\ncheckout\n:4\n');
    expect(await complete(ctx, ['check', 'checkout', '-o', ''])).toBe('json\nyaml\n:4\n');
  });
});

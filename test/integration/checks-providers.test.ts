// A check's measurement against the real things it asks (issue 21): Debian's
// Prometheus, started here with a config of its own on loopback, scraping a
// small exporter whose metric the test changes; and HTTP endpoints on
// loopback (plain, slow, TLS with and without the check's CA). Every way a
// provider can fail is a recorded Error with a sentence, never a pass.
import { createServer as createHttp, type Server } from 'node:http';
import { createServer as createHttps } from 'node:https';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CheckSpec } from '../../api/src/checks.ts';
import { freePort } from '../../cluster/processes.ts';
import { startPrometheus, type RunningPrometheus } from '../../cluster/prometheus.ts';
import { issueCertificate, newCertificateAuthority } from '../../client/src/certificates.ts';
import { measure } from '../../server/src/checks/measure.ts';
import { eventually } from './harness.ts';

const vars = { name: 'checkout', namespace: 'shop', labels: { team: 'payments' }, from: 'staging', to: 'prod' };
const now = () => new Date();
const dir = mkdtempSync(join(tmpdir(), 'kubectl-custom-checks-'));
let errorRatio = 0.5;
let exporter: Server;
let prometheus: RunningPrometheus;
let promUrl: string;
const servers: Server[] = [];

async function listen(s: Server): Promise<number> {
  const port = await freePort();
  await new Promise<void>((r) => s.listen(port, '127.0.0.1', r));
  servers.push(s);
  return port;
}

beforeAll(async () => {
  exporter = createHttp((_req, res) => {
    res.writeHead(200, { 'Content-Type': 'text/plain; version=0.0.4' });
    res.end(`# TYPE shop_error_ratio gauge\nshop_error_ratio{app="checkout",team="payments"} ${errorRatio}\nshop_error_ratio{app="cart",team="storefront"} 0.9\n`);
  });
  const exporterPort = await listen(exporter);
  prometheus = await startPrometheus(dir, [`127.0.0.1:${exporterPort}`], { log: (l) => process.stderr.write(`[prometheus] ${l}\n`) });
  promUrl = prometheus.url;
  await eventually('Prometheus has scraped the exporter', async () => (await measure(promCheck(), vars, {}, now)).phase !== 'Error', 60_000);
}, 180_000);

afterAll(async () => {
  if (prometheus) await prometheus.stop();
  for (const s of servers) s.close();
  rmSync(dir, { recursive: true, force: true });
});

const promCheck = (over: Partial<CheckSpec> = {}): CheckSpec => ({ name: 'error-rate', prometheus: { address: promUrl, query: 'shop_error_ratio{app="{{name}}",team="{{labels.team}}"}' }, successCondition: 'result[0] < 0.01', ...over });

describe('prometheus checks against a real Prometheus', () => {
  it('fails while the error ratio is high, passes once it has dropped and been scraped; the value is recorded', async () => {
    errorRatio = 0.5;
    await eventually('0.5 scraped', async () => (await measure(promCheck(), vars, {}, now)).value === '{"result":[0.5]}', 30_000);
    const high = await measure(promCheck(), vars, {}, now);
    expect(high).toMatchObject({ phase: 'Failed', value: '{"result":[0.5]}', message: 'result[0] < 0.01 is false' });
    errorRatio = 0.001;
    await eventually('0.001 scraped', async () => (await measure(promCheck(), vars, {}, now)).phase === 'Successful', 30_000);
    expect(await measure(promCheck(), vars, {}, now)).toMatchObject({ phase: 'Successful', value: '{"result":[0.001]}' });
  });

  it('with a failureCondition too, what is neither is Inconclusive', async () => {
    errorRatio = 0.05;
    await eventually('0.05 scraped', async () => (await measure(promCheck(), vars, {}, now)).value === '{"result":[0.05]}', 30_000);
    expect(await measure(promCheck({ failureCondition: 'result[0] > 0.1' }), vars, {}, now)).toMatchObject({ phase: 'Inconclusive', message: 'neither result[0] < 0.01 nor result[0] > 0.1 holds' });
  });

  it.each([
    ['a query Prometheus refuses', { query: 'shop_error_ratio{' }, /^Prometheus at http:\/\/127\.0\.0\.1:\d+: the query failed \(bad_data\): /],
    ['a range vector instead of an instant one', { query: 'shop_error_ratio[1m]' }, /gives a matrix, not an instant vector or a scalar/],
    ['no series: the condition cannot be evaluated', { query: 'shop_error_ratio{app="nothing"}' }, /^the condition cannot be evaluated on \{"result":\[\]\}: index 0 out of bounds/],
  ])('%s: an Error with the reason', async (_name, over, message) => {
    const m = await measure(promCheck({ prometheus: { address: promUrl, ...over } }), vars, {}, now);
    expect(m.phase).toBe('Error');
    expect(m.message).toMatch(message);
  });

  it('a scalar is one number', async () => {
    expect(await measure(promCheck({ prometheus: { address: promUrl, query: 'scalar(sum(shop_error_ratio))' }, successCondition: 'result[0] > 0.9' }), vars, {}, now)).toMatchObject({ phase: 'Successful' });
  });

  it('Prometheus down: an Error that says it cannot be reached', async () => {
    const m = await measure(promCheck({ prometheus: { address: `http://127.0.0.1:${await freePort()}`, query: 'up' } }), vars, {}, now);
    expect(m).toMatchObject({ phase: 'Error', message: expect.stringMatching(/^cannot reach Prometheus at http:\/\/127\.0\.0\.1:\d+: connection refused$/) });
  });
});

describe('http checks', () => {
  let plain: string;
  let slow: string;
  let tlsUrl: string;
  let ca: string;
  const token = 'secret-token-value';
  beforeAll(async () => {
    const ticket = createHttp((req, res) => {
      const authorized = req.headers.authorization === `Bearer ${token}`;
      res.writeHead(authorized ? 200 : 401, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify(authorized ? { ticket: req.url, state: 'approved' } : { error: 'who are you' }));
    });
    plain = `http://127.0.0.1:${await listen(ticket)}`;
    slow = `http://127.0.0.1:${await listen(createHttp(() => {}))}`;
    const authority = await newCertificateAuthority('checks-ca');
    const serving = await issueCertificate(authority, { commonName: 'localhost', usage: 'server', dnsNames: ['localhost'], ipAddresses: ['127.0.0.1'] });
    ca = authority.cert;
    tlsUrl = `https://127.0.0.1:${await listen(createHttps({ cert: serving.cert, key: serving.key }, (_q, res) => res.end('ok')) as unknown as Server)}`;
  });
  const httpCheck = (url: string, over: Partial<CheckSpec> = {}): CheckSpec => ({ name: 'ticket', http: { url }, successCondition: 'status == 200 && body.state == "approved"', ...over });

  it('a JSON body and the status, with the token sent as a bearer token; the URL filled in', async () => {
    const m = await measure(httpCheck(`${plain}/changes/{{namespace}}/{{name}}?to={{to}}`), vars, { token }, now);
    expect(m).toMatchObject({ phase: 'Successful', value: JSON.stringify({ status: 200, body: { ticket: '/changes/shop/checkout?to=prod', state: 'approved' } }) });
    const refused = await measure(httpCheck(`${plain}/x`), vars, {}, now);
    expect(refused).toMatchObject({ phase: 'Failed', message: 'status == 200 && body.state == "approved" is false' });
    // The token is never in what is recorded.
    expect(JSON.stringify([m, refused])).not.toContain(token);
  });

  it('no answer within timeoutSeconds: an Error', async () => {
    expect(await measure(httpCheck(slow, { timeoutSeconds: 1 }), vars, {}, now)).toMatchObject({ phase: 'Error', message: expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+\/ did not answer in time$/) });
  });

  it('TLS: refused without the check\'s CA (an Error naming caSecretRef), passed with it', async () => {
    const c = httpCheck(tlsUrl, { successCondition: 'status == 200 && body == "ok"' });
    expect(await measure(c, vars, {}, now)).toMatchObject({ phase: 'Error', message: expect.stringMatching(/^cannot trust https:\/\/127\.0\.0\.1:\d+\/: .*\(check the check's caSecretRef\)$/) });
    expect(await measure(c, vars, { ca }, now)).toMatchObject({ phase: 'Successful' });
  });

  it('a URL that is not http(s): an Error', async () => {
    expect(await measure(httpCheck('file:///etc/passwd'), vars, {}, now)).toMatchObject({ phase: 'Error', message: 'file:///etc/passwd: only http and https URLs are checked, not file:' });
  });
});

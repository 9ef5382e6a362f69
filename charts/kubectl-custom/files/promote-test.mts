// `helm test`'s check (templates/tests/promote-test.yaml runs it in the
// backend's image): the APIService v1.custom.example.com is Available, and a
// promote works through custom.example.com. It creates an object in the
// test's own namespace, promotes it dev -> prod, checks the state and the
// trail kube-apiserver stores, then deletes it and waits until the backend has
// archived it and let it go. Exits 0 when all holds, 1 naming what did not.
//
// In a pod it talks to kube-apiserver as client-go's in-cluster config does
// (KUBERNETES_SERVICE_HOST/PORT, the ServiceAccount's token; the CA through
// NODE_EXTRA_CA_CERTS). SERVICE_ACCOUNT_DIR lets the chart's own tests run
// it outside a pod.
import { readFileSync } from 'node:fs';

const saDir = process.env['SERVICE_ACCOUNT_DIR'] ?? '/var/run/secrets/kubernetes.io/serviceaccount';
const host = process.env['KUBERNETES_SERVICE_HOST'];
const port = process.env['KUBERNETES_SERVICE_PORT'] ?? '443';
const namespace = process.env['TEST_NAMESPACE'];
const name = `promote-${Date.now().toString(36)}`;
const storage = `/apis/example.com/v1/namespaces/${namespace}/customresources`;
const custom = `/apis/custom.example.com/v1/namespaces/${namespace}/customresources`;

interface Answer {
  status: number;
  body: Record<string, unknown> | undefined;
  text: string;
}

async function call(method: string, path: string, body?: unknown): Promise<Answer> {
  // Read each time: the kubelet renews the projected token.
  const token = readFileSync(`${saDir}/token`, 'utf8').trim();
  const res = await fetch(`https://${host!.includes(':') ? `[${host}]` : host}:${port}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, accept: 'application/json', ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    signal: AbortSignal.timeout(30_000),
  });
  const text = await res.text();
  let parsed: Record<string, unknown> | undefined;
  try {
    parsed = JSON.parse(text) as Record<string, unknown>;
  } catch {
    parsed = undefined;
  }
  return { status: res.status, body: parsed, text: text.slice(0, 500) };
}

/** Polls `check` every second until it returns true (or a message of why not), for at most `seconds`. */
async function until(what: string, seconds: number, check: () => Promise<true | string>): Promise<void> {
  const end = Date.now() + seconds * 1000;
  let why: string;
  for (;;) {
    try {
      const r = await check();
      if (r === true) return console.log(`ok: ${what}`);
      why = r;
    } catch (err) {
      why = err instanceof Error ? err.message : String(err);
    }
    if (Date.now() > end) throw new Error(`${what}: not after ${seconds} s: ${why}`);
    await new Promise((r) => setTimeout(r, 1000));
  }
}

function expectOk(what: string, a: Answer): void {
  if (a.status < 200 || a.status > 299) throw new Error(`${what}: HTTP ${a.status}: ${a.text}`);
  console.log(`ok: ${what}`);
}

async function run(): Promise<void> {
  if (!host || !namespace) throw new Error('KUBERNETES_SERVICE_HOST and TEST_NAMESPACE must be set');
  await until('APIService v1.custom.example.com is Available', 120, async () => {
    const a = await call('GET', '/apis/apiregistration.k8s.io/v1/apiservices/v1.custom.example.com');
    if (a.status !== 200) return `HTTP ${a.status}: ${a.text}`;
    const conditions = ((a.body?.['status'] as { conditions?: { type: string; status: string; reason?: string; message?: string }[] } | undefined)?.conditions) ?? [];
    const available = conditions.find((c) => c.type === 'Available');
    return available?.status === 'True' ? true : `Available=${available?.status ?? 'unknown'} (${available?.reason ?? ''}: ${available?.message ?? ''})`;
  });
  // Right after kube-apiserver starts, admission may answer 503 for a few seconds: retried.
  await until(`created customresources.example.com ${namespace}/${name}`, 30, async () => {
    const a = await call('POST', storage, { apiVersion: 'example.com/v1', kind: 'CustomResource', metadata: { name }, spec: { name: 'helm test', states: ['dev', 'prod'] } });
    if (a.status === 201 || a.status === 409) return true;
    if (a.status === 503) return `HTTP 503: ${a.text}`;
    throw new Error(`HTTP ${a.status}: ${a.text}`);
  });
  try {
    await until('the object is served by custom.example.com', 30, async () => {
      const a = await call('GET', `${custom}/${name}`);
      return a.status === 200 ? true : `HTTP ${a.status}: ${a.text}`;
    });
    const promoted = await call('POST', `${custom}/${name}/promote`, { from: 'dev', reason: 'helm test' });
    expectOk('promote dev -> prod', promoted);
    const stored = await call('GET', `${storage}/${name}`);
    const status = stored.body?.['status'] as { state?: string; history?: { action: string; from?: string; to: string; user: string }[] } | undefined;
    const last = status?.history?.at(-1);
    if (status?.state !== 'prod' || last?.action !== 'promote' || last.from !== 'dev' || last.to !== 'prod') {
      throw new Error(`the stored object is not in prod with a promote entry: ${JSON.stringify(status)}`);
    }
    console.log(`ok: stored in prod, the trail's last entry a promote dev -> prod by ${last.user}`);
  } finally {
    const deleted = await call('DELETE', `${storage}/${name}`);
    if (deleted.status !== 404) expectOk('deleted the object', deleted);
    await until('the backend archived the object and let it go', 60, async () => {
      const a = await call('GET', `${storage}/${name}`);
      return a.status === 404 ? true : `HTTP ${a.status}`;
    });
  }
}

run().then(
  () => console.log('PASS: the APIService is Available and a promote works'),
  (err: unknown) => {
    console.error(`FAIL: ${err instanceof Error ? err.message : String(err)}`);
    process.exitCode = 1;
  },
);

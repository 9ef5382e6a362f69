// What a check measures: a PromQL instant query against Prometheus's HTTP
// API (GET /api/v1/query; a vector's sample values, or a scalar, as
// numbers), or a GET of a URL (its status, and its body as JSON when it is
// JSON, else as text). What comes back is the CEL variables of the check's
// conditions: `result` for prometheus, `status` and `body` for http.
import type { CheckSpec } from '../../../api/src/checks.ts';
import { get } from './http-get.ts';
import { render, type TemplateVars } from './template.ts';

/** The Secrets' values a check refers to, read by the caller (the controller) from the right namespace. */
export interface CheckSecrets {
  ca?: string;
  token?: string;
}

interface PromResponse {
  status?: string;
  error?: string;
  errorType?: string;
  data?: { resultType?: string; result?: unknown };
}

/** A sample value as Prometheus writes it (a string: "0.25", "NaN", "+Inf"). */
function sampleValue(v: unknown, at: string): number {
  if (!Array.isArray(v) || typeof v[1] !== 'string') throw new Error(`Prometheus answered a sample that is not [time, "value"] (${at})`);
  const n = Number(v[1] === '+Inf' ? Infinity : v[1] === '-Inf' ? -Infinity : v[1]);
  if (Number.isNaN(n) && v[1] !== 'NaN') throw new Error(`Prometheus answered ${JSON.stringify(v[1])}, not a number (${at})`);
  return n;
}

export async function measurePrometheus(check: CheckSpec, vars: TemplateVars, secrets: CheckSecrets, timeoutMs: number): Promise<{ result: number[] }> {
  const p = check.prometheus!;
  const what = `Prometheus at ${p.address}`;
  const url = new URL('api/v1/query', p.address.endsWith('/') ? p.address : `${p.address}/`);
  url.searchParams.set('query', render(p.query, vars, 'promql'));
  const res = await get(url, { ...secrets, timeoutMs, what });
  let doc: PromResponse;
  try {
    doc = JSON.parse(res.body) as PromResponse;
  } catch {
    throw new Error(`${what} answered HTTP ${res.status} that is not Prometheus's JSON: ${res.body.slice(0, 200)}`);
  }
  if (doc.status !== 'success') throw new Error(`${what}: the query failed (${doc.errorType ?? `HTTP ${res.status}`}): ${doc.error ?? 'no error given'}`);
  const { resultType, result } = doc.data ?? {};
  if (resultType === 'scalar') return { result: [sampleValue(result, 'scalar')] };
  if (resultType === 'vector' && Array.isArray(result)) return { result: result.map((s: { value?: unknown }, i) => sampleValue(s.value, `series ${i}`)) };
  throw new Error(`${what}: the query gives a ${resultType ?? 'result of no type'}, not an instant vector or a scalar (use an instant query, e.g. rate(x[5m]) rather than x[5m])`);
}

export async function measureHttp(check: CheckSpec, vars: TemplateVars, secrets: CheckSecrets, timeoutMs: number): Promise<{ status: number; body: unknown }> {
  const url = new URL(render(check.http!.url, vars, 'url'));
  // Named without its query, which may carry what should not be repeated.
  const what = url.protocol === 'http:' || url.protocol === 'https:' ? `${url.origin}${url.pathname}` : url.href;
  const res = await get(url, { ...secrets, timeoutMs, what });
  let body: unknown = res.body;
  if (/\bjson\b/i.test(res.contentType)) {
    try {
      body = JSON.parse(res.body);
    } catch {
      throw new Error(`${what} said its body is JSON, and it is not`);
    }
  }
  return { status: res.status, body };
}

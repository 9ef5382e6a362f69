// Sends one CloudEvent to one sink of a NotificationPolicy (issue 22): a
// webhook gets the event itself (structured JSON, signed as Standard
// Webhooks with the key from the policy's Secret), Slack a message made from
// it. The Secrets are read with the backend's own credentials, by name, in
// the policy's namespace only (a secretRef has no namespace), and kept for a
// few seconds. A failure is a DeliveryError whose message says what to fix
// and never holds a Secret's value. A Slack URL is one: it is never named,
// a URL with a user name or password is refused, an error of a post is told
// by its name or code (never its message, where fetch may put the URL), and
// a Slack answer's body is not quoted (it may echo the URL).
import { refuseLinkLocal } from '../checks/http-get.ts';
import { SECRETS_ROLE, BACKEND_SERVICE_ACCOUNT } from '../../../api/src/names.ts';
import type { NotificationSink, SecretKeyRef } from '../../../api/src/types.ts';
import { ApiError } from '../../../client/src/errors.ts';
import type { RestClient } from '../../../client/src/rest-client.ts';
import type { CloudEvent } from './cloudevent.ts';
import type { FreezeCloudEvent } from './freeze-events.ts';
import type { CheckCloudEvent } from './check-events.ts';
import { sign } from './signature.ts';
import { slackMessage } from './slack-message.ts';

export class DeliveryError extends Error {
  /** The receiver's HTTP status, when it answered. */
  readonly status: number | undefined;

  constructor(message: string, status?: number) {
    super(message);
    this.name = 'DeliveryError';
    this.status = status;
  }
}

/** How a body is posted: fetch by default; tests may pass their own. */
export type Post = (url: string, init: { headers: Record<string, string>; body: string; timeoutMs: number; signal?: AbortSignal }) => Promise<{ status: number; text: string }>;

/** The code of a post refused because its host is link-local. */
const LINK_LOCAL = 'ELINKLOCAL';

const fetchPost: Post = async (url, init) => {
  // Never a link-local address (where clouds serve instance credentials), by number or by name.
  try {
    await refuseLinkLocal(new URL(url).hostname);
  } catch (err) {
    if (err instanceof Error && / is a link-local address /.test(err.message)) throw Object.assign(new Error('link-local'), { code: LINK_LOCAL });
    // A name that does not resolve fails in fetch as it would have.
  }
  const res = await fetch(url, { method: 'POST', headers: init.headers, body: init.body, signal: init.signal ? AbortSignal.any([AbortSignal.timeout(init.timeoutMs), init.signal]) : AbortSignal.timeout(init.timeoutMs), redirect: 'manual' });
  // A little of the answer helps say why it was refused; the rest is not read.
  const text = (await res.text()).slice(0, 200);
  return { status: res.status, text };
};

export interface SinkSenderOptions {
  client: RestClient;
  now(): Date;
  post?: Post;
  timeoutMs?: number;
  /** How long a Secret's value is used before it is read again. */
  secretTtlMs?: number;
}

const SECRET_HINT = (namespace: string) =>
  `bind the ClusterRole ${SECRETS_ROLE} to the backend in that namespace: kubectl create rolebinding kubectl-custom-secrets -n ${namespace} --clusterrole=${SECRETS_ROLE} --serviceaccount=${BACKEND_SERVICE_ACCOUNT.namespace}:${BACKEND_SERVICE_ACCOUNT.name}`;

export class SinkSender {
  private readonly o: SinkSenderOptions;
  private readonly post: Post;
  private readonly secrets = new Map<string, { at: number; data: Record<string, string> }>();

  constructor(o: SinkSenderOptions) {
    this.o = o;
    this.post = o.post ?? fetchPost;
  }

  /** Forgets the Secrets read, so the next send reads them again (after a failure: the key may have been rotated). */
  forget(namespace: string, name: string): void {
    this.secrets.delete(`${namespace}/${name}`);
  }

  /** The value of a Secret's key, or a DeliveryError that says what is wrong with it. */
  async secretValue(namespace: string, ref: SecretKeyRef, defaultKey: string, signal?: AbortSignal): Promise<string> {
    const key = ref.key ?? defaultKey;
    const k = `${namespace}/${ref.name}`;
    let cached = this.secrets.get(k);
    if (!cached || this.o.now().getTime() - cached.at > (this.o.secretTtlMs ?? 10_000)) {
      let secret: { data?: Record<string, string> };
      try {
        secret = await this.o.client.json('GET', `/api/v1/namespaces/${namespace}/secrets/${encodeURIComponent(ref.name)}`, { timeoutMs: 10_000, ...(signal ? { signal } : {}) });
      } catch (err) {
        if (err instanceof ApiError && err.code === 404) throw new DeliveryError(`Secret ${k} not found`);
        if (err instanceof ApiError && err.code === 403) throw new DeliveryError(`the backend may not read Secret ${k}: ${SECRET_HINT(namespace)}`);
        throw new DeliveryError(`could not read Secret ${k}: ${err instanceof Error ? err.message : String(err)}`);
      }
      const data: Record<string, string> = {};
      for (const [name, b64] of Object.entries(secret.data ?? {})) data[name] = Buffer.from(b64, 'base64').toString('utf8');
      cached = { at: this.o.now().getTime(), data };
      this.secrets.set(k, cached);
    }
    const value = cached.data[key];
    if (value === undefined) throw new DeliveryError(`Secret ${k} has no key "${key}"${Object.keys(cached.data).length ? ` (it has ${Object.keys(cached.data).sort().map((n) => `"${n}"`).join(', ')})` : ' (it is empty)'}`);
    if (!value.trim()) throw new DeliveryError(`Secret ${k} key "${key}" is empty`);
    return value.trim();
  }

  /** Sends `ev` to `sink`; resolves with the receiver's status, or throws a DeliveryError. `signal` stops it (leadership lost). */
  async send(namespace: string, sink: NotificationSink, ev: CloudEvent | FreezeCloudEvent | CheckCloudEvent, signal?: AbortSignal): Promise<number> {
    const timeoutMs = this.o.timeoutMs ?? 10_000;
    const stop = signal ? { signal } : {};
    if (sink.webhook) {
      const key = await this.secretValue(namespace, sink.webhook.secretRef, 'secret', signal);
      const body = JSON.stringify(ev);
      const headers = { 'Content-Type': 'application/cloudevents+json; charset=utf-8', ...sign(key, ev.id, body, this.o.now()) };
      return this.answer(`the webhook ${origin(sink.webhook.url)}`, () => this.post(sink.webhook!.url, { headers, body, timeoutMs, ...stop }), () => this.forget(namespace, sink.webhook!.secretRef.name));
    }
    if (sink.slack) {
      const ref = sink.slack.urlSecretRef;
      const url = slackUrl(await this.secretValue(namespace, ref, 'url', signal), `Secret ${namespace}/${ref.name} key "${ref.key ?? 'url'}"`);
      const body = JSON.stringify(slackMessage(ev));
      // The URL is the Secret: neither an error's message (fetch puts the URL in some) nor the answer's body (it may echo it) is passed on.
      return this.answer('the Slack webhook', () => this.post(url, { headers: { 'Content-Type': 'application/json' }, body, timeoutMs, ...stop }), () => this.forget(namespace, ref.name), false);
    }
    throw new DeliveryError(`sink ${sink.name} is neither a webhook nor slack`);
  }

  /** Posts and says what came of it; `echo`: the answer's body may be quoted (not for a URL that is a Secret). */
  private async answer(what: string, call: () => Promise<{ status: number; text: string }>, onFailure: () => void, echo = true): Promise<number> {
    let res: { status: number; text: string };
    try {
      res = await call();
    } catch (err) {
      onFailure();
      throw new DeliveryError(`${what} could not be reached: ${unreachable(err)}`);
    }
    if (res.status >= 200 && res.status < 300) return res.status;
    onFailure();
    const text = echo ? res.text.replace(/\s+/g, ' ').trim() : '';
    throw new DeliveryError(`${what} answered ${res.status}${text ? `: ${text}` : ''}`, res.status);
  }
}

/**
 * Why a post failed, in fixed words: the error's name or its cause's code
 * (ECONNREFUSED, ENOTFOUND, …), never a message, which may hold the URL
 * (fetch names it in some) and so a Slack URL's token.
 */
export function unreachable(err: unknown): string {
  const e = err as { name?: unknown; code?: unknown; cause?: { code?: unknown } } | undefined;
  if (e?.name === 'TimeoutError') return 'no answer in time';
  if (e?.name === 'AbortError') return 'the send was stopped';
  if (e?.code === LINK_LOCAL) return 'the receiver\'s address is link-local (where clouds serve instance metadata and credentials): notifications are not sent there';
  for (const code of [e?.cause?.code, e?.code]) if (typeof code === 'string' && /^[A-Z][A-Z0-9_]{1,63}$/.test(code)) return code;
  return 'the connection failed';
}

/** A Slack incoming-webhook URL from a Secret, or a DeliveryError in fixed words (the value is never quoted). */
export function slackUrl(value: string, where: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new DeliveryError(`${where} is not a URL`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new DeliveryError(`${where} is not an http or https URL`);
  if (url.username || url.password) throw new DeliveryError(`${where} is a URL with a user name or password, which is not sent`);
  return url.href;
}

/** Where a webhook is, without a path or query that may carry a token. */
function origin(url: string): string {
  try {
    return new URL(url).origin;
  } catch {
    return '(an invalid URL)';
  }
}

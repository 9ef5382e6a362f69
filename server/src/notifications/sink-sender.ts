// Sends one CloudEvent to one sink of a NotificationPolicy (issue 22): a
// webhook gets the event itself (structured JSON, signed as Standard
// Webhooks with the key from the policy's Secret), Slack a message made from
// it. The Secrets are read with the backend's own credentials, by name, in
// the policy's namespace only (a secretRef has no namespace), and kept for a
// few seconds. A failure is a DeliveryError whose message says what to fix
// and never holds a Secret's value (a Slack URL is one: it is never named).
import { SECRETS_ROLE, BACKEND_SERVICE_ACCOUNT } from '../../../api/src/names.ts';
import type { NotificationSink, SecretKeyRef } from '../../../api/src/types.ts';
import { ApiError, ConnectionError } from '../../../client/src/errors.ts';
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
export type Post = (url: string, init: { headers: Record<string, string>; body: string; timeoutMs: number }) => Promise<{ status: number; text: string }>;

const fetchPost: Post = async (url, init) => {
  const res = await fetch(url, { method: 'POST', headers: init.headers, body: init.body, signal: AbortSignal.timeout(init.timeoutMs), redirect: 'manual' });
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
  async secretValue(namespace: string, ref: SecretKeyRef, defaultKey: string): Promise<string> {
    const key = ref.key ?? defaultKey;
    const k = `${namespace}/${ref.name}`;
    let cached = this.secrets.get(k);
    if (!cached || this.o.now().getTime() - cached.at > (this.o.secretTtlMs ?? 10_000)) {
      let secret: { data?: Record<string, string> };
      try {
        secret = await this.o.client.json('GET', `/api/v1/namespaces/${namespace}/secrets/${encodeURIComponent(ref.name)}`, { timeoutMs: 10_000 });
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

  /** Sends `ev` to `sink`; resolves with the receiver's status, or throws a DeliveryError. */
  async send(namespace: string, sink: NotificationSink, ev: CloudEvent | FreezeCloudEvent | CheckCloudEvent): Promise<number> {
    const timeoutMs = this.o.timeoutMs ?? 10_000;
    if (sink.webhook) {
      const key = await this.secretValue(namespace, sink.webhook.secretRef, 'secret');
      const body = JSON.stringify(ev);
      const headers = { 'Content-Type': 'application/cloudevents+json; charset=utf-8', ...sign(key, ev.id, body, this.o.now()) };
      return this.answer(`the webhook ${origin(sink.webhook.url)}`, () => this.post(sink.webhook!.url, { headers, body, timeoutMs }), () => this.forget(namespace, sink.webhook!.secretRef.name));
    }
    if (sink.slack) {
      const url = await this.secretValue(namespace, sink.slack.urlSecretRef, 'url');
      if (!/^https?:\/\//.test(url)) throw new DeliveryError(`Secret ${namespace}/${sink.slack.urlSecretRef.name} key "${sink.slack.urlSecretRef.key ?? 'url'}" is not an http or https URL`);
      const body = JSON.stringify(slackMessage(ev));
      return this.answer('the Slack webhook', () => this.post(url, { headers: { 'Content-Type': 'application/json' }, body, timeoutMs }), () => this.forget(namespace, sink.slack!.urlSecretRef.name));
    }
    throw new DeliveryError(`sink ${sink.name} is neither a webhook nor slack`);
  }

  private async answer(what: string, call: () => Promise<{ status: number; text: string }>, onFailure: () => void): Promise<number> {
    let res: { status: number; text: string };
    try {
      res = await call();
    } catch (err) {
      onFailure();
      const cause = (err as { cause?: { code?: string; message?: string } }).cause;
      const why = err instanceof Error && err.name === 'TimeoutError' ? 'no answer in time' : cause?.code ?? cause?.message ?? (err instanceof ConnectionError || err instanceof Error ? err.message : String(err));
      throw new DeliveryError(`${what} could not be reached: ${why}`);
    }
    if (res.status >= 200 && res.status < 300) return res.status;
    onFailure();
    const text = res.text.replace(/\s+/g, ' ').trim();
    throw new DeliveryError(`${what} answered ${res.status}${text ? `: ${text}` : ''}`, res.status);
  }
}

/** Where a webhook is, without a path or query that may carry a token. */
function origin(url: string): string {
  try {
    return new URL(url).origin;
  } catch {
    return '(an invalid URL)';
  }
}

// The authentication settings kube-apiserver publishes for extension servers
// in kube-system/extension-apiserver-authentication, followed with a watch so
// that a rotated CA or a changed allowed-names list takes effect at once.
import { X509Certificate } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { readWatchStream } from '../../../plugin/src/kube/watch-stream.ts';
import { apiErrorFrom, type RestClient } from '../kube/rest-client.ts';
import type { Logger } from '../log/logger.ts';
import type { RequestHeaderNames } from './request-header.ts';

export const AUTHN_CONFIGMAP = { namespace: 'kube-system', name: 'extension-apiserver-authentication' };

export interface AuthenticationSettings extends RequestHeaderNames {
  /** Verifies users' client certificates. */
  clientCAs: X509Certificate[];
  /** Verifies the front proxy's client certificate. */
  requestHeaderCAs: X509Certificate[];
  /** CNs the front proxy's certificate may carry; empty means any. */
  allowedNames: string[];
  /** Bumped on every change; caches keyed on verification results include it. */
  generation: number;
}

export const EMPTY_SETTINGS: AuthenticationSettings = {
  clientCAs: [],
  requestHeaderCAs: [],
  allowedNames: [],
  usernameHeaders: [],
  uidHeaders: [],
  groupHeaders: [],
  extraHeaderPrefixes: [],
  generation: 0,
};

export function parsePemBundle(pem: string | undefined): X509Certificate[] {
  if (!pem) return [];
  const blocks = pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
  return blocks.map((b) => new X509Certificate(b));
}

function jsonList(s: string | undefined): string[] {
  if (!s) return [];
  const v: unknown = JSON.parse(s);
  if (!Array.isArray(v) || !v.every((x) => typeof x === 'string')) throw new Error(`expected a JSON list of strings, got ${s.slice(0, 80)}`);
  return v;
}

/** Parses the ConfigMap's data; throws on malformed content (the previous settings then stay in force). */
export function settingsFromConfigMap(data: Record<string, string> | undefined, generation: number): AuthenticationSettings {
  const d = data ?? {};
  return {
    clientCAs: parsePemBundle(d['client-ca-file']),
    requestHeaderCAs: parsePemBundle(d['requestheader-client-ca-file']),
    allowedNames: jsonList(d['requestheader-allowed-names']),
    usernameHeaders: jsonList(d['requestheader-username-headers']),
    uidHeaders: jsonList(d['requestheader-uid-headers']),
    groupHeaders: jsonList(d['requestheader-group-headers']),
    extraHeaderPrefixes: jsonList(d['requestheader-extra-headers-prefix']),
    generation,
  };
}

interface ConfigMap {
  metadata: { resourceVersion: string };
  data?: Record<string, string>;
}

export class AuthenticationConfigWatcher extends EventEmitter {
  private current: AuthenticationSettings = EMPTY_SETTINGS;
  private loaded = false;
  private stopped = false;
  private abort: AbortController | undefined;
  private running: Promise<void> | undefined;
  private readonly client: RestClient;
  private readonly log: Logger;

  constructor(client: RestClient, log: Logger) {
    super();
    this.client = client;
    this.log = log;
  }

  get settings(): AuthenticationSettings {
    return this.current;
  }

  get hasSynced(): boolean {
    return this.loaded;
  }

  start(): void {
    this.running ??= this.loop();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.abort?.abort();
    await this.running;
  }

  private update(cm: ConfigMap): void {
    try {
      this.current = settingsFromConfigMap(cm.data, this.current.generation + 1);
      this.loaded = true;
      this.log.info('authentication settings loaded', {
        resourceVersion: cm.metadata.resourceVersion,
        clientCAs: this.current.clientCAs.length,
        requestHeaderCAs: this.current.requestHeaderCAs.length,
        allowedNames: this.current.allowedNames,
      });
      this.emit('change', this.current);
    } catch (err) {
      this.log.error('ignoring malformed authentication settings; keeping the previous ones', { error: String(err) });
    }
  }

  private async loop(): Promise<void> {
    const { namespace, name } = AUTHN_CONFIGMAP;
    const base = `/api/v1/namespaces/${namespace}/configmaps`;
    let backoff = 200;
    while (!this.stopped) {
      try {
        const cm = await this.client.json<ConfigMap>('GET', `${base}/${name}`);
        this.update(cm);
        this.abort = new AbortController();
        const res = await this.client.send('GET', base, {
          query: { watch: 'true', fieldSelector: `metadata.name=${name}`, resourceVersion: cm.metadata.resourceVersion, timeoutSeconds: String(300 + Math.floor(Math.random() * 300)) },
          signal: this.abort.signal,
        });
        if (res.statusCode !== 200) throw await apiErrorFrom(res, `watch ${base}`);
        backoff = 200;
        await readWatchStream(res, (ev) => {
          if (ev.type === 'ADDED' || ev.type === 'MODIFIED') this.update(ev.object as ConfigMap);
          if (ev.type === 'ERROR') throw new Error(`watch error: ${JSON.stringify(ev.object)}`);
        });
      } catch (err) {
        if (this.stopped) break;
        this.log.warn('reading kube-system/extension-apiserver-authentication failed; retrying', { error: String(err instanceof Error ? err.message : err), retryInMs: backoff });
        await new Promise((r) => setTimeout(r, backoff));
        backoff = Math.min(backoff * 2, 5_000);
      }
    }
  }
}

// The authentication settings kube-apiserver publishes for extension servers
// in kube-system/extension-apiserver-authentication, followed with a watch so
// that a rotated CA or a changed allowed-names list takes effect at once.
import { X509Certificate } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { Reflector } from '../../../client/src/reflector.ts';
import type { RestClient } from '../../../client/src/rest-client.ts';
import type { Logger } from '../log/logger.ts';
import type { CacheReport } from '../store/cache-report.ts';
import type { RequestHeaderNames } from './request-header.ts';

const AUTHN_CONFIGMAP = { namespace: 'kube-system', name: 'extension-apiserver-authentication' };

export interface AuthenticationSettings extends RequestHeaderNames {
  /** Verifies users' client certificates. */
  clientCAs: readonly X509Certificate[];
  /** Verifies the front proxy's client certificate. */
  requestHeaderCAs: readonly X509Certificate[];
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
  private readonly reflector: Reflector<ConfigMap>;
  private readonly log: Logger;

  constructor(client: RestClient, log: Logger) {
    super();
    this.log = log;
    const { namespace, name } = AUTHN_CONFIGMAP;
    this.reflector = new Reflector<ConfigMap>({
      client,
      path: `/api/v1/namespaces/${namespace}/configmaps`,
      fieldSelector: `metadata.name=${name}`,
      description: `${namespace}/${name}`,
      log,
      store: {
        replace: (items) => {
          if (items[0]) this.update(items[0]);
        },
        apply: (type, cm) => {
          // A deleted ConfigMap leaves the last settings in force, as k8s.io/apiserver does.
          if (type !== 'DELETED') this.update(cm);
        },
      },
    });
  }

  get settings(): AuthenticationSettings {
    return this.current;
  }

  get hasSynced(): boolean {
    return this.loaded;
  }

  get report(): CacheReport {
    return { resource: 'configmaps', ...AUTHN_CONFIGMAP, synced: this.loaded, objects: this.loaded ? 1 : 0, progress: this.reflector.progress };
  }

  /** Resolves once the settings are loaded: until then every request would be 401. */
  whenSynced(): Promise<void> {
    if (this.loaded) return Promise.resolve();
    return new Promise((resolve) => this.once('change', () => resolve()));
  }

  start(): void {
    this.reflector.start();
  }

  stop(): Promise<void> {
    return this.reflector.stop();
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
}

// From options to a running configuration: credentials, TLS material and
// every dependency the server needs, created here and injected (no module
// singletons). `complete()` is the only way to a CompletedConfig.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { resolveConfig } from '../../plugin/src/kube/kubeconfig.ts';
import { AuthenticationConfigWatcher } from './auth/authn-config.ts';
import { Authenticator } from './auth/authenticator.ts';
import { DelegatingAuthorizer } from './auth/delegated-authz.ts';
import { CachedTokenReviewer } from './auth/token-review.ts';
import { buildOpenApi } from './discovery/openapi-handler.ts';
import { ApiEventRecorder } from './kube/event-recorder.ts';
import { RestClient } from './kube/rest-client.ts';
import { newLogger, type Logger } from './log/logger.ts';
import { newMetrics } from './metrics/metrics.ts';
import type { ServerOptions } from './options.ts';
import { StateRest } from './registry/customresources/state-rest.ts';
import { CustomResourceStorage, type Clock } from './registry/customresources/storage.ts';
import type { ServerConfig } from './server.ts';
import { CrdWatchCache } from './store/crd-watch-cache.ts';

export const BACKEND_VERSION = '0.1.0';

export interface CompletedConfig extends ServerConfig {
  client: RestClient;
  clock: Clock;
  storage: CustomResourceStorage;
}

async function servingCertificate(o: ServerOptions, log: Logger): Promise<{ cert: string; key: string }> {
  if (o.tlsCertFile && o.tlsPrivateKeyFile) return { cert: readFileSync(o.tlsCertFile, 'utf8'), key: readFileSync(o.tlsPrivateKeyFile, 'utf8') };
  const certFile = join(o.certDir, 'apiserver.crt');
  const keyFile = join(o.certDir, 'apiserver.key');
  if (existsSync(certFile) && existsSync(keyFile)) return { cert: readFileSync(certFile, 'utf8'), key: readFileSync(keyFile, 'utf8') };
  // Loaded only here: the X.509 library is a few MB of heap the server otherwise never needs.
  const { selfSignedServingCertificate } = await import('./tls/certificates.ts');
  const made = await selfSignedServingCertificate('kubectl-custom-backend', o.selfSignedDnsNames, ['127.0.0.1']);
  mkdirSync(o.certDir, { recursive: true });
  // The chain (leaf then CA) so clients can be given the CA as caBundle.
  writeFileSync(certFile, made.cert + made.ca);
  writeFileSync(keyFile, made.key, { mode: 0o600 });
  writeFileSync(join(o.certDir, 'ca.crt'), made.ca);
  log.info('generated a self-signed serving certificate', { certFile, dnsNames: o.selfSignedDnsNames });
  return { cert: made.cert + made.ca, key: made.key };
}

export async function complete(o: ServerOptions): Promise<CompletedConfig> {
  const log = newLogger({ level: o.logLevel });
  const metrics = newMetrics();
  // --kubeconfig is read exactly as kubectl reads it; otherwise the pod's service account.
  const client = o.kubeconfig ? RestClient.fromConfig(resolveConfig({ kubeconfig: o.kubeconfig }, {})) : RestClient.inCluster();
  const clock: Clock = { now: () => new Date() };
  const authnSettings = new AuthenticationConfigWatcher(client, log);
  const tokens = new CachedTokenReviewer(client, { onLookup: (hit) => metrics.authnCache.inc({ result: hit ? 'hit' : 'miss' }) });
  const authenticator = new Authenticator({ settings: () => authnSettings.settings, tokens });
  const authorizer = new DelegatingAuthorizer(client, { onLookup: (hit) => metrics.authzCache.inc({ result: hit ? 'hit' : 'miss' }) });
  const cache = new CrdWatchCache({ client, log });
  const storage = new CustomResourceStorage(cache, clock);
  const stateRest = new StateRest({ storage, client, authorizer, events: new ApiEventRecorder(client, log), metrics, log, clock });
  return {
    tls: await servingCertificate(o, log),
    port: o.securePort,
    bindAddress: o.bindAddress,
    log,
    metrics,
    authenticator,
    authorizer,
    authnSettings,
    cache,
    client,
    clock,
    storage,
    resources: {
      storage,
      watch: {
        log,
        bookmarkIntervalMs: o.watchBookmarkIntervalSeconds * 1000,
      },
      subresources: stateRest.handlers(),
    },
    openapi: buildOpenApi(),
    version: { gitVersion: `v${BACKEND_VERSION}` },
    shutdownDelayMs: o.shutdownDelaySeconds * 1000,
    shutdownTimeoutMs: o.shutdownTimeoutSeconds * 1000,
  };
}

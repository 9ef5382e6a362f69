// From options to a running configuration: credentials, TLS material and
// every dependency the server needs, created here and injected (no module
// singletons). `complete()` is the only way to a CompletedConfig.
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { inClusterConfig, resolveConfig, type ResolvedConfig } from '../../client/src/kubeconfig.ts';
import { AuthenticationConfigWatcher } from './auth/authn-config.ts';
import { Authenticator } from './auth/authenticator.ts';
import { DelegatingAuthorizer, type Authorizer } from './auth/delegated-authz.ts';
import { CachedTokenReviewer } from './auth/token-review.ts';
import { buildOpenApi, type OpenApiDocs } from './discovery/openapi-handler.ts';
import { DEFAULT_REQUEST_TIMEOUT_MS } from './http/request-timeout.ts';
import { ServingCertificateFiles, type ServingCertificate } from './http/serving-certificate.ts';
import { DetachedEventRecorder } from './http/detached-event-recorder.ts';
import { newRestClient, type RestClient } from '../../client/src/rest-client.ts';
import { PROJECT_VERSION } from '../../api/src/version.ts';
import { newLogger, type Logger } from './log/logger.ts';
import { newMetrics, type Metrics } from './metrics/metrics.ts';
import type { ServerOptions } from './options.ts';
import type { InFlightLimits } from './http/max-in-flight.ts';
import type { ResourceHandlerDeps } from './registry/customresources/handlers.ts';
import { StateRest } from './registry/customresources/state-rest.ts';
import { CustomResourceStorage } from './registry/customresources/storage.ts';
import { realClock, type Clock } from './clock.ts';
import { CrdStatusStore } from './store/status-store.ts';
import { withPolicies } from './state/gate-sources.ts';
import { CrdHistoryArchive } from './store/history-archive.ts';
import { HistoryFinalizer } from './controllers/history-finalizer.ts';
import { AdmissionPolicyCheck } from './controllers/policy-check.ts';
import { historyRest } from './registry/customresources/history-rest.ts';
import { approveRest } from './registry/customresources/approve-rest.ts';
import { CrdWatchCache } from './store/crd-watch-cache.ts';
import { CrdConsistentReader } from './store/crd-consistent-read.ts';
import { currentRequestSignal } from './http/request-scope.ts';
import { PolicyCache, type PolicySource } from './store/policy-cache.ts';
import { FreezeCache, type FreezeSource } from './store/freeze-cache.ts';
import { FreezeStatusController } from './controllers/freeze-status.ts';
import { CheckRunner, checkEndedMessage, measuring } from './controllers/check-runner.ts';
import { measure } from './checks/measure.ts';
import { secretReader } from './checks/secrets.ts';
import { checkRest } from './registry/customresources/check-rest.ts';
import type { GateAdmission } from './admission/gate-admission.ts';
import { FreshGateAdmission } from './admission/fresh-gate-admission.ts';
import { freshAll, withFreshGates, withFreshObject } from './registry/customresources/fresh-gates.ts';
import { recordDeletion } from './store/deletion-record.ts';
import { dropApprovalsGivenUnder } from './store/approval-lapse.ts';
import { hostname } from 'node:os';
import type { BackendStatusDetail } from '../../api/src/types.ts';
import type { ReportsCache } from './store/cache-report.ts';
import { memoryLimit, memoryStatus } from './metrics/memory.ts';
import { replicaName } from './registry/backendstatuses/status.ts';
import { Notifications } from './notifications/notifications.ts';

/** The name Events and logs give the backend. */
const COMPONENT = 'kubectl-custom-backend';

/** What newServer needs. */
export interface ServerConfig {
  /** The serving pair, followed on disk. */
  servingCertificate: ServingCertificate;
  port: number;
  bindAddress: string;
  log: Logger;
  metrics: Metrics;
  authenticator: Authenticator;
  authorizer: Authorizer;
  /** Readiness: the authentication settings are loaded. */
  authnSettings: { readonly hasSynced: boolean };
  /** Readiness and the cache gauges. */
  cache: { readonly ready: boolean; readonly size: number; readonly resourceVersion: number; readonly subscriberCount: number; readonly freshenReads: number };
  /** What is missing from the installation, for the Warning header on discovery. */
  policyCheck: { readonly warnings: readonly string[] };
  /** The GatePolicies, watch-fed; readiness waits for their first list. */
  policies: PolicySource;
  /** The Freezes, for the gate engine (FreezeSource) and readiness. */
  freezes: FreezeSource;
  resources: ResourceHandlerDeps;
  /** The validating admission webhook for customresources.example.com. */
  admission: GateAdmission;
  openapi: OpenApiDocs;
  version: { gitVersion: string };
  shutdownDelayMs: number;
  shutdownTimeoutMs: number;
  /** Requests at a time, as kube-apiserver's --max-requests-inflight and --max-mutating-requests-inflight (default 400 and 200). */
  inFlight?: InFlightLimits;
  /** Non-watch requests are answered 504 after this (kube-apiserver's --request-timeout). */
  requestTimeoutMs: number;
  /** NotificationPolicies (issue 22): delivery on the Lease's holder, and POST …/notificationpolicies/NAME/test. */
  notifications?: Pick<Notifications, 'serveTest'>;
  /** What this replica's BackendStatus reports of it besides what the server counts itself. */
  replica: {
    /** Its pod's name (or hostname). */
    name: string;
    startTime: Date;
    /** Every watch-fed cache it keeps. */
    caches: readonly ReportsCache[];
    memory(): BackendStatusDetail['memory'];
  };
}

export interface CompletedConfig extends ServerConfig {
  freezes: FreezeCache;
  authnSettings: AuthenticationConfigWatcher;
  cache: CrdWatchCache;
  policyCheck: AdmissionPolicyCheck;
  client: RestClient;
  policies: PolicyCache;
  historyFinalizer: HistoryFinalizer;
  freezeStatus: FreezeStatusController;
  checkRunner: CheckRunner;
  clock: Clock;
  storage: CustomResourceStorage;
  notifications: Notifications;
}

/** The files to serve with: the ones given, or a self-signed pair in --cert-dir (made on first start). */
async function servingCertificateFiles(o: ServerOptions, log: Logger): Promise<{ certFile: string; keyFile: string }> {
  if (o.tlsCertFile && o.tlsPrivateKeyFile) return { certFile: o.tlsCertFile, keyFile: o.tlsPrivateKeyFile };
  const certFile = join(o.certDir, 'apiserver.crt');
  const keyFile = join(o.certDir, 'apiserver.key');
  if (existsSync(certFile) && existsSync(keyFile)) return { certFile, keyFile };
  // Loaded only here: the X.509 library is a few MB of heap the server otherwise never needs.
  const { selfSignedServingCertificate } = await import('../../client/src/certificates.ts');
  const made = await selfSignedServingCertificate('kubectl-custom-backend', o.selfSignedDnsNames, ['127.0.0.1']);
  mkdirSync(o.certDir, { recursive: true });
  // The chain (leaf then CA) so clients can be given the CA as caBundle.
  writeFileSync(certFile, made.cert + made.ca);
  writeFileSync(keyFile, made.key, { mode: 0o600 });
  writeFileSync(join(o.certDir, 'ca.crt'), made.ca);
  log.info('generated a self-signed serving certificate', { certFile, dnsNames: o.selfSignedDnsNames });
  return { certFile, keyFile };
}

/** --kubeconfig, read exactly as kubectl reads it; otherwise the pod's service account. */
function connection(o: ServerOptions): ResolvedConfig {
  if (o.kubeconfig) return resolveConfig({ kubeconfig: o.kubeconfig }, {});
  const inCluster = inClusterConfig({}, process.env);
  if (!inCluster) throw new Error('not running in a cluster (no service account token, or KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT are not set); pass --kubeconfig');
  return inCluster;
}

export async function complete(o: ServerOptions): Promise<CompletedConfig> {
  const log = newLogger({ level: o.logLevel });
  const metrics = newMetrics();
  const client = newRestClient(connection(o), {
    userAgent: `${COMPONENT}/${PROJECT_VERSION}`,
    // Exec credential plugins never get a terminal here.
    exec: { stdinIsTTY: false, env: process.env },
    // The hot paths (status writes, SubjectAccessReviews, the CRD watch) share one keep-alive pool.
    maxSockets: 256,
    defaultTimeoutMs: 30_000,
    // A request's calls to kube-apiserver end with it (its timeout, or its client leaving).
    contextSignal: currentRequestSignal,
  });
  const clock = realClock;
  const authnSettings = new AuthenticationConfigWatcher(client, log);
  const tokens = new CachedTokenReviewer(client, { onLookup: (hit) => metrics.authnCache.inc({ result: hit ? 'hit' : 'miss' }) });
  const authenticator = new Authenticator({ settings: () => authnSettings.settings, tokens });
  const authorizer = new DelegatingAuthorizer(client, { onLookup: (hit) => metrics.authzCache.inc({ result: hit ? 'hit' : 'miss' }) });
  const cache = new CrdWatchCache({ client, log });
  // The gate engine reads the policies from here (PolicySource).
  const policies = new PolicyCache({ client, log });
  const freezes = new FreezeCache({ client, log });
  const gates = withPolicies(
    policies,
    (obj, state, now) => freezes.activeFor(obj.metadata.namespace, obj.metadata.labels, state, now),
    (obj, state, now) => freezes.inForceFor(obj.metadata.namespace, obj.metadata.labels, state, now),
  );
  const reader = new CrdConsistentReader(client, cache);
  const storage = new CustomResourceStorage(cache, clock, gates, reader);
  const store = new CrdStatusStore(client, cache);
  const archive = new CrdHistoryArchive(client);
  const events = new DetachedEventRecorder(client, log, COMPONENT, { onDrop: () => metrics.eventsDropped.inc() });
  const notifications = new Notifications({ client, cache, archive, freezes, log, clock, registry: metrics.registry, replica: replicaName(process.env, hostname()), approvalsInto: (obj, state) => gates.effective(obj).spec.requiredApprovals?.[state] ?? 0 });
  const stateRest = new StateRest({ gates, store, archive, authorizer, events, metrics, log, clock, onRefused: (obj, user, request, err) => notifications.refused(obj, user, request, err) });
  const measureCheck = measuring(secretReader(client), measure);
  // Admission refuses on a denial, so a denial is never taken from the cache: a permission just granted
  // lets the edit through at once, as the admission policies (kube-apiserver's own authorizer) do.
  const admissionAuthorizer = new DelegatingAuthorizer(client, { denyTtlMs: 0, onLookup: (hit) => metrics.authzCache.inc({ result: hit ? 'hit' : 'miss' }) });
  const admission = new FreshGateAdmission({ gates, authorizer: admissionAuthorizer, clock, log, ready: () => policies.synced && freezes.synced && cache.ready, recordDeletion: (obj, user, now) => recordDeletion(store, obj, user, now), dropApprovals: (obj, labelsHash) => dropApprovalsGivenUnder(store, obj, labelsHash) }, { GatePolicies: () => policies.fresh(), Freezes: () => freezes.fresh() });
  return {
    servingCertificate: new ServingCertificateFiles({ ...(await servingCertificateFiles(o, log)), log }),
    port: o.securePort,
    bindAddress: o.bindAddress,
    log,
    metrics,
    authenticator,
    authorizer,
    authnSettings,
    cache,
    policies,
    freezes,
    freezeStatus: new FreezeStatusController({ cache: freezes, client, log, clock }),
    checkRunner: new CheckRunner({ objects: cache, gates, store, measure: measureCheck, clock, log, counted: (provider, phase) => metrics.checkMeasurements.inc({ provider, phase }), runEnded: (obj, runs, run) => void events.record(obj, 'Warning', 'CheckFailed', checkEndedMessage(runs, run)) }),
    policyCheck: new AdmissionPolicyCheck(client, log, o.policyCheckIntervalSeconds * 1000),
    admission,
    historyFinalizer: new HistoryFinalizer({ cache, store, archive, log, clock }),
    client,
    clock,
    storage,
    resources: {
      storage,
      watch: {
        log,
        bookmarkIntervalMs: o.watchBookmarkIntervalSeconds * 1000,
      },
      subresources: withFreshGates(freshAll(policies, freezes), withFreshObject(reader, cache, {
        ...stateRest.handlers(),
        approve: approveRest({ gates, store, archive, authorizer, events, metrics, log, clock, read: (ns, n) => stateRest.read(ns, n), describe: (obj, user) => stateRest.describe(obj, user) }),
        history: historyRest({ store, archive }),
        check: checkRest({ read: (ns, n) => stateRest.read(ns, n), gates, measure: measureCheck, clock }),
      }, freshAll(policies, freezes))),
    },
    notifications,
    openapi: buildOpenApi(),
    version: { gitVersion: `v${PROJECT_VERSION}` },
    inFlight: { nonMutating: o.maxRequestsInflight, mutating: o.maxMutatingRequestsInflight },
    shutdownDelayMs: o.shutdownDelaySeconds * 1000,
    shutdownTimeoutMs: o.shutdownTimeoutSeconds * 1000,
    requestTimeoutMs: DEFAULT_REQUEST_TIMEOUT_MS,
    replica: replicaOf([cache, policies, freezes, notifications.policies, authnSettings]),
  };
}

/** What this replica's BackendStatus says of it: its name, start, caches and memory. */
function replicaOf(caches: readonly ReportsCache[]): ServerConfig['replica'] {
  const limit = memoryLimit();
  return {
    name: replicaName(process.env, hostname()),
    startTime: new Date(performance.timeOrigin),
    caches,
    memory: () => memoryStatus(limit),
  };
}

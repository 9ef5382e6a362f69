import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { AdmissionregistrationV1Api, ApiregistrationV1Api, CoreV1Api, type KubeConfig, type V1APIService, type V1ValidatingWebhookConfiguration } from '@kubernetes/client-node';
import { parse } from 'yaml';

const WEBHOOK_MANIFEST = fileURLToPath(new URL('../manifests/base/webhook.yaml', import.meta.url));

export interface LocalApiServiceOptions {
  group: string;
  version: string;
  /** The Service the APIService names; the backend's serving cert must carry `<service>.<namespace>.svc`. */
  service: { namespace: string; name: string };
  /** Port of the backend process on this machine. */
  port: number;
  /** PEM of the CA that signed the backend's serving certificate. */
  caBundle: string;
  groupPriorityMinimum?: number;
  versionPriority?: number;
}

/**
 * Points an APIService at a backend running as a local process. Endpoints and
 * EndpointSlices refuse loopback addresses, but kube-aggregator resolves a
 * Service of type ExternalName by its name, so `externalName: localhost`
 * reaches https://localhost:<port> while TLS is still verified against the
 * Service's DNS name, as in a real cluster.
 */
export async function registerLocalApiService(kc: KubeConfig, opts: LocalApiServiceOptions): Promise<void> {
  const core = kc.makeApiClient(CoreV1Api);
  const { namespace, name } = opts.service;
  await core.readNamespace({ name: namespace }).catch(() => core.createNamespace({ body: { metadata: { name: namespace } } }));
  const service = {
    metadata: { name, namespace },
    spec: { type: 'ExternalName', externalName: 'localhost', ports: [{ name: 'https', port: opts.port, protocol: 'TCP' }] },
  };
  const existing = await core.readNamespacedService({ name, namespace }).catch(() => undefined);
  if (existing) {
    await core.replaceNamespacedService({ name, namespace, body: { ...service, metadata: { ...service.metadata, resourceVersion: existing.metadata?.resourceVersion } } });
  } else {
    await core.createNamespacedService({ namespace, body: service });
  }
  const apiService: V1APIService = {
    metadata: { name: `${opts.version}.${opts.group}` },
    spec: {
      group: opts.group,
      version: opts.version,
      service: { namespace, name, port: opts.port },
      caBundle: Buffer.from(opts.caBundle).toString('base64'),
      groupPriorityMinimum: opts.groupPriorityMinimum ?? 1000,
      versionPriority: opts.versionPriority ?? 15,
    },
  };
  const reg = kc.makeApiClient(ApiregistrationV1Api);
  const current = await reg.readAPIService({ name: apiService.metadata!.name! }).catch(() => undefined);
  if (current) {
    apiService.metadata!.resourceVersion = current.metadata?.resourceVersion;
    await reg.replaceAPIService({ name: apiService.metadata!.name!, body: apiService });
  } else {
    await reg.createAPIService({ body: apiService });
  }
}

/** The APIService's Available condition, e.g. `{status: 'False', reason: 'FailedDiscoveryCheck', message: …}`. */
export async function apiServiceAvailability(kc: KubeConfig, name: string): Promise<{ status: string; reason?: string; message?: string } | undefined> {
  const got = await kc.makeApiClient(ApiregistrationV1Api).readAPIService({ name });
  const c = got.status?.conditions?.find((x) => x.type === 'Available');
  return c ? { status: c.status, reason: c.reason, message: c.message } : undefined;
}

/**
 * Registers the backend's validating admission webhook
 * (manifests/base/webhook.yaml, the one source) for a backend running as a
 * local process: the same Service, reached on `port`, with `caBundle`.
 */
export async function registerLocalWebhook(kc: KubeConfig, opts: { port: number; caBundle: string }): Promise<void> {
  const doc = parse(readFileSync(WEBHOOK_MANIFEST, 'utf8')) as V1ValidatingWebhookConfiguration;
  for (const w of doc.webhooks ?? []) {
    w.clientConfig.caBundle = Buffer.from(opts.caBundle).toString('base64');
    if (w.clientConfig.service) w.clientConfig.service.port = opts.port;
  }
  const api = kc.makeApiClient(AdmissionregistrationV1Api);
  const name = doc.metadata!.name!;
  const current = await api.readValidatingWebhookConfiguration({ name }).catch(() => undefined);
  if (current) {
    doc.metadata!.resourceVersion = current.metadata?.resourceVersion;
    await api.replaceValidatingWebhookConfiguration({ name, body: doc });
  } else {
    await api.createValidatingWebhookConfiguration({ body: doc });
  }
}

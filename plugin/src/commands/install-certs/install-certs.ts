// kubectl custom install-certs: the backend's serving certificate for
// clusters without cert-manager. Makes a CA and a certificate for
// kubectl-custom-backend.custom-system.svc, stores them in the Secret the
// Deployment mounts, and writes the CA into the caBundle of the APIService
// and of the admission webhook, so kube-apiserver verifies the backend
// (never insecureSkipTLSVerify).
// Idempotent: a valid certificate is kept unless --renew.
import { X509Certificate } from 'node:crypto';
import { APISERVICE, WEBHOOK_CONFIGURATION } from '../../../../api/src/names.ts';
import { ApiError } from '../../../../client/src/errors.ts';
import type { RestClient } from '../../../../client/src/rest-client.ts';
import { UsageError } from '../../errors/errors.ts';
import type { CommandContext } from '../context.ts';

const NAMESPACE = 'custom-system';
const SECRET = 'kubectl-custom-backend-serving-cert';
const SERVICE = 'kubectl-custom-backend';
const DNS_NAMES = [`${SERVICE}.${NAMESPACE}.svc`, `${SERVICE}.${NAMESPACE}.svc.cluster.local`];
const RENEW_BEFORE_MS = 30 * 24 * 3600 * 1000;

interface Secret {
  metadata: { resourceVersion?: string };
  data?: Record<string, string>;
}

const b64 = (s: string) => Buffer.from(s).toString('base64');
const unb64 = (s: string | undefined) => (s ? Buffer.from(s, 'base64').toString('utf8') : '');

/** Whether the Secret holds a CA-signed certificate for the Service that stays valid for a while yet. */
function usable(secret: Secret | undefined, now: Date): boolean {
  const crt = unb64(secret?.data?.['tls.crt']);
  const ca = unb64(secret?.data?.['ca.crt']);
  if (!crt || !ca || !secret?.data?.['tls.key']) return false;
  try {
    const leaf = new X509Certificate(crt);
    const root = new X509Certificate(ca);
    return leaf.checkIssued(root) && leaf.verify(root.publicKey) && leaf.checkHost(DNS_NAMES[0]!) !== undefined && new Date(leaf.validTo).getTime() - now.getTime() > RENEW_BEFORE_MS;
  } catch {
    return false;
  }
}

export async function runInstallCerts(ctx: CommandContext, opts: { renew: boolean; dryRun: boolean }): Promise<void> {
  const client = await ctx.client();
  const out = ctx.deps.streams.out;
  const secretPath = `/api/v1/namespaces/${NAMESPACE}/secrets/${SECRET}`;
  try {
    await client.json('GET', `/apis/apiregistration.k8s.io/v1/apiservices/${APISERVICE}`);
  } catch (e) {
    if (e instanceof ApiError && e.code === 404) throw new UsageError(`there is no APIService ${APISERVICE} yet; apply the manifests first: kubectl apply -k manifests/base`);
    throw e;
  }
  let existing: Secret | undefined;
  try {
    existing = await client.json<Secret>('GET', secretPath);
  } catch (e) {
    if (!(e instanceof ApiError && e.code === 404)) throw e;
  }
  let caPem: string;
  const dry = opts.dryRun ? { dryRun: 'All' } : undefined;
  if (!opts.renew && usable(existing, ctx.deps.clock.now())) {
    caPem = unb64(existing!.data!['ca.crt']);
    out.write(`secret/${SECRET} unchanged (valid until ${new X509Certificate(unb64(existing!.data!['tls.crt'])).validTo})\n`);
  } else {
    const { issueCertificate, newCertificateAuthority } = await import('../../../../client/src/certificates.ts');
    const ca = await newCertificateAuthority(`kubectl-custom-backend-ca@${Math.floor(ctx.deps.clock.now().getTime() / 1000)}`);
    const serving = await issueCertificate(ca, { commonName: DNS_NAMES[0]!, dnsNames: DNS_NAMES, usage: 'server' });
    caPem = ca.cert;
    const body = {
      apiVersion: 'v1',
      kind: 'Secret',
      type: 'kubernetes.io/tls',
      metadata: { name: SECRET, namespace: NAMESPACE, labels: { 'app.kubernetes.io/name': 'kubectl-custom' } },
      // The CA's key is not kept: a renewal makes a new CA and updates caBundle.
      data: { 'tls.crt': b64(serving.cert), 'tls.key': b64(serving.key), 'ca.crt': b64(ca.cert) },
    };
    if (existing) {
      await client.json('PUT', secretPath, { body: { ...body, metadata: { ...body.metadata, resourceVersion: existing.metadata.resourceVersion } }, ...(dry ? { query: dry } : {}) });
      out.write(`secret/${SECRET} replaced${opts.dryRun ? ' (server dry run)' : ''}\n`);
    } else {
      await client.json('POST', `/api/v1/namespaces/${NAMESPACE}/secrets`, { body, ...(dry ? { query: dry } : {}) });
      out.write(`secret/${SECRET} created${opts.dryRun ? ' (server dry run)' : ''}\n`);
    }
    // Running pods read the certificate at start: roll them onto the new one.
    try {
      await client.json('PATCH', `/apis/apps/v1/namespaces/${NAMESPACE}/deployments/${SERVICE}`, {
        body: { spec: { template: { metadata: { annotations: { 'kubectl.kubernetes.io/restartedAt': ctx.deps.clock.now().toISOString() } } } } },
        contentType: 'application/strategic-merge-patch+json',
        ...(dry ? { query: dry } : {}),
      });
      out.write(`deployment.apps/${SERVICE} restarted${opts.dryRun ? ' (server dry run)' : ''}\n`);
    } catch (e) {
      if (!(e instanceof ApiError && e.code === 404)) throw e;
    }
  }
  await client.json('PATCH', `/apis/apiregistration.k8s.io/v1/apiservices/${APISERVICE}`, {
    body: { spec: { caBundle: b64(caPem), insecureSkipTLSVerify: false } },
    contentType: 'application/merge-patch+json',
    ...(dry ? { query: dry } : {}),
  });
  out.write(`apiservice.apiregistration.k8s.io/${APISERVICE} caBundle set${opts.dryRun ? ' (server dry run)' : ''}\n`);
  await setWebhookCaBundle(client, caPem, dry);
  out.write(`validatingwebhookconfiguration.admissionregistration.k8s.io/${WEBHOOK_CONFIGURATION} caBundle set${opts.dryRun ? ' (server dry run)' : ''}\n`);
}

/** The admission webhook is served with the same certificate: every webhook of its configuration gets the CA (a JSON patch per webhook, guarded by the resourceVersion read). */
async function setWebhookCaBundle(client: RestClient, caPem: string, dry: { dryRun: string } | undefined): Promise<void> {
  const path = `/apis/admissionregistration.k8s.io/v1/validatingwebhookconfigurations/${WEBHOOK_CONFIGURATION}`;
  let current: { metadata: { resourceVersion?: string }; webhooks?: unknown[] };
  try {
    current = await client.json('GET', path);
  } catch (e) {
    if (e instanceof ApiError && e.code === 404) throw new UsageError(`there is no ValidatingWebhookConfiguration ${WEBHOOK_CONFIGURATION} yet; apply the manifests first: kubectl apply -k manifests/base`);
    throw e;
  }
  const ops = [{ op: 'test', path: '/metadata/resourceVersion', value: current.metadata.resourceVersion }, ...(current.webhooks ?? []).map((_, i) => ({ op: 'add', path: `/webhooks/${i}/clientConfig/caBundle`, value: b64(caPem) }))];
  await client.json('PATCH', path, { body: ops, contentType: 'application/json-patch+json', ...(dry ? { query: dry } : {}) });
}

// Certificates: the backend's serving certificate (the Secret its pods
// mount: expiry, ‼ under 30 days; its names against the Service's), the
// caBundle of the APIService and of the webhook against it (kube-apiserver
// verifies the backend with them), and the front-proxy CA in
// kube-system/extension-apiserver-authentication, which the backend trusts
// for the identity headers kube-apiserver sends.
import { X509Certificate } from 'node:crypto';
import { connect } from 'node:tls';
import { APISERVICE, SYSTEM_NAMESPACE, WEBHOOK_CONFIGURATION } from '../../../../../api/src/names.ts';
import { type Check, fail, ok, skip, warn } from '../check.ts';
import type { Probe } from '../probe.ts';
import { BACKEND, backendOutsideCluster } from './installed.ts';

export const SERVING_SECRET = 'kubectl-custom-backend-serving-cert';
const SERVICE_DNS = `${BACKEND}.${SYSTEM_NAMESPACE}.svc`;
const RENEW = 'kubectl custom install-certs --renew   (with cert-manager: cmctl renew -n custom-system kubectl-custom-backend)';
const DAY = 24 * 3600 * 1000;
/** Where kube-apiserver publishes its front-proxy CA, and what to do when it does not. */
export const AUTHENTICATION_CONFIGMAP = '/api/v1/namespaces/kube-system/configmaps/extension-apiserver-authentication';
export const AGGREGATION_LAYER_FIX = 'start kube-apiserver with --requestheader-client-ca-file, --proxy-client-cert-file and --proxy-client-key-file (https://kubernetes.io/docs/tasks/extend-kubernetes/configure-aggregation-layer/)';

/** Every certificate in a PEM bundle. */
function certificates(pem: string): X509Certificate[] {
  return (pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? []).map((b) => new X509Certificate(b));
}

/** The certificate a backend outside the cluster serves, read as kube-aggregator reads it: a TLS handshake with the ExternalName host on the APIService's port. */
async function servedCertificate(p: Probe, host: string): Promise<X509Certificate | string> {
  const a = await p.get<{ spec?: { service?: { port?: number } } }>(`/apis/apiregistration.k8s.io/v1/apiservices/${APISERVICE}`);
  const port = a.found ? (a.object.spec?.service?.port ?? 443) : 443;
  return new Promise((resolve) => {
    // Only to read the certificate it presents: nothing is sent, and it is verified below against the caBundles.
    const socket = connect({ host, port, servername: SERVICE_DNS, rejectUnauthorized: false, timeout: 5000 }, () => {
      const raw = socket.getPeerCertificate().raw;
      socket.destroy();
      resolve(raw ? new X509Certificate(raw) : `${host}:${port} presented no certificate`);
    });
    socket.on('error', (e) => resolve(`cannot reach the backend at ${host}:${port}: ${e.message}`));
    socket.on('timeout', () => {
      socket.destroy();
      resolve(`no TLS answer from ${host}:${port}`);
    });
  });
}

/** The serving certificate: from the Secret the Deployment mounts, or, for a backend outside the cluster, the one it serves; a string says why there is none to check. */
async function servingCertificate(p: Probe): Promise<X509Certificate | string> {
  const s = await p.get<{ data?: Record<string, string> }>(`/api/v1/namespaces/${SYSTEM_NAMESPACE}/secrets/${SERVING_SECRET}`);
  if (!s.found) {
    const external = s.forbidden ? undefined : await backendOutsideCluster(p);
    if (external) return servedCertificate(p, external);
    return s.forbidden ? 'you may not read Secrets in custom-system' : 'missing';
  }
  const pem = Buffer.from(s.object.data?.['tls.crt'] ?? '', 'base64').toString('utf8');
  try {
    const [leaf] = certificates(pem);
    return leaf ?? 'tls.crt holds no certificate';
  } catch (e) {
    return `tls.crt is not a certificate (${(e as Error).message})`;
  }
}

const serving: Check = {
  id: 'certificates.serving',
  group: 'certificates',
  title: 'Serving certificate',
  async run(p) {
    const leaf = await servingCertificate(p);
    if (typeof leaf === 'string') return leaf.startsWith('you may not') ? skip(leaf) : fail(leaf, 'kubectl custom install-certs   (or install with the cert-manager overlay)');
    const left = new Date(leaf.validTo).getTime() - p.now.getTime();
    const names = leaf.subjectAltName ?? '';
    if (leaf.checkHost(SERVICE_DNS) === undefined) return fail(`it is not for ${SERVICE_DNS} (${names || 'no subject alternative names'})`, RENEW);
    if (left <= 0) return fail(`expired on ${new Date(leaf.validTo).toISOString()}`, RENEW);
    if (new Date(leaf.validFrom).getTime() > p.now.getTime()) return fail(`not valid before ${new Date(leaf.validFrom).toISOString()}`, RENEW);
    const days = Math.floor(left / DAY);
    if (left < 30 * DAY) return warn(`expires in ${days} day${days === 1 ? '' : 's'} (${new Date(leaf.validTo).toISOString()})`, RENEW);
    return ok(`for ${SERVICE_DNS}, valid for ${days} more days`);
  },
};

/** Whether `caBundle` (base64 PEM) verifies the serving certificate; a string says why not. */
async function bundleVerifies(p: Probe, caBundle: string | undefined): Promise<true | string> {
  if (!caBundle) return 'caBundle is empty';
  const leaf = await servingCertificate(p);
  if (typeof leaf === 'string') return true;
  let cas: X509Certificate[];
  try {
    cas = certificates(Buffer.from(caBundle, 'base64').toString('utf8'));
  } catch {
    return 'caBundle is not PEM certificates';
  }
  return cas.some((ca) => leaf.checkIssued(ca) && leaf.verify(ca.publicKey)) ? true : `caBundle does not verify the serving certificate (issued by ${leaf.issuer.replace(/\n/g, ', ')})`;
}

const apiServiceBundle: Check = {
  id: 'certificates.apiservice-cabundle',
  group: 'certificates',
  title: `caBundle of APIService ${APISERVICE}`,
  async run(p) {
    const a = await p.get<{ spec?: { caBundle?: string; insecureSkipTLSVerify?: boolean } }>(`/apis/apiregistration.k8s.io/v1/apiservices/${APISERVICE}`);
    if (!a.found) return skip(a.forbidden ? 'you may not read APIServices' : 'no APIService');
    if (a.object.spec?.insecureSkipTLSVerify) return fail('insecureSkipTLSVerify is set: kube-apiserver does not verify whom it sends requests to', 'kubectl custom install-certs');
    const v = await bundleVerifies(p, a.object.spec?.caBundle);
    return v === true ? ok('verifies the serving certificate') : fail(v, 'kubectl custom install-certs   (or let cert-manager\'s CA injector set it)');
  },
};

const webhookBundle: Check = {
  id: 'certificates.webhook-cabundle',
  group: 'certificates',
  title: `caBundle of webhook ${WEBHOOK_CONFIGURATION}`,
  async run(p) {
    const w = await p.get<{ webhooks?: { name: string; clientConfig?: { caBundle?: string } }[] }>(`/apis/admissionregistration.k8s.io/v1/validatingwebhookconfigurations/${WEBHOOK_CONFIGURATION}`);
    if (!w.found) return skip(w.forbidden ? 'you may not read ValidatingWebhookConfigurations' : 'no webhook configuration');
    for (const hook of w.object.webhooks ?? []) {
      const v = await bundleVerifies(p, hook.clientConfig?.caBundle);
      if (v !== true) return fail(`${hook.name}: ${v}`, 'kubectl custom install-certs   (or let cert-manager\'s CA injector set it)');
    }
    return ok('verifies the serving certificate');
  },
};

const frontProxy: Check = {
  id: 'certificates.front-proxy',
  group: 'certificates',
  title: 'Front-proxy CA (kube-system/extension-apiserver-authentication)',
  async run(p) {
    const cm = await p.get<{ data?: Record<string, string> }>(AUTHENTICATION_CONFIGMAP);
    if (!cm.found) return cm.forbidden ? skip('you may not read it') : fail('missing: kube-apiserver publishes it when it runs with the aggregation layer', AGGREGATION_LAYER_FIX);
    const pem = cm.object.data?.['requestheader-client-ca-file'] ?? '';
    let cas: X509Certificate[] = [];
    try {
      cas = certificates(pem);
    } catch {
      // reported below
    }
    if (!cas.length) return fail('no requestheader-client-ca-file: kube-apiserver runs without the aggregation layer', AGGREGATION_LAYER_FIX);
    const expired = cas.filter((c) => new Date(c.validTo).getTime() <= p.now.getTime());
    if (expired.length === cas.length) return fail('every front-proxy CA has expired', "renew the cluster's front-proxy CA");
    const names = cm.object.data?.['requestheader-allowed-names'] ?? '[]';
    return ok(`${cas.length} CA${cas.length === 1 ? '' : 's'}, allowed names ${names}`);
  },
};

export const certificateChecks: Check[] = [serving, apiServiceBundle, webhookBundle, frontProxy];

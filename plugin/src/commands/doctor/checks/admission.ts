// Admission: what guards the doors into a state besides the backend's own
// checks. The ValidatingAdmissionPolicies and their bindings (a policy
// without its binding guards nothing), the MutatingAdmissionPolicy that
// gives every object the history finalizer, and the gate webhook: present,
// failing closed, and answering (a dry-run create goes through it; nothing
// is stored).
import { randomBytes } from 'node:crypto';
import { FINALIZER_POLICY, STORAGE_PATH, WEBHOOK_CONFIGURATION } from '../../../../../api/src/names.ts';
import { ApiError } from '../../../../../client/src/errors.ts';
import { type Check, fail, ok, type Outcome, skip, warn } from '../check.ts';
import type { Probe } from '../probe.ts';

const ADMISSION = '/apis/admissionregistration.k8s.io/v1';
const APPLY = 'kubectl apply -k manifests/base';

interface Binding {
  spec?: { policyName?: string; validationActions?: string[] };
}

/** A policy and its binding (same name), as manifests/base installs them. */
async function policyPair(p: Probe, kind: 'validating' | 'mutating', name: string): Promise<string | undefined> {
  const policy = await p.get(`${ADMISSION}/${kind}admissionpolicies/${name}`);
  if (!policy.found) return policy.forbidden ? undefined : `${kind === 'validating' ? 'ValidatingAdmissionPolicy' : 'MutatingAdmissionPolicy'} ${name} is missing`;
  const binding = await p.get<Binding>(`${ADMISSION}/${kind}admissionpolicybindings/${name}`);
  if (!binding.found) return binding.forbidden ? undefined : `its binding ${name} is missing, so the policy applies to nothing`;
  if (binding.object.spec?.policyName !== name) return `binding ${name} binds ${binding.object.spec?.policyName ?? 'no policy'}, not ${name}`;
  if (kind === 'validating' && !binding.object.spec?.validationActions?.includes('Deny')) return `binding ${name} only ${binding.object.spec?.validationActions?.join(', ') ?? 'does nothing'}: it refuses nothing`;
  return undefined;
}

const validatingPolicies: Check = {
  id: 'admission.validating-policies',
  group: 'admission',
  title: 'ValidatingAdmissionPolicies kubectl-custom-gates, kubectl-custom-history',
  async run(p) {
    const g = await p.get(`${ADMISSION}/validatingadmissionpolicies/kubectl-custom-gates`);
    if (!g.found && g.forbidden) return skip('you may not read ValidatingAdmissionPolicies');
    const problems = (await Promise.all(['kubectl-custom-gates', 'kubectl-custom-history'].map((n) => policyPair(p, 'validating', n)))).filter((x): x is string => !!x);
    return problems.length ? fail(problems.join('; '), APPLY) : ok('present, bound, and denying');
  },
};

const mutatingPolicy: Check = {
  id: 'admission.mutating-policy',
  group: 'admission',
  title: `MutatingAdmissionPolicy ${FINALIZER_POLICY}`,
  async run(p) {
    const g = await p.get(`${ADMISSION}/mutatingadmissionpolicies/${FINALIZER_POLICY}`);
    if (!g.found && g.forbidden) return skip('you may not read MutatingAdmissionPolicies');
    const problem = await policyPair(p, 'mutating', FINALIZER_POLICY);
    return problem ? fail(problem, APPLY) : ok('present and bound: every new object gets the history finalizer');
  },
};

const webhook: Check = {
  id: 'admission.webhook',
  group: 'admission',
  title: `Webhook ${WEBHOOK_CONFIGURATION}`,
  async run(p) {
    const w = await p.get<{ webhooks?: { name: string; failurePolicy?: string }[] }>(`${ADMISSION}/validatingwebhookconfigurations/${WEBHOOK_CONFIGURATION}`);
    if (!w.found) return w.forbidden ? skip('you may not read ValidatingWebhookConfigurations') : fail('missing: the gates in GatePolicies and Freezes are not enforced on edits of the objects', APPLY);
    const open = (w.object.webhooks ?? []).filter((h) => h.failurePolicy !== 'Fail').map((h) => h.name);
    const answer = await webhookAnswers(p);
    if (answer.status === 'fail') return answer;
    if (open.length) return warn(`failurePolicy is not Fail for ${open.join(', ')}: while the backend is down, edits pass unchecked`, APPLY);
    return answer;
  },
};

/** A dry-run create in the user's namespace: kube-apiserver calls the webhook and stores nothing. */
async function webhookAnswers(p: Probe): Promise<Outcome> {
  const ns = p.namespace;
  if (!(await p.userMay({ verb: 'create', group: 'example.com', resource: 'customresources', namespace: ns }))) return skip(`present; not called: you may not create objects in ${ns} (run with -n NAMESPACE where you may)`);
  const body = { apiVersion: 'example.com/v1', kind: 'CustomResource', metadata: { name: `doctor-${randomBytes(4).toString('hex')}`, namespace: ns }, spec: { name: 'kubectl custom doctor', states: ['dev', 'prod'] } };
  try {
    await p.client.json('POST', `${STORAGE_PATH}/namespaces/${ns}/customresources`, { body, query: { dryRun: 'All' } });
    return ok(`present, fails closed, and answered a dry-run create in ${ns}`);
  } catch (e) {
    const msg = e instanceof Error ? e.message : String(e);
    if (/failed calling webhook/.test(msg)) return fail(`kube-apiserver cannot call it: ${msg}`, 'the backend is down or its certificate is not trusted: see the APIService and certificate checks above');
    if (e instanceof ApiError && e.code === 403) return skip(`present; not called: ${msg}`);
    if (e instanceof ApiError && e.code === 404) return skip(`present; not called: namespace ${ns} does not exist (run with -n NAMESPACE)`);
    return fail(`a dry-run create in ${ns} failed: ${msg}`);
  }
}

export const admissionChecks: Check[] = [validatingPolicies, mutatingPolicy, webhook];

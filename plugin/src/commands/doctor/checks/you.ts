// You: who kube-apiserver says you are (SelfSubjectReview, which also proves
// your credentials verify), when your client certificate or token expires,
// and what you may do in the namespace: read, promote, set-state, approve,
// check (run the checks of a move now), and per protected state of the
// objects there, enter, approve and override (SelfSubjectAccessReview, as
// `kubectl auth can-i` asks).
import { X509Certificate } from 'node:crypto';
import { GROUP, STATES_RESOURCE, STORAGE_PATH } from '../../../../../api/src/names.ts';
import { ApiError } from '../../../../../client/src/errors.ts';
import { type Check, fail, ok, skip, warn } from '../check.ts';
import type { Probe } from '../probe.ts';

const DAY = 24 * 3600 * 1000;

const identity: Check = {
  id: 'you.identity',
  group: 'you',
  title: 'Who you are',
  async run(p) {
    try {
      const u = await p.whoami();
      return ok(`${u.username ?? '(no name)'}${u.groups?.length ? ` in ${u.groups.join(', ')}` : ''}`);
    } catch (e) {
      if (e instanceof ApiError && e.code === 401) return fail('your credentials do not verify (401 Unauthorized)', 'get fresh credentials for this context (a new token or certificate), or pick another context: kubectl config use-context NAME');
      return fail(e instanceof Error ? e.message : String(e));
    }
  },
};

/** When the kubeconfig's credential expires: a client certificate's notAfter, or a JWT's exp (read, not verified). */
function expiry(p: Probe): { what: string; at: Date } | undefined {
  const auth = p.client.config.auth;
  if (auth.clientCert) {
    try {
      return { what: 'your client certificate', at: new Date(new X509Certificate(auth.clientCert).validTo) };
    } catch {
      return undefined;
    }
  }
  const jwt = auth.token?.split('.');
  if (jwt?.length === 3) {
    try {
      const exp = (JSON.parse(Buffer.from(jwt[1]!, 'base64url').toString('utf8')) as { exp?: number }).exp;
      if (typeof exp === 'number') return { what: 'your token', at: new Date(exp * 1000) };
    } catch {
      return undefined;
    }
  }
  return undefined;
}

const credentials: Check = {
  id: 'you.credentials',
  group: 'you',
  title: 'Your credentials',
  async run(p) {
    const e = expiry(p);
    if (!e) return skip('no expiry to read (an exec plugin, a token that is not a JWT, or none)');
    const left = e.at.getTime() - p.now.getTime();
    if (left <= 0) return fail(`${e.what} expired on ${e.at.toISOString()}`, 'get fresh credentials for this context');
    const days = Math.floor(left / DAY);
    if (left < 7 * DAY) return warn(`${e.what} expires in ${days < 1 ? 'less than a day' : `${days} day${days === 1 ? '' : 's'}`} (${e.at.toISOString()})`, 'renew it before it expires');
    return ok(`${e.what} is valid until ${e.at.toISOString()}`);
  },
};

const VERBS = [
  { word: 'list', access: { verb: 'list', resource: 'customresources' } },
  { word: 'promote', access: { verb: 'create', resource: 'customresources', subresource: 'promote' } },
  { word: 'set-state', access: { verb: 'update', resource: 'customresources', subresource: 'state' } },
  { word: 'approve', access: { verb: 'create', resource: 'customresources', subresource: 'approve' } },
  { word: 'check', access: { verb: 'create', resource: 'customresources', subresource: 'check' } },
] as const;

const permissions: Check = {
  id: 'you.permissions',
  group: 'you',
  title: 'What you may do',
  async run(p) {
    const ns = p.namespace;
    const may = await Promise.all(VERBS.map(async (v) => ({ word: v.word, allowed: await p.userMay({ group: GROUP, namespace: ns, ...v.access }) })));
    const can = may.filter((m) => m.allowed).map((m) => m.word);
    const cannot = may.filter((m) => !m.allowed).map((m) => m.word);
    if (!can.includes('list')) {
      const user = (await p.whoami().catch(() => ({ username: undefined }))).username ?? 'YOU';
      return fail(`in ${ns} you may not even list the objects${can.length ? ` (you may ${can.join(', ')})` : ''}`, `ask for a role there, e.g.: kubectl create rolebinding custom-viewer -n ${ns} --clusterrole=kubectl-custom-viewer --user=${user}   (kubectl-custom-editor to move objects too)`);
    }
    const states = await protectedStates(p);
    const per = await Promise.all(
      states.map(async (s) => {
        const verbs = await Promise.all((['enter', 'approve', 'override'] as const).map(async (verb) => ((await p.userMay({ verb, group: GROUP, resource: STATES_RESOURCE, name: s, namespace: ns })) ? verb : undefined)));
        const held = verbs.filter(Boolean);
        return `${s}: ${held.length ? held.join(', ') : 'none of enter, approve, override'}`;
      }),
    );
    return ok(`in ${ns} you may ${can.join(', ')}${cannot.length ? `; not ${cannot.join(', ')}` : ''}${per.length ? `. Protected states: ${per.join('; ')}` : ''}`);
  },
};

/** The protected states of the objects in the namespace (from the storage CRD, which answers without the backend). */
async function protectedStates(p: Probe): Promise<string[]> {
  const list = await p.get<{ items: { spec?: { protectedStates?: string[] } }[] }>(`${STORAGE_PATH}/namespaces/${p.namespace}/customresources`);
  if (!list.found) return [];
  return [...new Set(list.object.items.flatMap((o) => o.spec?.protectedStates ?? []))].sort();
}

export const youChecks: Check[] = [identity, credentials, permissions];

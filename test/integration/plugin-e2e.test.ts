// The built executable through kubectl (`kubectl custom …`) against the real
// control plane and backend, as admin, alice and bob: every verb, every
// output, namespaces and -A, selectors, watch, errors and exit codes,
// merged kubeconfigs and an exec credential plugin, completion.
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serviceAccountToken } from '../../cluster/backend.ts';
import { writeKubeconfig } from '../../cluster/kubeconfig.ts';
import { api, cluster, createObject, CUSTOM, eventually, grantRole, STORAGE, useNamespace, waitServed } from './harness.ts';
import { kubectlCustom, kubectlCustomSpawn, PLUGIN, pluginEnv } from './plugin-cli.ts';

const ns = useNamespace(import.meta.filename);
const second = useNamespace(import.meta.filename + '-2');
const tmp = mkdtempSync(join(tmpdir(), 'kubectl-custom-e2e-'));

afterAll(() => rmSync(tmp, { recursive: true, force: true }));

beforeAll(async () => {
  await createObject(ns(), 'checkout', { name: 'Checkout service', states: ['dev', 'staging', 'prod'], protectedStates: ['prod'] }, { team: 'payments' });
  await createObject(ns(), 'cart', { name: 'Shopping cart', states: ['dev', 'staging', 'prod'], protectedStates: ['prod'], minSoakSeconds: { dev: 3600 } }, { team: 'storefront' });
  await createObject(second(), 'search', { name: 'Search', states: ['draft', 'ga'] }, { team: 'payments' });
  await Promise.all([waitServed(ns(), 'checkout'), waitServed(ns(), 'cart'), waitServed(second(), 'search')]);
  // alice: read, promote, set-state and enter prod in ns; bob: read and promote only.
  const read = { apiGroups: ['custom.example.com'], resources: ['customresources', 'customresources/state'], verbs: ['get', 'list', 'watch'] };
  const write = { apiGroups: ['custom.example.com'], resources: ['customresources/promote'], verbs: ['create'] };
  const setState = { apiGroups: ['custom.example.com'], resources: ['customresources/state'], verbs: ['update'] };
  await grantRole(ns(), 'alice-release', 'alice', [read, write, setState, { apiGroups: ['custom.example.com'], resources: ['states'], resourceNames: ['prod'], verbs: ['enter'] }]);
  await grantRole(ns(), 'bob-promote', 'bob', [read, write]);
  await eventually('RBAC in force', async () => (await kubectlCustom('bob', ['list', '-n', ns()])).code === 0);
});

describe('kubectl finds the plugin', () => {
  it('kubectl plugin list lists it', async () => {
    const out = execFileSync(cluster().binaries.kubectl, ['plugin', 'list'], { env: pluginEnv(), encoding: 'utf8' });
    expect(out).toContain(PLUGIN);
  });

  it('version names the plugin and the backend', async () => {
    const r = await kubectlCustom('admin', ['version']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^Client Version: v0\.1\.0\nServer Version: v0\.1\.0 \(custom\.example\.com\/v1\)\nKubernetes Version: v1\.\d+\.\d+\n$/);
  });
});

describe('list', () => {
  it('prints the server Table for the namespace', async () => {
    const r = await kubectlCustom('alice', ['list', '-n', ns()]);
    expect(r.code, r.stderr).toBe(0);
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^NAME\s+DISPLAY NAME\s+STATE\s+NEXT\s+IN STATE\s+LAST CHANGED BY\s+AGE$/);
    expect(lines.slice(1).map((l) => l.split(/\s{2,}/)[0])).toEqual(['cart', 'checkout']);
    expect(r.stdout).not.toContain('\x1b[');
  });

  it('uses the namespace of the kubeconfig context when -n is absent', async () => {
    const file = join(tmp, 'alice-ns.kubeconfig');
    const c = cluster();
    writeKubeconfig(file, { server: c.server, caFile: c.caFile, user: 'alice', credentials: { certFile: c.users.alice.cert, keyFile: c.users.alice.key }, namespace: ns() });
    const r = await kubectlCustom(undefined, ['list'], { KUBECONFIG: file });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('checkout');
  });

  it('-A adds NAMESPACE and spans namespaces; -l selects', async () => {
    const r = await kubectlCustom('admin', ['list', '-A', '-l', 'team=payments']);
    expect(r.code, r.stderr).toBe(0);
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^NAMESPACE\s+NAME\s+DISPLAY NAME/);
    expect(lines.filter((l) => l.startsWith(ns()) || l.startsWith(second())).map((l) => l.split(/\s+/).slice(0, 2).join('/'))).toEqual([`${ns()}/checkout`, `${second()}/search`]);
  });

  it('-o wide adds the path and gates', async () => {
    const r = await kubectlCustom('admin', ['list', '-n', ns(), '-o', 'wide']);
    expect(r.stdout.split('\n')[0]).toMatch(/AGE\s+PATH\s+SOAK LEFT\s+PROTECTED\s+APPROVALS\s+FROZEN BY$/);
    expect(r.stdout).toMatch(/cart .*\[dev\] → staging → prod\s+\d+m\s+prod/);
  });

  it('-o json, yaml and name print the API objects for scripts', async () => {
    const json = await kubectlCustom('admin', ['list', '-n', ns(), '-o', 'json']);
    const list = JSON.parse(json.stdout) as { kind: string; items: { metadata: { name: string }; status: { state: string; nextState: string } }[] };
    expect(list.kind).toBe('CustomResourceList');
    expect(list.items.map((i) => i.metadata.name)).toEqual(['cart', 'checkout']);
    const yaml = parse((await kubectlCustom('admin', ['list', '-n', ns(), '-o', 'yaml'])).stdout) as typeof list;
    expect(yaml.items[1]?.status.nextState).toBe('staging');
    expect((await kubectlCustom('admin', ['list', '-n', ns(), '-o', 'name'])).stdout).toBe('customresource.custom.example.com/cart\ncustomresource.custom.example.com/checkout\n');
  });

  it('says so on stderr when nothing matches', async () => {
    const r = await kubectlCustom('admin', ['list', '-n', ns(), '-l', 'team=nobody']);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe(`No resources found in ${ns()} namespace.\n`);
  });

  it('colours only when asked: FORCE_COLOR on a pipe, never with NO_COLOR or --no-color', async () => {
    expect((await kubectlCustom('admin', ['list', '-n', ns()], { FORCE_COLOR: '1' })).stdout).toContain('\x1b[');
    expect((await kubectlCustom('admin', ['list', '-n', ns()], { FORCE_COLOR: '1', NO_COLOR: '1' })).stdout).not.toContain('\x1b[');
    expect((await kubectlCustom('admin', ['list', '-n', ns(), '--no-color'], { FORCE_COLOR: '1' })).stdout).not.toContain('\x1b[');
  });

  it('-w prints a line per change when not on a terminal', async () => {
    const w = kubectlCustomSpawn('admin', ['list', '-n', second(), '-w']);
    try {
      await eventually('the initial table', async () => w.out().includes('search'));
      expect((await api('admin', 'POST', `${CUSTOM}/namespaces/${second()}/customresources/search/promote`, { from: 'draft' })).status).toBe(201);
      await eventually('a line for search in ga', async () => /\nsearch\s+Search\s+ga\s+<none>/.test(w.out()), 15_000);
      expect(w.out()).not.toContain('\x1b[');
    } finally {
      w.kill();
    }
  });
});

describe('describe-state, promote, set-state', () => {
  it('walks checkout dev → staging → prod as alice and back as alice, saying what happened', async () => {
    const p1 = await kubectlCustom('alice', ['promote', 'checkout', '-n', ns(), '--reason', 'tests green']);
    expect(p1).toEqual({ code: 0, stdout: 'checkout promoted: dev → staging\n', stderr: '' });
    const p2 = await kubectlCustom('alice', ['promote', 'checkout', '-n', ns(), '--reason', 'release 1.2']);
    expect(p2.stdout).toBe('checkout promoted: staging → prod\n');
    const back = await kubectlCustom('alice', ['set-state', 'checkout', 'staging', '-n', ns(), '--reason', 'roll back']);
    expect(back.stdout).toBe('checkout moved: prod → staging\n');
    const d = await kubectlCustom('alice', ['describe-state', 'checkout', '-n', ns()]);
    expect(d.code).toBe(0);
    expect(d.stdout).toContain('Path:          dev → [staging] → prod*');
    expect(d.stdout).toMatch(/You May:\s+promote: yes, set-state: yes/);
    expect(d.stdout).toMatch(/SEQ\s+TIME\s+AGE\s+ACTION\s+FROM\s+TO\s+USER\s+DETAILS\s+REASON/);
    expect(d.stdout).toMatch(/set-state\s+prod\s+staging\s+alice\s+roll back/);
    const json = JSON.parse((await kubectlCustom('alice', ['describe-state', 'checkout', '-n', ns(), '-o', 'json'])).stdout) as { history: unknown[]; state: string };
    expect(json.state).toBe('staging');
    expect(json.history).toHaveLength(3);
    expect(parse((await kubectlCustom('alice', ['describe-state', 'checkout', '-n', ns(), '-o', 'yaml'])).stdout)).toEqual(expect.objectContaining({ kind: 'CustomResourceState' }));
  });

  it('--dry-run changes nothing', async () => {
    const before = await api('admin', 'GET', `${STORAGE}/namespaces/${second()}/customresources/search`);
    const r = await kubectlCustom('admin', ['set-state', 'search', 'draft', '-n', second(), '--dry-run']);
    expect(r.stdout).toBe('search moved: ga → draft (server dry run)\n');
    expect((await api('admin', 'GET', `${STORAGE}/namespaces/${second()}/customresources/search`)).body).toEqual(before.body);
  });
});

describe('errors: one line, non-zero exit', () => {
  it.each([
    { name: 'bob may not enter prod', user: 'bob', args: () => ['promote', 'checkout', '-n', ns(), '--reason', 'x'], want: /^Error from server \(Forbidden\): customresources\.custom\.example\.com "checkout" is forbidden: User "bob" cannot enter state "prod": .*resourceNames \["prod"\]/ },
    { name: 'bob may not set-state', user: 'bob', args: () => ['set-state', 'checkout', 'dev', '-n', ns()], want: /^Error from server \(Forbidden\): .*User "bob" cannot update resource "customresources\/state" in API group "custom\.example\.com" in the namespace/ },
    { name: 'bob may not list elsewhere', user: 'bob', args: () => ['list', '-n', second()], want: /^Error from server \(Forbidden\): .*User "bob" cannot list resource "customresources"/ },
    { name: 'soak not served', user: 'alice', args: () => ['promote', 'cart', '-n', ns()], want: /^The CustomResource "cart" is invalid: status\.stateSince: Forbidden: "dev" needs 1h of soak time/ },
    { name: 'protected state without a reason', user: 'alice', args: () => ['promote', 'checkout', '-n', ns()], want: /reason: Required value: entering the protected state "prod" needs a reason \(--reason\)/ },
    { name: 'unknown state', user: 'alice', args: () => ['set-state', 'checkout', 'qa', '-n', ns()], want: /state: Unsupported value: "qa": supported values: "dev", "staging", "prod"/ },
    { name: 'object not found', user: 'alice', args: () => ['describe-state', 'nope', '-n', ns()], want: /^Error from server \(NotFound\): customresources\.custom\.example\.com "nope" not found$/ },
    { name: 'unknown verb', user: 'alice', args: () => ['frobnicate'], want: /^error: Unknown argument: frobnicate/ },
    { name: 'missing name', user: 'alice', args: () => ['promote'], want: /^error: Not enough non-option arguments/ },
  ] as const)('$name', async ({ user, args, want }) => {
    const r = await kubectlCustom(user, [...args()]);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
    expect(r.stderr.trimEnd()).toMatch(want);
  });

  it('no kubeconfig at all', async () => {
    const home = mkdtempSync(join(tmpdir(), 'empty-home-'));
    const r = await kubectlCustom(undefined, ['list'], { HOME: home, KUBECONFIG: '' });
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(`error: no kubeconfig found (looked for ${home}/.kube/config); set KUBECONFIG or pass --kubeconfig\n`);
  });

  it('an unreachable cluster', async () => {
    const file = join(tmp, 'unreachable.kubeconfig');
    const c = cluster();
    writeKubeconfig(file, { server: 'https://127.0.0.1:1', caFile: c.caFile, user: 'alice', credentials: { certFile: c.users.alice.cert, keyFile: c.users.alice.key } });
    const r = await kubectlCustom(undefined, ['list'], { KUBECONFIG: file });
    expect(r.code).toBe(1);
    expect(r.stderr).toBe('error: cannot reach the cluster at https://127.0.0.1:1: connection refused; is the cluster running and is this the right context?\n');
  });
});

describe('kubeconfig like kubectl', () => {
  it('merges KUBECONFIG files: the first current-context and the first definition of a name win, missing files are skipped', async () => {
    const c = cluster();
    // File 1 says the current context is as-alice and defines user "me" as alice.
    const f1 = join(tmp, 'one.kubeconfig');
    writeFileSync(f1, JSON.stringify({
      apiVersion: 'v1', kind: 'Config', 'current-context': 'as-alice',
      contexts: [{ name: 'as-alice', context: { cluster: 'local', user: 'me', namespace: ns() } }],
      users: [{ name: 'me', user: { 'client-certificate': c.users.alice.cert, 'client-key': c.users.alice.key } }],
    }));
    // File 2 would make us admin: its current-context and its "me" must both lose.
    const f2 = join(tmp, 'two.kubeconfig');
    writeFileSync(f2, JSON.stringify({
      apiVersion: 'v1', kind: 'Config', 'current-context': 'as-admin',
      clusters: [{ name: 'local', cluster: { server: c.server, 'certificate-authority': c.caFile } }],
      contexts: [{ name: 'as-admin', context: { cluster: 'local', user: 'me' } }],
      users: [{ name: 'me', user: { 'client-certificate': c.users.admin.cert, 'client-key': c.users.admin.key } }],
    }));
    const env = { KUBECONFIG: [join(tmp, 'missing.kubeconfig'), f1, f2].join(':') };
    const asAlice = await kubectlCustom(undefined, ['list', '-n', second()], env);
    expect(asAlice.code).toBe(1);
    expect(asAlice.stderr).toContain('User "alice" cannot list');
    expect((await kubectlCustom(undefined, ['list'], env)).stdout).toContain('checkout');
    // kubectl itself agrees.
    const who = execFileSync(cluster().binaries.kubectl, ['auth', 'whoami', '-o', 'jsonpath={.status.userInfo.username}'], { env: pluginEnv(env), encoding: 'utf8' });
    expect(who).toBe('alice');
  });

  it('runs an exec credential plugin that prompts on stderr and reads KUBERNETES_EXEC_INFO', async () => {
    const token = await serviceAccountToken(cluster(), { namespace: 'custom-system', name: 'kubectl-custom-backend' }, 600);
    const infoFile = join(tmp, 'exec-info.json');
    const script = join(tmp, 'credential-helper.sh');
    writeFileSync(script, `#!/bin/sh
echo "Touch your security key to log in as the backend service account" >&2
printf '%s' "$KUBERNETES_EXEC_INFO" > ${infoFile}
cat <<JSON
{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","status":{"token":"${token}"}}
JSON
`);
    chmodSync(script, 0o755);
    const c = cluster();
    const file = join(tmp, 'exec.kubeconfig');
    writeFileSync(file, JSON.stringify({
      apiVersion: 'v1', kind: 'Config', 'current-context': 'x',
      clusters: [{ name: 'local', cluster: { server: c.server, 'certificate-authority': c.caFile } }],
      contexts: [{ name: 'x', context: { cluster: 'local', user: 'sso', namespace: ns() } }],
      users: [{ name: 'sso', user: { exec: { apiVersion: 'client.authentication.k8s.io/v1', command: './credential-helper.sh', interactiveMode: 'IfAvailable', provideClusterInfo: true } } }],
    }));
    const r = await kubectlCustom(undefined, ['list'], { KUBECONFIG: file });
    // The backend's ServiceAccount may read the storage CRD but not the custom.example.com API.
    expect(r.stderr).toContain('Touch your security key');
    expect(r.stderr).toContain('User "system:serviceaccount:custom-system:kubectl-custom-backend" cannot list resource "customresources" in API group "custom.example.com"');
    const info = JSON.parse(readFileSync(infoFile, 'utf8')) as { kind: string; spec: { interactive: boolean; cluster: { server: string } } };
    expect(info).toMatchObject({ kind: 'ExecCredential', spec: { interactive: false, cluster: { server: c.server } } });
  });
});

describe('completion', () => {
  it('kubectl completes object names through kubectl_complete-custom', async () => {
    const out = execFileSync(cluster().binaries.kubectl, ['__complete', 'custom', 'describe-state', '-n', ns(), ''], { env: pluginEnv({ KUBECONFIG: cluster().kubeconfigs.admin }), encoding: 'utf8' });
    const [names, directive] = [out.trim().split('\n').slice(0, -1), out.trim().split('\n').at(-1)];
    expect(names).toEqual(['cart', 'checkout']);
    expect(directive).toBe(':4');
  });

  it('the bash script completes a name and a state from the cluster', () => {
    const run = (words: string) => execFileSync('bash', ['-c', `source <(kubectl-custom completion bash); COMP_WORDS=(${words}); COMP_CWORD=$((\${#COMP_WORDS[@]}-1)); _kubectl_custom; echo "\${COMPREPLY[*]}"`], { env: pluginEnv({ KUBECONFIG: cluster().kubeconfigs.admin }), encoding: 'utf8' }).trim();
    expect(run(`kubectl-custom promote -n ${ns()} ch`)).toBe('checkout');
    expect(run(`kubectl-custom set-state -n ${ns()} checkout ""`).split(' ').sort()).toEqual(['dev', 'prod']);
    expect(run('kubectl-custom des')).toBe('describe-state');
  });
});

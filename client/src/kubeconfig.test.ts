import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError } from './errors.ts';
import { loadRawConfig, parseTimeout, resolveConfig, type ConnectionFlags, type Env, type ResolvedConfig } from './kubeconfig.ts';

const b64 = (s: string) => Buffer.from(s).toString('base64');

let tmp: string;
let dirA: string;
let dirB: string;
let a: string;
let b: string;
let noCurrent: string;
let emptyHome: string;

// First file: current-context ctx-a; cluster, user and context "shared" also defined in b.yaml.
const A_YAML = `apiVersion: v1
kind: Config
current-context: ctx-a
clusters:
- name: shared
  cluster:
    server: https://a.example:6443
    certificate-authority: certs/ca.crt
    tls-server-name: api.a.example
- name: only-a
  cluster:
    server: https://only-a.example:6443
    certificate-authority-data: ${b64('CA FROM DATA')}
    insecure-skip-tls-verify: true
users:
- name: shared
  user:
    client-certificate: certs/client.crt
    client-key: certs/client.key
- name: data-user
  user:
    client-certificate-data: ${b64('CERT FROM DATA')}
    client-key-data: ${b64('KEY FROM DATA')}
- name: impersonating
  user:
    token: imp-token
    as: robot
    as-groups: [ops, audit]
- name: old-gcp
  user:
    auth-provider:
      name: gcp
- name: provider-and-exec
  user:
    auth-provider:
      name: oidc
    exec:
      apiVersion: client.authentication.k8s.io/v1
      command: cred
      interactiveMode: Never
- name: basic
  user:
    username: ann
    password: secret
contexts:
- name: ctx-a
  context:
    cluster: shared
    user: shared
    namespace: ns-a
- name: shared
  context:
    cluster: shared
    user: shared
    namespace: from-a
- name: no-ns
  context:
    cluster: only-a
    user: data-user
- name: imp
  context:
    cluster: only-a
    user: impersonating
- name: gcp
  context:
    cluster: only-a
    user: old-gcp
- name: provider-exec
  context:
    cluster: only-a
    user: provider-and-exec
- name: basic
  context:
    cluster: only-a
    user: basic
- name: missing-cluster
  context:
    cluster: nowhere
    user: shared
`;

// Second file: its current-context and its "shared" entries must lose to a.yaml.
const B_YAML = `apiVersion: v1
kind: Config
current-context: ctx-b
clusters:
- name: shared
  cluster:
    server: https://b.example:6443
- name: only-b
  cluster:
    server: https://only-b.example:6443
    certificate-authority: ca-b.crt
users:
- name: shared
  user:
    token: b-token
- name: only-b
  user:
    tokenFile: secrets/token
- name: exec-relative
  user:
    exec:
      apiVersion: client.authentication.k8s.io/v1
      command: ./bin/get-token
      args: [--flag]
      interactiveMode: Never
- name: exec-path
  user:
    exec:
      apiVersion: client.authentication.k8s.io/v1
      command: kubelogin
      interactiveMode: Never
- name: exec-absolute
  user:
    exec:
      apiVersion: client.authentication.k8s.io/v1
      command: /opt/bin/get-token
      interactiveMode: Never
contexts:
- name: shared
  context:
    cluster: shared
    user: shared
    namespace: from-b
- name: ctx-b
  context:
    cluster: only-b
    user: only-b
- name: mixed
  context:
    cluster: only-b
    user: shared
- name: exec-relative
  context:
    cluster: only-b
    user: exec-relative
- name: exec-path
  context:
    cluster: only-b
    user: exec-path
- name: exec-absolute
  context:
    cluster: only-b
    user: exec-absolute
`;

beforeAll(() => {
  tmp = mkdtempSync(join(tmpdir(), 'kubeconfig-test-'));
  dirA = join(tmp, 'a');
  dirB = join(tmp, 'b');
  emptyHome = join(tmp, 'home');
  mkdirSync(join(dirA, 'certs'), { recursive: true });
  mkdirSync(join(dirB, 'secrets'), { recursive: true });
  mkdirSync(emptyHome);
  a = join(dirA, 'config.yaml');
  b = join(dirB, 'config.yaml');
  noCurrent = join(dirA, 'no-current.yaml');
  writeFileSync(a, A_YAML);
  writeFileSync(b, B_YAML);
  writeFileSync(noCurrent, 'apiVersion: v1\nkind: Config\ncurrent-context: ""\nclusters: []\n');
  writeFileSync(join(dirA, 'certs', 'ca.crt'), 'CA OF A');
  writeFileSync(join(dirA, 'certs', 'client.crt'), 'CLIENT CERT OF A');
  writeFileSync(join(dirA, 'certs', 'client.key'), 'CLIENT KEY OF A');
  writeFileSync(join(dirB, 'ca-b.crt'), 'CA OF B');
  writeFileSync(join(dirB, 'secrets', 'token'), 'token-of-b\n');
});

afterAll(() => {
  rmSync(tmp, { recursive: true, force: true });
});

/** KUBECONFIG=a.yaml:b.yaml, no HOME fallback. */
const envAB = (): Env => ({ KUBECONFIG: `${a}:${b}`, HOME: emptyHome });
const resolveAB = (flags: ConnectionFlags = {}): ResolvedConfig => resolveConfig(flags, envAB());

function configError(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return e as ConfigError;
  }
  throw new Error('expected a ConfigError, nothing was thrown');
}

describe('loadRawConfig: which files, merged how', () => {
  it('reads KUBECONFIG files in order', () => {
    const raw = loadRawConfig({}, envAB());
    expect(raw.files).toEqual([a, b]);
  });

  it('takes current-context from the first file that sets one', () => {
    expect(loadRawConfig({}, envAB()).currentContext).toBe('ctx-a');
    expect(loadRawConfig({}, { KUBECONFIG: `${b}:${a}`, HOME: emptyHome }).currentContext).toBe('ctx-b');
    // An empty current-context does not count as set.
    expect(loadRawConfig({}, { KUBECONFIG: `${noCurrent}:${b}`, HOME: emptyHome }).currentContext).toBe('ctx-b');
  });

  it('keeps the first file\'s definition of a name defined in both', () => {
    const raw = loadRawConfig({}, envAB());
    expect(raw.clusters.get('shared')?.value.server).toBe('https://a.example:6443');
    expect(raw.users.get('shared')?.value.token).toBeUndefined();
    expect(raw.users.get('shared')?.value['client-certificate']).toBe('certs/client.crt');
    expect(raw.contexts.get('shared')?.value.namespace).toBe('from-a');
    // Names only in the second file are still merged in.
    expect(raw.clusters.get('only-b')?.value.server).toBe('https://only-b.example:6443');
    expect(raw.clusters.get('only-b')?.base).toBe(dirB);
  });

  it('the other order makes the other file win', () => {
    const raw = loadRawConfig({}, { KUBECONFIG: `${b}:${a}`, HOME: emptyHome });
    expect(raw.clusters.get('shared')?.value.server).toBe('https://b.example:6443');
    expect(raw.contexts.get('shared')?.value.namespace).toBe('from-b');
  });

  it('skips a missing file in KUBECONFIG (and empty entries)', () => {
    const raw = loadRawConfig({}, { KUBECONFIG: `${join(tmp, 'missing.yaml')}::${b}`, HOME: emptyHome });
    expect(raw.files).toEqual([b]);
    expect(raw.currentContext).toBe('ctx-b');
  });

  it('--kubeconfig replaces KUBECONFIG', () => {
    const raw = loadRawConfig({ kubeconfig: b }, envAB());
    expect(raw.files).toEqual([b]);
    expect(raw.clusters.has('only-a')).toBe(false);
  });

  it('--kubeconfig naming a missing file is an error', () => {
    const missing = join(tmp, 'nope.yaml');
    const e = configError(() => loadRawConfig({ kubeconfig: missing }, envAB()));
    expect(e.message).toContain(missing);
    expect(e.message).toContain('no such file');
  });

  it('falls back to $HOME/.kube/config', () => {
    const home = join(tmp, 'home-with-config');
    mkdirSync(join(home, '.kube'), { recursive: true });
    writeFileSync(join(home, '.kube', 'config'), B_YAML);
    const raw = loadRawConfig({}, { HOME: home });
    expect(raw.files).toEqual([join(home, '.kube', 'config')]);
    expect(raw.currentContext).toBe('ctx-b');
  });

  it.each([
    { name: 'not YAML', text: 'clusters: [unclosed', want: 'is not valid YAML' },
    { name: 'a list, not a mapping', text: '- a\n- b\n', want: 'expected a YAML mapping' },
    { name: 'clusters not a list', text: 'clusters: {a: 1}\n', want: 'clusters must be a list' },
    { name: 'entry without a name', text: 'users:\n- user: {token: x}\n', want: 'users[0] has no name' },
  ])('rejects a broken file: $name', ({ text, want }) => {
    const f = join(tmp, 'broken.yaml');
    writeFileSync(f, text);
    expect(configError(() => loadRawConfig({ kubeconfig: f }, {})).message).toContain(want);
  });

  it('an empty file is an empty config', () => {
    const f = join(tmp, 'empty.yaml');
    writeFileSync(f, '');
    const raw = loadRawConfig({ kubeconfig: f }, {});
    expect(raw.files).toEqual([f]);
    expect(raw.contexts.size).toBe(0);
  });
});

describe('resolveConfig: no kubeconfig', () => {
  it('is an error that says to set KUBECONFIG or pass --kubeconfig', () => {
    const e = configError(() => resolveConfig({}, { HOME: emptyHome }));
    expect(e.message).toContain('KUBECONFIG');
    expect(e.message).toContain('--kubeconfig');
    expect(e.message).toContain(join(emptyHome, '.kube', 'config'));
  });

  it('all KUBECONFIG files missing is the same error', () => {
    const e = configError(() => resolveConfig({}, { KUBECONFIG: join(tmp, 'x.yaml'), HOME: emptyHome }));
    expect(e.message).toMatch(/no kubeconfig found.*KUBECONFIG.*--kubeconfig/);
  });

  it('--server alone is enough', () => {
    const c = resolveConfig({ server: 'https://flag.example', token: 't' }, { HOME: emptyHome });
    expect(c).toMatchObject({ server: 'https://flag.example', namespace: 'default', namespaceExplicit: false, auth: { token: 't' }, tls: { insecure: false } });
    expect(c.contextName).toBeUndefined();
  });
});

describe('resolveConfig: paths relative to the file that names them', () => {
  it('certificate-authority, client-certificate and client-key from the first file resolve against its folder', () => {
    const c = resolveAB();
    expect(c.contextName).toBe('ctx-a');
    expect(c.server).toBe('https://a.example:6443');
    expect(c.tls.ca?.toString()).toBe('CA OF A');
    expect(c.tls.serverName).toBe('api.a.example');
    expect(c.auth.clientCert?.toString()).toBe('CLIENT CERT OF A');
    expect(c.auth.clientKey?.toString()).toBe('CLIENT KEY OF A');
    expect(c.auth.token).toBeUndefined();
  });

  it('a cluster and a tokenFile from the second file resolve against the second folder', () => {
    const c = resolveAB({ context: 'ctx-b' });
    expect(c.tls.ca?.toString()).toBe('CA OF B');
    expect(c.auth.tokenFile).toBe(join(dirB, 'secrets', 'token'));
  });

  it('a context from one file can combine a cluster from the second with a user from the first', () => {
    const c = resolveAB({ context: 'mixed' });
    expect(c.clusterName).toBe('only-b');
    expect(c.tls.ca?.toString()).toBe('CA OF B');
    expect(c.auth.clientCert?.toString()).toBe('CLIENT CERT OF A');
  });

  it.each([
    { name: 'relative command with a slash: against the file\'s folder', context: 'exec-relative', want: () => join(dirB, 'bin', 'get-token') },
    { name: 'bare command: looked up on PATH, unchanged', context: 'exec-path', want: () => 'kubelogin' },
    { name: 'absolute command: unchanged', context: 'exec-absolute', want: () => '/opt/bin/get-token' },
  ])('exec command: $name', ({ context, want }) => {
    const c = resolveAB({ context });
    expect(c.auth.exec?.command).toBe(want());
    expect(c.auth.exec?.interactiveMode).toBe('Never');
  });

  it('keeps exec args', () => {
    expect(resolveAB({ context: 'exec-relative' }).auth.exec?.args).toEqual(['--flag']);
  });

  it('base64-decodes the *-data fields', () => {
    const c = resolveAB({ context: 'no-ns' });
    expect(c.tls.ca?.toString()).toBe('CA FROM DATA');
    expect(c.auth.clientCert?.toString()).toBe('CERT FROM DATA');
    expect(c.auth.clientKey?.toString()).toBe('KEY FROM DATA');
    expect(c.clusterForExec).toEqual({ server: 'https://only-a.example:6443', 'certificate-authority-data': b64('CA FROM DATA'), 'insecure-skip-tls-verify': true });
  });

  it('a certificate file that does not exist is an error naming its resolved path', () => {
    const f = join(tmp, 'bad-ca.yaml');
    writeFileSync(f, 'current-context: c\nclusters:\n- name: c\n  cluster: {server: "https://x", certificate-authority: nothere.crt}\ncontexts:\n- name: c\n  context: {cluster: c}\n');
    expect(configError(() => resolveConfig({ kubeconfig: f }, {})).message).toContain(join(tmp, 'nothere.crt'));
  });
});

describe('resolveConfig: flags', () => {
  it.each<{ name: string; flags: ConnectionFlags; want: Partial<ResolvedConfig> }>([
    { name: 'current context', flags: {}, want: { contextName: 'ctx-a', clusterName: 'shared', userName: 'shared', server: 'https://a.example:6443', namespace: 'ns-a', namespaceExplicit: false } },
    { name: '--context', flags: { context: 'ctx-b' }, want: { contextName: 'ctx-b', clusterName: 'only-b', userName: 'only-b', server: 'https://only-b.example:6443', namespace: 'default', namespaceExplicit: false } },
    { name: '--cluster', flags: { cluster: 'only-b' }, want: { contextName: 'ctx-a', clusterName: 'only-b', userName: 'shared', server: 'https://only-b.example:6443' } },
    { name: '--user', flags: { user: 'only-b' }, want: { contextName: 'ctx-a', clusterName: 'shared', userName: 'only-b', server: 'https://a.example:6443' } },
    { name: '--server', flags: { server: 'https://override:1' }, want: { clusterName: 'shared', server: 'https://override:1' } },
    { name: '--namespace', flags: { namespace: 'shop' }, want: { namespace: 'shop', namespaceExplicit: true } },
    { name: 'namespace from the context', flags: { context: 'shared' }, want: { namespace: 'from-a', namespaceExplicit: false } },
    { name: 'no namespace anywhere', flags: { context: 'no-ns' }, want: { namespace: 'default', namespaceExplicit: false } },
    { name: '--request-timeout', flags: { requestTimeout: '1m30s' }, want: { timeoutMs: 90_000 } },
    { name: 'no --request-timeout', flags: {}, want: { timeoutMs: 0 } },
  ])('$name', ({ flags, want }) => {
    expect(resolveAB(flags)).toMatchObject(want);
  });

  it('--user takes that user\'s credentials instead of the context\'s', () => {
    expect(resolveAB({ user: 'only-b' }).auth).toEqual({ tokenFile: join(dirB, 'secrets', 'token') });
  });

  it('--token replaces the user\'s credentials', () => {
    const c = resolveAB({ token: 'flag-token' });
    expect(c.auth).toEqual({ token: 'flag-token' });
  });

  it('--token replaces an exec plugin too', () => {
    expect(resolveAB({ context: 'exec-relative', token: 'flag-token' }).auth).toEqual({ token: 'flag-token' });
  });

  it('username and password become basic auth', () => {
    expect(resolveAB({ context: 'basic' }).auth).toEqual({ basic: { username: 'ann', password: 'secret' } });
  });

  it.each<{ name: string; flags: ConnectionFlags; want: ResolvedConfig['impersonate'] }>([
    { name: 'none', flags: {}, want: undefined },
    { name: '--as', flags: { as: 'bob' }, want: { user: 'bob', groups: [] } },
    { name: '--as and --as-group', flags: { as: 'bob', asGroups: ['g1', 'g2'] }, want: { user: 'bob', groups: ['g1', 'g2'] } },
    { name: '--as-group only', flags: { asGroups: ['g1'] }, want: { groups: ['g1'] } },
    { name: 'the user\'s as and as-groups', flags: { context: 'imp' }, want: { user: 'robot', groups: ['ops', 'audit'] } },
    { name: 'flags override the user\'s as and as-groups', flags: { context: 'imp', as: 'bob', asGroups: ['g1'] }, want: { user: 'bob', groups: ['g1'] } },
    { name: '--as keeps the user\'s as-groups', flags: { context: 'imp', as: 'bob' }, want: { user: 'bob', groups: ['ops', 'audit'] } },
  ])('impersonation: $name', ({ flags, want }) => {
    expect(resolveAB(flags).impersonate).toEqual(want);
  });

  it.each<{ name: string; flags: ConnectionFlags; want: boolean }>([
    { name: 'off by default', flags: {}, want: false },
    { name: 'from the cluster', flags: { context: 'no-ns' }, want: true },
    { name: 'from the flag', flags: { insecureSkipTlsVerify: true }, want: true },
  ])('insecure-skip-tls-verify: $name', ({ flags, want }) => {
    expect(resolveAB(flags).tls.insecure).toBe(want);
  });

  it('--context naming an unknown context is an error naming it', () => {
    const e = configError(() => resolveAB({ context: 'nope' }));
    expect(e.message).toContain('"nope"');
    expect(e.message).toContain(a);
  });

  it('--user naming an unknown user is an error naming it', () => {
    expect(configError(() => resolveAB({ user: 'ghost' })).message).toContain('"ghost"');
  });

  it('a context naming an unknown cluster is an error naming it', () => {
    expect(configError(() => resolveAB({ context: 'missing-cluster' })).message).toContain('cluster "nowhere"');
  });

  it('a current-context that does not exist is an error suggesting --context', () => {
    const f = join(tmp, 'dangling.yaml');
    writeFileSync(f, 'current-context: gone\ncontexts: []\n');
    const e = configError(() => resolveConfig({ kubeconfig: f }, {}));
    expect(e.message).toContain('"gone"');
    expect(e.message).toContain('--context');
  });

  it('no current-context at all is an error', () => {
    expect(configError(() => resolveConfig({ kubeconfig: noCurrent }, {})).message).toContain('no current context');
  });

  it('auth-provider without exec is a ConfigError naming the provider', () => {
    const e = configError(() => resolveAB({ context: 'gcp' }));
    expect(e.message).toContain('"gcp"');
    expect(e.message).toContain('exec');
  });

  it('auth-provider next to exec uses exec', () => {
    expect(resolveAB({ context: 'provider-exec' }).auth.exec?.command).toBe('cred');
  });

  it('a bad --request-timeout is a ConfigError', () => {
    configError(() => resolveAB({ requestTimeout: 'soon' }));
  });
});

describe('parseTimeout', () => {
  it.each([
    { name: 'zero', s: '0', want: 0 },
    { name: 'empty', s: '', want: 0 },
    { name: 'absent', s: undefined, want: 0 },
    { name: 'bare number is seconds', s: '5', want: 5_000 },
    { name: 'seconds', s: '30s', want: 30_000 },
    { name: 'minutes and seconds', s: '1m30s', want: 90_000 },
    { name: 'milliseconds', s: '500ms', want: 500 },
    { name: 'hours', s: '2h', want: 7_200_000 },
    { name: 'fractional seconds', s: '1.5s', want: 1_500 },
    { name: 'zero with a unit', s: '0s', want: 0 },
  ])('$name: $s', ({ s, want }) => {
    expect(parseTimeout(s)).toBe(want);
  });

  it.each([
    { name: 'words', s: 'soon' },
    { name: 'unknown unit', s: '5x' },
    { name: 'trailing number without unit', s: '1m30' },
    { name: 'negative', s: '-1s' },
    { name: 'space inside', s: '5 s' },
  ])('rejects $name: $s', ({ s }) => {
    const e = configError(() => parseTimeout(s));
    expect(e.message).toContain('--request-timeout');
    expect(e.message).toContain(JSON.stringify(s));
  });
});

// kubeconfig.ts with the Windows rules (a fake Windows file system): what
// kubectl.exe reads and resolves, checked on Linux.
import { describe, expect, it } from 'vitest';
import { ConfigError } from './errors.ts';
import { kubeconfigFiles, loadRawConfig, resolveConfig } from './kubeconfig.ts';
import { fakePlatform } from './testing/fake-platform.ts';

const b64 = (s: string) => Buffer.from(s).toString('base64');

const USER_CONFIG = `apiVersion: v1
kind: Config
current-context: dev
clusters:
- name: dev
  cluster:
    server: https://dev.example:6443
    certificate-authority: certs\\ca.crt
users:
- name: dev
  user:
    client-certificate: certs/client.crt
    client-key: ..\\keys\\client.key
- name: exec-backslash
  user:
    exec: { apiVersion: client.authentication.k8s.io/v1, command: 'bin\\get-token.exe', interactiveMode: Never }
- name: exec-slash
  user:
    exec: { apiVersion: client.authentication.k8s.io/v1, command: ./bin/get-token, interactiveMode: Never }
- name: exec-path
  user:
    exec: { apiVersion: client.authentication.k8s.io/v1, command: gke-gcloud-auth-plugin, interactiveMode: Never }
- name: exec-absolute
  user:
    exec: { apiVersion: client.authentication.k8s.io/v1, command: 'C:\\tools\\kubelogin.exe', interactiveMode: Never }
- name: exec-rooted
  user:
    exec: { apiVersion: client.authentication.k8s.io/v1, command: '\\tools\\kubelogin.exe', interactiveMode: Never }
contexts:
- name: dev
  context: { cluster: dev, user: dev, namespace: team }
- name: exec-backslash
  context: { cluster: dev, user: exec-backslash }
- name: exec-slash
  context: { cluster: dev, user: exec-slash }
- name: exec-path
  context: { cluster: dev, user: exec-path }
- name: exec-absolute
  context: { cluster: dev, user: exec-absolute }
- name: exec-rooted
  context: { cluster: dev, user: exec-rooted }
`;

// On a file share: a cluster with a relative CA and a user with a relative token file.
const SHARE_CONFIG = `apiVersion: v1
kind: Config
current-context: prod
clusters:
- name: prod
  cluster:
    server: https://prod.example:6443
    certificate-authority-data: ${b64('PROD CA')}
- name: dev
  cluster:
    server: https://loses-to-the-first-file.example
users:
- name: prod
  user:
    tokenFile: tokens\\prod
contexts:
- name: prod
  context: { cluster: prod, user: prod }
`;

const FILES = {
  'C:\\Users\\me\\.kube\\config': USER_CONFIG,
  'C:\\Users\\me\\.kube\\certs\\ca.crt': 'CA OF DEV',
  'C:\\Users\\me\\.kube\\certs\\client.crt': 'CERT OF DEV',
  'C:\\Users\\me\\keys\\client.key': 'KEY OF DEV',
  '\\\\fs\\kube\\prod.yaml': SHARE_CONFIG,
};
const windows = () => fakePlatform('win32', { files: FILES, cwd: 'D:\\work', homedir: 'C:\\Users\\me' });
const ENV = { USERPROFILE: 'C:\\Users\\me', HOMEDRIVE: 'C:', HOMEPATH: '\\Users\\me' };

describe('kubeconfig on Windows', () => {
  it('reads %USERPROFILE%\\.kube\\config by default', () => {
    expect(kubeconfigFiles({}, ENV, windows())).toEqual({ files: ['C:\\Users\\me\\.kube\\config'], explicit: false });
    const c = resolveConfig({}, ENV, windows());
    expect(c).toMatchObject({ contextName: 'dev', server: 'https://dev.example:6443', namespace: 'team' });
  });

  it('splits KUBECONFIG at ";", not at the drive letters\' colons, and reads each file once', () => {
    const env = { ...ENV, KUBECONFIG: 'C:\\Users\\me\\.kube\\config;;\\\\fs\\kube\\prod.yaml;C:\\Users\\me\\.kube\\config;C:\\missing.yaml' };
    expect(kubeconfigFiles({}, env, windows()).files).toEqual(['C:\\Users\\me\\.kube\\config', '\\\\fs\\kube\\prod.yaml', 'C:\\missing.yaml']);
    const raw = loadRawConfig({}, env, windows());
    expect(raw.files).toEqual(['C:\\Users\\me\\.kube\\config', '\\\\fs\\kube\\prod.yaml']);
    expect(raw.currentContext).toBe('dev');
    expect(raw.clusters.get('dev')!.value.server).toBe('https://dev.example:6443');
  });

  it('a relative --kubeconfig is read from the working directory', () => {
    const p = fakePlatform('win32', { files: { 'D:\\work\\k.yaml': SHARE_CONFIG }, cwd: 'D:\\work' });
    expect(loadRawConfig({ kubeconfig: 'k.yaml' }, {}, p).files).toEqual(['D:\\work\\k.yaml']);
  });

  it('resolves relative certificate files against the kubeconfig\'s folder, with either separator', () => {
    const c = resolveConfig({}, ENV, windows());
    expect(c.tls.ca?.toString()).toBe('CA OF DEV');
    expect(c.auth.clientCert?.toString()).toBe('CERT OF DEV');
    expect(c.auth.clientKey?.toString()).toBe('KEY OF DEV');
  });

  it('resolves a token file against a UNC folder', () => {
    const c = resolveConfig({}, { KUBECONFIG: '\\\\fs\\kube\\prod.yaml' }, windows());
    expect(c.auth.tokenFile).toBe('\\\\fs\\kube\\tokens\\prod');
    expect(c.tls.ca?.toString()).toBe('PROD CA');
  });

  it.each([
    // Holds "\": joined to the kubeconfig's folder.
    ['exec-backslash', 'C:\\Users\\me\\.kube\\bin\\get-token.exe'],
    // No "\" (Go's filepath.Separator): left for the command lookup, from the working directory, as kubectl.exe leaves it.
    ['exec-slash', './bin/get-token'],
    ['exec-path', 'gke-gcloud-auth-plugin'],
    ['exec-absolute', 'C:\\tools\\kubelogin.exe'],
    // Rooted but without a drive is relative for Go, so it is joined too.
    ['exec-rooted', 'C:\\Users\\me\\.kube\\tools\\kubelogin.exe'],
  ])('the exec command of %s is %s', (context, want) => {
    expect(resolveConfig({ context }, ENV, windows()).auth.exec?.command).toBe(want);
  });

  it('names the Windows default file when there is no kubeconfig', () => {
    const p = fakePlatform('win32', { dirs: { 'C:\\Users\\nobody': 0o777 } });
    expect(() => resolveConfig({}, { USERPROFILE: 'C:\\Users\\nobody' }, p)).toThrow(new ConfigError('no kubeconfig found (looked for C:\\Users\\nobody\\.kube\\config); set KUBECONFIG or pass --kubeconfig'));
  });

  it('a certificate file that does not exist is an error naming its Windows path', () => {
    const files = { 'C:\\k\\config': USER_CONFIG };
    expect(() => resolveConfig({}, { KUBECONFIG: 'C:\\k\\config' }, fakePlatform('win32', { files }))).toThrow('cannot read C:\\k\\certs\\ca.crt, named in the kubeconfig');
  });
});

describe('kubeconfig on Unix with the same rules', () => {
  it('splits KUBECONFIG at ":" and resolves against the file\'s folder', () => {
    const config = USER_CONFIG.replaceAll('\\', '/').replace('C:/tools', '/tools');
    const p = fakePlatform('linux', { files: { '/home/me/.kube/config': config, '/home/me/.kube/certs/ca.crt': 'CA', '/home/me/.kube/certs/client.crt': 'CERT', '/home/me/keys/client.key': 'KEY' } });
    expect(kubeconfigFiles({}, { KUBECONFIG: '/a:/b::/a' }, p).files).toEqual(['/a', '/b']);
    expect(kubeconfigFiles({}, { HOME: '/home/me', USERPROFILE: 'C:\\Users\\me' }, p).files).toEqual(['/home/me/.kube/config']);
    expect(resolveConfig({ context: 'exec-slash' }, { HOME: '/home/me' }, p).auth.exec?.command).toBe('/home/me/.kube/bin/get-token');
  });
});

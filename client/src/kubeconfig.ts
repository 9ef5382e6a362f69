// Kubeconfig loading as kubectl (client-go clientcmd) does it, which
// @kubernetes/client-node does not: KUBECONFIG files merged with the first
// file winning for current-context and for every name, missing files
// skipped, paths relative to the file that names them, and the connection
// flags (--context, --cluster, --user, --server, --token, -n) applied on top.
// On every operating system as kubectl built for it (clientcmd/loader.go):
// KUBECONFIG split by filepath.SplitList (";" on Windows), the default file
// in homedir.HomeDir() (%USERPROFILE%\.kube\config), paths judged and joined
// by the platform's rules (platform.ts, which tests replace).
import { parseGoDuration } from '../../api/src/go-duration.ts';
import { parse } from 'yaml';
import { ConfigError } from './errors.ts';
import { homeDir, type HomeEnv } from './homedir.ts';
import { hostPlatform, resolveAgainst, splitList, type Platform } from './platform.ts';

export interface ConnectionFlags {
  kubeconfig?: string;
  context?: string;
  cluster?: string;
  user?: string;
  namespace?: string;
  server?: string;
  token?: string;
  insecureSkipTlsVerify?: boolean;
  as?: string;
  asGroups?: string[];
  requestTimeout?: string;
}

export interface ExecConfig {
  apiVersion: string;
  command: string;
  args?: string[];
  env?: { name: string; value: string }[];
  interactiveMode?: 'Never' | 'IfAvailable' | 'Always';
  provideClusterInfo?: boolean;
  installHint?: string;
  config?: unknown;
}

interface NamedEntry<T> {
  name: string;
  value: T;
  /** The folder of the file that defined it: relative paths resolve against it. */
  base: string;
}

interface ClusterEntry {
  server?: string;
  'certificate-authority'?: string;
  'certificate-authority-data'?: string;
  'insecure-skip-tls-verify'?: boolean;
  'tls-server-name'?: string;
}

interface UserEntry {
  'client-certificate'?: string;
  'client-certificate-data'?: string;
  'client-key'?: string;
  'client-key-data'?: string;
  token?: string;
  tokenFile?: string;
  username?: string;
  password?: string;
  exec?: ExecConfig;
  'auth-provider'?: { name: string };
  as?: string;
  'as-groups'?: string[];
}

interface ContextEntry {
  cluster?: string;
  user?: string;
  namespace?: string;
}

export interface RawConfig {
  clusters: Map<string, NamedEntry<ClusterEntry>>;
  users: Map<string, NamedEntry<UserEntry>>;
  contexts: Map<string, NamedEntry<ContextEntry>>;
  currentContext?: string;
  /** The files that were read, in order. */
  files: string[];
}

export interface ResolvedConfig {
  contextName?: string;
  clusterName?: string;
  userName?: string;
  server: string;
  namespace: string;
  /** True when -n/--namespace was given (kubectl: "explicit" namespace). */
  namespaceExplicit: boolean;
  tls: { ca?: Buffer; insecure: boolean; serverName?: string };
  auth: {
    clientCert?: Buffer;
    clientKey?: Buffer;
    token?: string;
    tokenFile?: string;
    basic?: { username: string; password: string };
    exec?: ExecConfig;
  };
  impersonate?: { user?: string; groups: string[] };
  /** Milliseconds; 0 means no timeout. */
  timeoutMs: number;
  /** For KUBERNETES_EXEC_INFO when an exec plugin asks for cluster info. */
  clusterForExec?: Record<string, unknown>;
}

export interface Env extends HomeEnv {
  KUBECONFIG?: string;
  KUBERNETES_SERVICE_HOST?: string;
  KUBERNETES_SERVICE_PORT?: string;
}

const IN_CLUSTER_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';

/** A kubeconfig file's document; undefined when the file does not exist and `mayBeMissing`. */
function readFile(path: string, mayBeMissing: boolean, platform: Platform): Record<string, unknown> | undefined {
  let text: string;
  try {
    text = platform.readFile(path).toString('utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const missing = code === 'ENOENT' || code === 'ENOTDIR';
    if (missing && mayBeMissing) return undefined;
    throw new ConfigError(`cannot read kubeconfig ${path}: ${missing ? 'no such file' : (err as Error).message}`);
  }
  return parseKubeconfig(text, path);
}

/** The YAML document of a kubeconfig file (`path` names it in errors). */
export function parseKubeconfig(text: string, path: string): Record<string, unknown> {
  let doc: unknown;
  try {
    doc = parse(text);
  } catch (err) {
    throw new ConfigError(`kubeconfig ${path} is not valid YAML: ${(err as Error).message.split('\n')[0]}`);
  }
  if (doc === null || doc === undefined) return {};
  if (typeof doc !== 'object' || Array.isArray(doc)) throw new ConfigError(`kubeconfig ${path} is not a kubeconfig (expected a YAML mapping)`);
  return doc as Record<string, unknown>;
}

function namedList(doc: Record<string, unknown>, key: string, inner: string, path: string): { name: string; value: Record<string, unknown> }[] {
  const list = doc[key];
  if (list === undefined || list === null) return [];
  if (!Array.isArray(list)) throw new ConfigError(`kubeconfig ${path}: ${key} must be a list`);
  return list.map((e: unknown, i) => {
    const entry = e as Record<string, unknown> | null;
    if (!entry || typeof entry['name'] !== 'string') throw new ConfigError(`kubeconfig ${path}: ${key}[${i}] has no name`);
    return { name: entry['name'], value: (entry[inner] ?? {}) as Record<string, unknown> };
  });
}

/** The kubeconfig files kubectl would read, in precedence order: KUBECONFIG's without empty entries or repeats. */
export function kubeconfigFiles(flags: ConnectionFlags, env: Env, platform: Platform = hostPlatform()): { files: string[]; explicit: boolean } {
  if (flags.kubeconfig) return { files: [flags.kubeconfig], explicit: true };
  if (env.KUBECONFIG) return { files: [...new Set(splitList(env.KUBECONFIG, platform).filter(Boolean))], explicit: false };
  return { files: [platform.path.join(homeDir(env, platform), '.kube', 'config')], explicit: false };
}

export function loadRawConfig(flags: ConnectionFlags, env: Env, platform: Platform = hostPlatform()): RawConfig {
  const { files, explicit } = kubeconfigFiles(flags, env, platform);
  const raw: RawConfig = { clusters: new Map(), users: new Map(), contexts: new Map(), files: [] };
  for (const file of files) {
    const path = platform.path.resolve(platform.cwd(), file);
    // --kubeconfig must exist; KUBECONFIG entries and the default file may be missing.
    const doc = readFile(path, !explicit, platform);
    if (!doc) continue;
    raw.files.push(path);
    const base = platform.path.dirname(path);
    // First file to define a name wins, as clientcmd merges.
    for (const { name, value } of namedList(doc, 'clusters', 'cluster', path)) if (!raw.clusters.has(name)) raw.clusters.set(name, { name, value: value as ClusterEntry, base });
    for (const { name, value } of namedList(doc, 'users', 'user', path)) if (!raw.users.has(name)) raw.users.set(name, { name, value: value as UserEntry, base });
    for (const { name, value } of namedList(doc, 'contexts', 'context', path)) if (!raw.contexts.has(name)) raw.contexts.set(name, { name, value: value as ContextEntry, base });
    const cc = doc['current-context'];
    if (!raw.currentContext && typeof cc === 'string' && cc) raw.currentContext = cc;
  }
  return raw;
}

function fileOrData(base: string, file: string | undefined, data: string | undefined, platform: Platform): Buffer | undefined {
  if (data) return Buffer.from(data, 'base64');
  if (file) {
    const p = resolveAgainst(base, file, platform);
    try {
      return platform.readFile(p);
    } catch {
      throw new ConfigError(`cannot read ${p}, named in the kubeconfig`);
    }
  }
  return undefined;
}

/** Milliseconds in a duration as kubectl's flags take it: a bare number of seconds, or a Go duration (1m30s, 500ms); undefined if it is neither, or negative. */
export function parseDuration(s: string): number | undefined {
  if (/^\d+$/.test(s)) return Number(s) * 1000;
  const ms = parseGoDuration(s);
  return ms === undefined || ms < 0 ? undefined : Math.round(ms);
}

/** Parses kubectl's --request-timeout: "0" (none), a bare number of seconds, or durations like 1m30s, 500ms. */
export function parseTimeout(s: string | undefined): number {
  if (!s || s === '0') return 0;
  const ms = parseDuration(s);
  if (ms === undefined) throw new ConfigError(`invalid --request-timeout ${JSON.stringify(s)}: use a duration such as 30s, 1m or 0 for none`);
  return ms;
}

/** The pod's service account, as client-go's rest.InClusterConfig; undefined outside a pod. Its paths are client-go's, on Windows too (the current drive's root). */
export function inClusterConfig(flags: ConnectionFlags, env: Env, platform: Platform = hostPlatform()): ResolvedConfig | undefined {
  const tokenFile = `${IN_CLUSTER_DIR}/token`;
  if (!env.KUBERNETES_SERVICE_HOST || !env.KUBERNETES_SERVICE_PORT || !platform.stat(tokenFile)) return undefined;
  const host = env.KUBERNETES_SERVICE_HOST.includes(':') ? `[${env.KUBERNETES_SERVICE_HOST}]` : env.KUBERNETES_SERVICE_HOST;
  const nsFile = `${IN_CLUSTER_DIR}/namespace`;
  return {
    server: flags.server ?? `https://${host}:${env.KUBERNETES_SERVICE_PORT}`,
    namespace: flags.namespace ?? (platform.stat(nsFile) ? platform.readFile(nsFile).toString('utf8').trim() : 'default'),
    namespaceExplicit: !!flags.namespace,
    tls: { ca: platform.readFile(`${IN_CLUSTER_DIR}/ca.crt`), insecure: !!flags.insecureSkipTlsVerify },
    auth: flags.token ? { token: flags.token } : { tokenFile },
    ...(flags.as || flags.asGroups?.length ? { impersonate: { ...(flags.as ? { user: flags.as } : {}), groups: flags.asGroups ?? [] } } : {}),
    timeoutMs: parseTimeout(flags.requestTimeout),
  };
}

/**
 * The user's credentials, files read and paths made absolute against the
 * folder of the kubeconfig that defined the user (clientcmd's
 * ResolveLocalPaths). The exec command only when it holds the platform's
 * separator ("/"; "\" on Windows, where "./bin/x" is left to the command
 * lookup, relative to the working directory, as kubectl leaves it).
 */
function userAuth(flags: ConnectionFlags, u: UserEntry, ubase: string, platform: Platform): ResolvedConfig['auth'] {
  const auth: ResolvedConfig['auth'] = {};
  if (flags.token) {
    auth.token = flags.token;
    return auth;
  }
  const cert = fileOrData(ubase, u['client-certificate'], u['client-certificate-data'], platform);
  const key = fileOrData(ubase, u['client-key'], u['client-key-data'], platform);
  if (cert) auth.clientCert = cert;
  if (key) auth.clientKey = key;
  if (u.token) auth.token = u.token;
  else if (u.tokenFile) auth.tokenFile = resolveAgainst(ubase, u.tokenFile, platform);
  else if (u.username && u.password !== undefined) auth.basic = { username: u.username, password: u.password };
  if (u.exec) {
    const command = u.exec.command.includes(platform.path.sep) ? resolveAgainst(ubase, u.exec.command, platform) : u.exec.command;
    auth.exec = { ...u.exec, command };
  }
  return auth;
}

/** The connection kubectl would use with these flags and this environment. */
export function resolveConfig(flags: ConnectionFlags, env: Env, platform: Platform = hostPlatform()): ResolvedConfig {
  const raw = loadRawConfig(flags, env, platform);
  if (raw.files.length === 0 && !flags.server) {
    const ic = inClusterConfig(flags, env, platform);
    if (ic) return ic;
    const { files } = kubeconfigFiles(flags, env, platform);
    throw new ConfigError(`no kubeconfig found (looked for ${files.join(', ')}); set KUBECONFIG or pass --kubeconfig`);
  }
  const contextName = flags.context || raw.currentContext;
  const ctx = contextName ? raw.contexts.get(contextName) : undefined;
  if (flags.context && !ctx) throw new ConfigError(`context "${flags.context}" does not exist in ${raw.files.join(', ')}`);
  if (!ctx && !flags.server && !flags.cluster) {
    throw new ConfigError(contextName ? `current context "${contextName}" does not exist in ${raw.files.join(', ')}; pick one with --context` : `the kubeconfig (${raw.files.join(', ')}) has no current context; pass --context or run "kubectl config use-context"`);
  }
  const clusterName = flags.cluster || ctx?.value.cluster;
  const userName = flags.user || ctx?.value.user;
  const cluster = clusterName ? raw.clusters.get(clusterName) : undefined;
  if (clusterName && !cluster && !flags.server) throw new ConfigError(`cluster "${clusterName}" does not exist in the kubeconfig`);
  const user = userName ? raw.users.get(userName) : undefined;
  if (flags.user && !user) throw new ConfigError(`user "${flags.user}" does not exist in the kubeconfig`);
  const server = flags.server || cluster?.value.server;
  if (!server) throw new ConfigError(`no server for cluster "${clusterName ?? ''}" in the kubeconfig; pass --server`);
  const c = cluster?.value ?? {};
  const cbase = cluster?.base ?? platform.cwd();
  const u = user?.value ?? {};
  const ubase = user?.base ?? platform.cwd();
  if (u['auth-provider'] && !u.exec) {
    throw new ConfigError(`user "${userName}" uses the auth-provider "${u['auth-provider'].name}", which kubectl no longer supports either; switch it to an exec credential plugin`);
  }
  const ca = fileOrData(cbase, c['certificate-authority'], c['certificate-authority-data'], platform);
  const auth = userAuth(flags, u, ubase, platform);
  const impUser = flags.as ?? u.as;
  const impGroups = flags.asGroups?.length ? flags.asGroups : (u['as-groups'] ?? []);
  const namespace = flags.namespace || ctx?.value.namespace || 'default';
  return {
    ...(contextName ? { contextName } : {}),
    ...(clusterName ? { clusterName } : {}),
    ...(userName ? { userName } : {}),
    server,
    namespace,
    namespaceExplicit: !!flags.namespace,
    tls: { ...(ca ? { ca } : {}), insecure: flags.insecureSkipTlsVerify ?? c['insecure-skip-tls-verify'] ?? false, ...(c['tls-server-name'] ? { serverName: c['tls-server-name'] } : {}) },
    auth,
    ...(impUser || impGroups.length ? { impersonate: { ...(impUser ? { user: impUser } : {}), groups: impGroups } } : {}),
    timeoutMs: parseTimeout(flags.requestTimeout),
    clusterForExec: {
      server,
      ...(ca ? { 'certificate-authority-data': ca.toString('base64') } : {}),
      ...((flags.insecureSkipTlsVerify ?? c['insecure-skip-tls-verify']) ? { 'insecure-skip-tls-verify': true } : {}),
      ...(c['tls-server-name'] ? { 'tls-server-name': c['tls-server-name'] } : {}),
    },
  };
}

// Exec credential plugins as kubectl runs them: stdout carries the
// ExecCredential, stderr goes to the user's terminal, stdin is the user's
// when the plugin may be interactive, and KUBERNETES_EXEC_INFO tells it so.
// The environment is ours, then the kubeconfig's env, then
// KUBERNETES_EXEC_INFO, the last setting of a name winning (on Windows
// whatever its case), as client-go's exec.go builds it. The command is
// found and started as on the platform kubectl runs on (exec-command.ts).
import { spawn } from 'node:child_process';
import { ConfigError } from './errors.ts';
import { BatchArgumentError, spawnPlan, type SpawnPlan } from './exec-command.ts';
import type { ExecConfig } from './kubeconfig.ts';
import { LookPathError } from './look-path.ts';
import { hostPlatform, setEnv, type Platform } from './platform.ts';

export interface ExecResult {
  token?: string;
  clientCert?: Buffer;
  clientKey?: Buffer;
  expiresAt?: Date;
}

export interface ExecIO {
  stdinIsTTY: boolean;
  env: NodeJS.ProcessEnv;
  /** This machine unless a test says otherwise. */
  platform?: Platform;
}

const KNOWN_VERSIONS = ['client.authentication.k8s.io/v1', 'client.authentication.k8s.io/v1beta1'];

export function execInfo(exec: ExecConfig, interactive: boolean, cluster: Record<string, unknown> | undefined): string {
  return JSON.stringify({
    apiVersion: exec.apiVersion,
    kind: 'ExecCredential',
    spec: { interactive, ...(exec.provideClusterInfo && cluster ? { cluster: { ...cluster, ...(exec.config !== undefined ? { config: exec.config } : {}) } } : {}) },
  });
}

/** How to start the plugin; a command not found (or refused) is a ConfigError in kubectl's words. */
function commandPlan(exec: ExecConfig, env: NodeJS.ProcessEnv, platform: Platform): SpawnPlan {
  try {
    return spawnPlan(exec.command, exec.args ?? [], env, platform);
  } catch (err) {
    if (err instanceof LookPathError) {
      const why = err.inCurrentDirectory ? ' (only in the current directory, which kubectl does not run plugins from)' : '';
      throw new ConfigError(`getting credentials: exec: executable ${exec.command} not found${why}${installHint(exec)}`);
    }
    if (err instanceof BatchArgumentError) throw new ConfigError(`getting credentials: exec: batch file arguments are invalid: ${err.message}`);
    throw err;
  }
}

const installHint = (exec: ExecConfig) => (exec.installHint ? `\n\n${exec.installHint.trim()}` : '');

/** Runs the plugin; resolves with what it printed on stdout. */
function runPlugin(exec: ExecConfig, plan: SpawnPlan, env: NodeJS.ProcessEnv, interactive: boolean): Promise<string> {
  return new Promise<string>((resolve, reject) => {
    const child = spawn(plan.file, plan.args, { env, stdio: [interactive ? 'inherit' : 'ignore', 'pipe', 'inherit'], windowsVerbatimArguments: !!plan.verbatim });
    let stdout = '';
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (d: string) => (stdout += d));
    child.on('error', (err: NodeJS.ErrnoException) => {
      reject(new ConfigError(err.code === 'ENOENT' ? `getting credentials: exec: executable ${exec.command} not found${installHint(exec)}` : `getting credentials: exec: ${err.message}`));
    });
    child.on('close', (code, signal) => {
      if (code === 0) resolve(stdout);
      else reject(new ConfigError(`getting credentials: exec: executable ${exec.command} failed with ${signal ? `signal ${signal}` : `exit code ${code}`}`));
    });
  });
}

export async function runExecCredential(exec: ExecConfig, io: ExecIO, cluster?: Record<string, unknown>): Promise<ExecResult> {
  if (!KNOWN_VERSIONS.includes(exec.apiVersion)) {
    throw new ConfigError(`exec plugin: invalid apiVersion ${JSON.stringify(exec.apiVersion)}; use client.authentication.k8s.io/v1 or v1beta1`);
  }
  // v1 requires interactiveMode; v1beta1 defaults to IfAvailable, as client-go does.
  const mode = exec.interactiveMode ?? (exec.apiVersion.endsWith('/v1beta1') ? 'IfAvailable' : undefined);
  if (!mode) throw new ConfigError('exec plugin: interactiveMode must be specified for client.authentication.k8s.io/v1');
  if (mode === 'Always' && !io.stdinIsTTY) throw new ConfigError(`exec plugin ${exec.command} needs an interactive terminal (interactiveMode: Always), but standard input is not one`);
  const interactive = mode !== 'Never' && io.stdinIsTTY;
  const platform = io.platform ?? hostPlatform();
  const env: NodeJS.ProcessEnv = { ...io.env };
  for (const e of exec.env ?? []) setEnv(env, e.name, e.value, platform);
  setEnv(env, 'KUBERNETES_EXEC_INFO', execInfo(exec, interactive, cluster), platform);
  const out = await runPlugin(exec, commandPlan(exec, io.env, platform), env, interactive);
  let cred: { apiVersion?: string; kind?: string; status?: { token?: string; clientCertificateData?: string; clientKeyData?: string; expirationTimestamp?: string } };
  try {
    cred = JSON.parse(out) as typeof cred;
  } catch {
    throw new ConfigError(`getting credentials: exec plugin ${exec.command} did not print an ExecCredential in JSON`);
  }
  if (cred.kind !== 'ExecCredential' || cred.apiVersion !== exec.apiVersion) {
    throw new ConfigError(`getting credentials: exec plugin ${exec.command} is configured to use API version ${exec.apiVersion}, plugin returned version ${cred.apiVersion}`);
  }
  const st = cred.status ?? {};
  if (!st.token && !(st.clientCertificateData && st.clientKeyData)) {
    throw new ConfigError(`getting credentials: exec plugin ${exec.command} returned neither a token nor a client certificate and key`);
  }
  return {
    ...(st.token ? { token: st.token } : {}),
    ...(st.clientCertificateData ? { clientCert: Buffer.from(st.clientCertificateData) } : {}),
    ...(st.clientKeyData ? { clientKey: Buffer.from(st.clientKeyData) } : {}),
    ...(st.expirationTimestamp ? { expiresAt: new Date(st.expirationTimestamp) } : {}),
  };
}

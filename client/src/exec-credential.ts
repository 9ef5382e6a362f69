// Exec credential plugins as kubectl runs them: stdout carries the
// ExecCredential, stderr goes to the user's terminal, stdin is the user's
// when the plugin may be interactive, and KUBERNETES_EXEC_INFO tells it so.
import { spawn } from 'node:child_process';
import { ConfigError } from './errors.ts';
import type { ExecConfig } from './kubeconfig.ts';

export interface ExecResult {
  token?: string;
  clientCert?: Buffer;
  clientKey?: Buffer;
  expiresAt?: Date;
}

export interface ExecIO {
  stdinIsTTY: boolean;
  env: NodeJS.ProcessEnv;
}

const KNOWN_VERSIONS = ['client.authentication.k8s.io/v1', 'client.authentication.k8s.io/v1beta1'];

export function execInfo(exec: ExecConfig, interactive: boolean, cluster: Record<string, unknown> | undefined): string {
  return JSON.stringify({
    apiVersion: exec.apiVersion,
    kind: 'ExecCredential',
    spec: { interactive, ...(exec.provideClusterInfo && cluster ? { cluster: { ...cluster, ...(exec.config !== undefined ? { config: exec.config } : {}) } } : {}) },
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
  const env: NodeJS.ProcessEnv = { ...io.env, KUBERNETES_EXEC_INFO: execInfo(exec, interactive, cluster) };
  for (const e of exec.env ?? []) env[e.name] = e.value;
  const out = await new Promise<string>((resolve, reject) => {
    const child = spawn(exec.command, exec.args ?? [], { env, stdio: [interactive ? 'inherit' : 'ignore', 'pipe', 'inherit'] });
    let stdout = '';
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (d: string) => (stdout += d));
    child.on('error', (err: NodeJS.ErrnoException) => {
      const hint = exec.installHint ? `\n\n${exec.installHint.trim()}` : '';
      reject(new ConfigError(err.code === 'ENOENT' ? `getting credentials: exec: executable ${exec.command} not found${hint}` : `getting credentials: exec: ${err.message}`));
    });
    child.on('close', (code, signal) => {
      if (code === 0) resolve(stdout);
      else reject(new ConfigError(`getting credentials: exec: executable ${exec.command} failed with ${signal ? `signal ${signal}` : `exit code ${code}`}`));
    });
  });
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

// Running the built plugin the way users do: `kubectl custom …`, found by
// kubectl on PATH, with a kubeconfig from the environment.
import { spawn, type ChildProcess } from 'node:child_process';
import { delimiter, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { inject } from 'vitest';
import { type Run, runCommand } from './run-command.ts';

export const DIST = fileURLToPath(new URL('../../dist/', import.meta.url));
export const PLUGIN = join(DIST, 'kubectl-custom');

export type CliResult = Run;

export function pluginEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const kubectlDir = dirname(inject('cluster').binaries.kubectl);
  // Only what a user's shell would have: no NO_COLOR/FORCE_COLOR leaking in from the test runner.
  const { NO_COLOR: _n, FORCE_COLOR: _f, ...env } = process.env;
  return { ...env, PATH: [DIST, kubectlDir, '/usr/bin', '/bin'].join(delimiter), ...extra };
}

/** `kubectl custom <args>` as `user` (its kubeconfig in KUBECONFIG), unless env overrides. */
export function kubectlCustom(user: 'admin' | 'alice' | 'bob' | undefined, args: string[], env: NodeJS.ProcessEnv = {}): Promise<CliResult> {
  const c = inject('cluster');
  const kubeconfig = user ? { KUBECONFIG: c.kubeconfigs[user] } : {};
  return runCommand(c.binaries.kubectl, ['custom', ...args], { env: pluginEnv({ ...kubeconfig, ...env }), timeoutMs: 30_000 });
}

/** Same, but kept running (for -w); read `out()` and `kill()` it. */
export function kubectlCustomSpawn(user: 'admin' | 'alice' | 'bob', args: string[]): { child: ChildProcess; out(): string; err(): string; kill(): void } {
  const c = inject('cluster');
  const child = spawn(c.binaries.kubectl, ['custom', ...args], { env: pluginEnv({ KUBECONFIG: c.kubeconfigs[user] }), stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  return { child, out: () => out, err: () => err, kill: () => child.kill() };
}

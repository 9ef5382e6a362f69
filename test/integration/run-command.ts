// Runs a program as the tests run every tool (kubectl, helm, krew, the
// plugin, Wine, QEMU): never throws, so a test asserts on the exit code and
// both outputs; a program killed by a signal or the timeout exits 1 here.
import { execFile } from 'node:child_process';

export interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  /** The whole environment (defaults to this process's). */
  env?: NodeJS.ProcessEnv;
  /** Written to its standard input, which is then closed. */
  input?: string;
  timeoutMs?: number;
}

export function runCommand(cmd: string, args: string[], opts: RunOptions = {}): Promise<Run> {
  return new Promise((resolve) => {
    const child = execFile(cmd, args, { ...(opts.env ? { env: opts.env } : {}), encoding: 'utf8', maxBuffer: 64 << 20, ...(opts.timeoutMs ? { timeout: opts.timeoutMs } : {}) }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : 1) : 0;
      resolve({ code, stdout, stderr });
    });
    if (opts.input !== undefined) child.stdin?.end(opts.input);
  });
}

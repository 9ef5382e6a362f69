import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';

export interface Started {
  name: string;
  pid: number;
  logFile: string;
  /** Present when this process is the parent; undefined after `adopt`. */
  child?: ChildProcess;
}

export interface StartOptions {
  name: string;
  command: string;
  args: string[];
  logFile: string;
  env?: NodeJS.ProcessEnv;
  /**
   * Outlive this process (cluster:up). Otherwise the child is started under
   * `setpriv --pdeathsig SIGKILL`, so the kernel kills it when its parent dies
   * however that happens: an interrupted or crashed test run leaves nothing.
   */
  detached?: boolean;
}

export function startProcess(opts: StartOptions): Started {
  const out = openSync(opts.logFile, 'a');
  try {
    const [cmd, args] = opts.detached
      ? [opts.command, opts.args]
      : ['setpriv', ['--pdeathsig', 'SIGKILL', '--', opts.command, ...opts.args]];
    const child = spawn(cmd, args, {
      stdio: ['ignore', out, out],
      detached: opts.detached ?? false,
      env: opts.env ?? process.env,
    });
    if (child.pid === undefined) throw new Error(`cannot start ${opts.name} (${opts.command})`);
    if (opts.detached) child.unref();
    // Without this an 'error' event (e.g. ENOENT) would crash the process.
    child.on('error', () => {});
    return { name: opts.name, pid: child.pid, logFile: opts.logFile, child };
  } finally {
    closeSync(out);
  }
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** SIGTERM, then SIGKILL after `graceMs`; resolves once the process is gone. */
export async function stopProcess(pid: number, graceMs = 10_000): Promise<void> {
  if (!isAlive(pid)) return;
  try {
    process.kill(pid, 'SIGTERM');
  } catch {
    return;
  }
  const deadline = Date.now() + graceMs;
  while (isAlive(pid) && Date.now() < deadline) await sleep(50);
  if (isAlive(pid)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      return;
    }
    while (isAlive(pid)) await sleep(20);
  }
}

function tailOf(file: string, lines = 30): string {
  try {
    return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

/**
 * A port that was free a moment ago. The kernel may hand it out again before
 * the caller binds it; callers retry start-up on a bind failure.
 */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      srv.close(() => (typeof addr === 'object' && addr ? resolve(addr.port) : reject(new Error('no port'))));
    });
  });
}

/** Polls `check` until it returns true, the process dies, or time runs out. */
export async function waitFor(what: string, proc: Started, check: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let exited: string | undefined;
  proc.child?.once('exit', (code, signal) => (exited = signal ?? `exit code ${code}`));
  for (;;) {
    if (exited !== undefined || !isAlive(proc.pid)) {
      throw new Error(`${proc.name} exited (${exited ?? 'gone'}) before ${what}; last lines of ${proc.logFile}:\n${tailOf(proc.logFile)}`);
    }
    if (await check().catch(() => false)) return;
    if (Date.now() > deadline) {
      throw new Error(`${proc.name}: timed out after ${timeoutMs / 1000} s waiting for ${what}; last lines of ${proc.logFile}:\n${tailOf(proc.logFile)}`);
    }
    await sleep(100);
  }
}

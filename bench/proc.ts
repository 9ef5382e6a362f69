// What the processes of the stack spend, read from /proc: CPU time
// (utime + stime of every thread) and resident memory.
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';

let ticksPerSecond: number | undefined;
function clockTicks(): number {
  if (ticksPerSecond === undefined) {
    try {
      ticksPerSecond = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      ticksPerSecond = 100;
    }
  }
  return ticksPerSecond;
}

/** utime + stime of a /proc/<pid>/stat line, in clock ticks (the command name may hold spaces and parentheses). */
export function statTicks(stat: string): number {
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // Fields 14 and 15 of proc(5); the text after ") " starts at field 3.
  return Number(fields[11]) + Number(fields[12]);
}

/** CPU time a process has used since it started, in ms. */
function cpuMs(pid: number): number {
  return (statTicks(readFileSync(`/proc/${pid}/stat`, 'utf8')) * 1000) / clockTicks();
}

/** CPU time this process has used, in ms. */
function ownCpuMs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

export function rssMiB(pid: number): { rss: number; peak: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (k: string) => Number(new RegExp(`${k}:\\s+(\\d+) kB`).exec(status)?.[1] ?? NaN);
  return { rss: kb('VmRSS') / 1024, peak: kb('VmHWM') / 1024 };
}

export type Processes<K extends string> = Record<K, number>;

/** CPU ms of each named process (and of this one, as `bench`). */
export function cpuSnapshot<K extends string>(pids: Processes<K>): Record<K | 'bench', number> {
  const out = { bench: ownCpuMs() } as Record<K | 'bench', number>;
  for (const [k, pid] of Object.entries<number>(pids)) out[k as K] = cpuMs(pid);
  return out;
}

export function cpuDiff<K extends string>(a: Record<K, number>, b: Record<K, number>): Record<K, number> {
  return Object.fromEntries(Object.keys(a).map((k) => [k, b[k as K] - a[k as K]])) as Record<K, number>;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** CPU ms per second the processes spend together while nothing is asked of them. */
export async function idleCpuRate(pids: number[], ms = 2000): Promise<number> {
  const sum = () => pids.reduce((s, p) => s + cpuMs(p), 0);
  const a = sum();
  await sleep(ms);
  return ((sum() - a) * 1000) / ms;
}

/**
 * Waits until the processes have together used at most `quietMs` of CPU time
 * over the last `windowMs` (their queued work, such as Events, written), or
 * `maxMs` passed. Resolves how long it waited and whether they went quiet.
 */
export async function settle(pids: number[], opts: { quietMs: number; windowMs?: number; stepMs?: number; maxMs?: number }): Promise<{ waitedMs: number; quiet: boolean }> {
  const windowMs = opts.windowMs ?? 1000;
  const step = opts.stepMs ?? 250;
  const sum = () => pids.reduce((s, p) => s + cpuMs(p), 0);
  const start = performance.now();
  const samples: { t: number; cpu: number }[] = [{ t: start, cpu: sum() }];
  for (;;) {
    await sleep(step);
    const now = performance.now();
    samples.push({ t: now, cpu: sum() });
    while (samples.length > 1 && now - samples[1]!.t >= windowMs) samples.shift();
    const first = samples[0]!;
    if (now - first.t >= windowMs && samples.at(-1)!.cpu - first.cpu <= opts.quietMs) return { waitedMs: now - start, quiet: true };
    if (now - start >= (opts.maxMs ?? 30_000)) return { waitedMs: now - start, quiet: false };
  }
}

/** Resets a process's peak RSS (VmHWM) to its current RSS (proc(5), clear_refs "5"); false where not allowed. */
export function resetPeakRss(pid: number): boolean {
  try {
    writeFileSync(`/proc/${pid}/clear_refs`, '5');
    return true;
  } catch {
    return false;
  }
}

// What a node changes on this machine, recorded before each change and undone
// on stop, by `npm run cluster:down`, and by the next node after a run that
// died: one record per machine, /run/kubectl-custom-node/record.json, whose
// exclusive creation is the lock that keeps a second node from starting
// (kubelet always uses /var/lib/kubelet/device-plugins, containerd's shims
// /run/containerd: one node per machine). Undoing is idempotent: every step
// looks at what is there and removes only what the record says is the node's.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, realpathSync, renameSync, rmdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { NODE_NETWORK, nftTables, nodeChain, undoNodeNetwork, type NodeNetwork } from './node-network.ts';

export const NODE_STATE_DIR = '/run/kubectl-custom-node';
const RECORD = join(NODE_STATE_DIR, 'record.json');
/** Where the CNI wrapper appends each pod network namespace it sets up (see node.ts). */
export const NETNS_LOG = join(NODE_STATE_DIR, 'netns');

/**
 * The sysctls a node may change (kubelet's kernel tunables, the bridge
 * plugin's forwarding, kube-proxy's bridge and conntrack settings): their
 * values before the node started are restored on teardown.
 */
export const NODE_SYSCTLS = [
  'vm.overcommit_memory', 'vm.panic_on_oom', 'kernel.panic', 'kernel.panic_on_oops', 'kernel.keys.root_maxkeys', 'kernel.keys.root_maxbytes',
  'net.ipv4.ip_forward', 'net.ipv4.conf.all.forwarding', 'net.ipv4.conf.default.forwarding', 'net.ipv6.conf.all.forwarding', 'net.ipv4.conf.all.route_localnet',
  'net.bridge.bridge-nf-call-iptables', 'net.bridge.bridge-nf-call-ip6tables',
  'net.netfilter.nf_conntrack_max', 'net.netfilter.nf_conntrack_tcp_timeout_established', 'net.netfilter.nf_conntrack_tcp_timeout_close_wait',
  // Turning forwarding on turns this off; restored after net.ipv4.ip_forward, it comes back as it was.
  'net.ipv4.conf.all.accept_redirects',
];

/** Machine-wide folders kubelet and containerd use whatever they are told: removed on teardown if the node made them. */
export const FIXED_HOST_DIRS = ['/var/lib/kubelet', '/var/log/containers', '/run/containerd', '/run/netns'];

/** A process by pid and start time, so a pid used again by another process is not mistaken for it. */
export interface ProcessRef {
  name: string;
  pid: number;
  startTime: string;
}

export interface HostRecord {
  /** The process that started the node (a test run, or cluster:up, which exits and leaves the node running). */
  owner: ProcessRef;
  /** The node's own folder (containerd's root and state, kubelet's root, CNI files). */
  dir: string;
  containerdSocket?: string;
  processes: ProcessRef[];
  /** Values before the node started. */
  sysctls: Record<string, string>;
  /** Folders outside `dir` that did not exist before the node. */
  createdDirs: string[];
  network?: NodeNetwork;
  /** nftables tables before the node (iptables-nft makes them and leaves them behind); absent without nft. */
  nftTables?: string[];
}

/** /proc/PID/stat's state (field 3) and start time (field 22), or undefined when there is no such process. */
function statOf(pid: number): { state: string; startTime: string } | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return { state: f[0]!, startTime: f[19]! };
  } catch {
    return undefined;
  }
}

export function processRef(name: string, pid: number): ProcessRef {
  return { name, pid, startTime: statOf(pid)?.startTime ?? '' };
}

/** Whether the recorded process still runs (not a zombie, not another process with its pid). */
export function refAlive(ref: ProcessRef): boolean {
  const s = statOf(ref.pid);
  return s !== undefined && s.startTime === ref.startTime && s.state !== 'Z';
}

function readSysctl(name: string): string | undefined {
  try {
    return readFileSync(`/proc/sys/${name.replace(/\./g, '/')}`, 'utf8').trim();
  } catch {
    return undefined;
  }
}

export function readRecord(): HostRecord | undefined {
  try {
    return JSON.parse(readFileSync(RECORD, 'utf8')) as HostRecord;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

/** Whether the node of `rec` still runs: its owner, or any of its processes (a detached node outlives its owner). */
export function nodeRunning(rec: HostRecord): boolean {
  return refAlive(rec.owner) || rec.processes.some(refAlive);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const sameOwner = (a: HostRecord, b: HostRecord | undefined) => b !== undefined && a.owner.pid === b.owner.pid && a.owner.startTime === b.owner.startTime;

/**
 * Takes a dead node's record out of the lock's place, so that of two
 * processes that found it only one undoes it; the file it now is, or
 * undefined if another process was first.
 */
function claimStale(stale: HostRecord): string | undefined {
  const claimed = `${RECORD}.stale-${process.pid}`;
  try {
    renameSync(RECORD, claimed);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  let got: HostRecord | undefined;
  try {
    got = JSON.parse(readFileSync(claimed, 'utf8')) as HostRecord;
  } catch {
    got = undefined;
  }
  if (sameOwner(stale, got)) return claimed;
  // Another process undid it and started a node of its own meanwhile: that one is not ours to take.
  renameSync(claimed, RECORD);
  return undefined;
}

/** The host changes of the node this process runs; every change is written down before it is made. */
export class HostChanges {
  readonly record: HostRecord;

  private constructor(record: HostRecord) {
    this.record = record;
  }

  /**
   * Takes the machine's node lock (creating the record exclusively). A node
   * left by a run that died is undone first; a node that still runs is an
   * error naming it.
   */
  static async acquire(dir: string, log: (l: string) => void, waitMs = 0): Promise<HostChanges> {
    mkdirSync(NODE_STATE_DIR, { recursive: true });
    const deadline = Date.now() + waitMs;
    let waiting = false;
    for (let attempt = 0; ; attempt++) {
      const existing = readRecord();
      if (existing && nodeRunning(existing)) {
        const live = [existing.owner, ...existing.processes].filter(refAlive).map((p) => `${p.name} ${p.pid}`).join(', ');
        const what = `another local node runs on this machine (${live}; its folder ${existing.dir})`;
        if (Date.now() >= deadline) throw new Error(`${what}: one node per machine. Stop it with "npm run cluster:down" if it is cluster:up's, or wait for the test run that started it`);
        if (!waiting) log(`${what}; waiting up to ${Math.round(waitMs / 1000)} s for it to stop (one node per machine)`);
        waiting = true;
        await sleep(2000);
        continue;
      }
      if (existing) {
        const claimed = claimStale(existing);
        if (!claimed) continue;
        log(`undoing a node that was not stopped (its owner ${existing.owner.pid} is gone; folder ${existing.dir})`);
        await undoHostChanges(existing, log, claimed);
      }
      const tables = nftTables();
      const record: HostRecord = {
        owner: processRef('owner', process.pid),
        dir,
        processes: [],
        sysctls: Object.fromEntries(NODE_SYSCTLS.flatMap((s) => {
          const v = readSysctl(s);
          return v === undefined ? [] : [[s, v]];
        })),
        createdDirs: [],
        ...(tables ? { nftTables: tables } : {}),
      };
      try {
        mkdirSync(NODE_STATE_DIR, { recursive: true });
        writeFileSync(RECORD, JSON.stringify(record, null, 2), { flag: 'wx' });
        rmSync(NETNS_LOG, { force: true });
        return new HostChanges(record);
      } catch (err) {
        // Another node took the lock between our look and our write: look again.
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST' || attempt >= 10) throw err;
      }
    }
  }

  private save(): void {
    writeFileSync(`${RECORD}.tmp`, JSON.stringify(this.record, null, 2));
    renameSync(`${RECORD}.tmp`, RECORD);
  }

  /** Notes that `dir` (outside the node's folder) is the node's to remove unless it exists already. */
  willCreate(dir: string): void {
    if (existsSync(dir) || this.record.createdDirs.includes(dir)) return;
    this.record.createdDirs.push(dir);
    this.save();
  }

  addProcess(name: string, pid: number): void {
    this.record.processes.push(processRef(name, pid));
    this.save();
  }

  update(change: Partial<Pick<HostRecord, 'containerdSocket' | 'network'>>): void {
    Object.assign(this.record, change);
    this.save();
  }
}

function kill(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal);
  } catch {
    // gone already
  }
}

/** SIGTERM, then SIGKILL after `graceMs`, for a process that is still the one recorded. */
async function stopRef(ref: ProcessRef, graceMs: number): Promise<void> {
  if (!refAlive(ref)) return;
  kill(ref.pid, 'SIGTERM');
  const deadline = Date.now() + graceMs;
  while (refAlive(ref) && Date.now() < deadline) await sleep(50);
  if (refAlive(ref)) kill(ref.pid, 'SIGKILL');
  while (refAlive(ref)) await sleep(20);
}

/** Mount points of cgroup hierarchies (v1 controllers and v2). */
function cgroupRoots(): string[] {
  return mounts().filter((m) => m.fsType === 'cgroup' || m.fsType === 'cgroup2').map((m) => m.target);
}

/** Every cgroup under `dir`, deepest first. */
function cgroupTree(dir: string): string[] {
  if (!existsSync(dir)) return [];
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) if (e.isDirectory()) out.push(...cgroupTree(join(dir, e.name)));
  out.push(dir);
  return out;
}

/** The pods' processes: everything in the kubepods cgroups, killed (their shims see them exit). */
function killPodProcesses(): number {
  let killed = 0;
  for (const root of cgroupRoots()) {
    for (const cg of cgroupTree(join(root, 'kubepods'))) {
      let procs: string[];
      try {
        procs = readFileSync(join(cg, 'cgroup.procs'), 'utf8').split('\n').filter(Boolean);
      } catch {
        continue;
      }
      for (const p of procs) {
        kill(Number(p), 'SIGKILL');
        killed++;
      }
    }
  }
  return killed;
}

/** containerd's shims for this node's containerd (they outlive it by design): found by the socket on their command line. */
function killShims(socket: string | undefined): void {
  if (!socket) return;
  for (const pid of readdirSync('/proc').filter((n) => /^\d+$/.test(n))) {
    let argv: string[];
    try {
      argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    } catch {
      continue;
    }
    if (argv[0]?.endsWith('containerd-shim-runc-v2') && argv.includes(socket)) kill(Number(pid), 'SIGKILL');
  }
}

interface Mount {
  target: string;
  fsType: string;
}

/** /proc/self/mountinfo's mount points (octal escapes decoded) and types. */
export function mounts(): Mount[] {
  const unescape = (s: string) => s.replace(/\\([0-7]{3})/g, (_m, o: string) => String.fromCharCode(parseInt(o, 8)));
  return readFileSync('/proc/self/mountinfo', 'utf8').split('\n').filter(Boolean).map((line) => {
    const f = line.split(' ');
    const sep = f.indexOf('-');
    return { target: unescape(f[4]!), fsType: f[sep + 1]! };
  });
}

const under = (p: string, root: string) => p === root || p.startsWith(root.endsWith('/') ? root : `${root}/`);

/** The node's mounts: under its folder, the fixed host folders, and the pods' network namespaces. */
export function nodeMounts(rec: Pick<HostRecord, 'dir'>, netns: string[]): string[] {
  const roots = [rec.dir, '/var/lib/kubelet', '/run/containerd'];
  return mounts().map((m) => m.target).filter((t) => roots.some((r) => under(t, r)) || netns.includes(t));
}

/** The pods' network namespaces the CNI wrapper noted, as /proc/self/mountinfo names them (/var/run is /run here). */
function recordedNetns(): string[] {
  let lines: string[];
  try {
    lines = readFileSync(NETNS_LOG, 'utf8').split('\n').filter((l) => l.startsWith('/'));
  } catch {
    return [];
  }
  const real = (p: string) => {
    try {
      return join(realpathSync(dirname(p)), basename(p));
    } catch {
      return p;
    }
  };
  return [...new Set(lines.map(real))];
}

function unmountAll(rec: HostRecord, netns: string[]): void {
  for (let round = 0; round < 5; round++) {
    const left = nodeMounts(rec, netns).sort((a, b) => b.length - a.length);
    if (!left.length) return;
    for (const target of left) {
      try {
        execFileSync('umount', [target], { stdio: 'pipe' });
      } catch {
        try {
          execFileSync('umount', ['-l', target], { stdio: 'pipe' });
        } catch {
          // mounted below another mount that goes first; the next round sees
        }
      }
    }
  }
  const left = nodeMounts(rec, netns);
  if (left.length) throw new Error(`cannot unmount ${left.join(', ')}`);
}

async function removeCgroups(): Promise<void> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    const left: string[] = [];
    for (const root of cgroupRoots()) {
      for (const cg of cgroupTree(join(root, 'kubepods'))) {
        try {
          rmdirSync(cg);
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code !== 'ENOENT') left.push(cg);
        }
      }
    }
    if (!left.length) return;
    if (Date.now() > deadline) throw new Error(`cannot remove the cgroups ${left.join(', ')} (processes left in them?)`);
    killPodProcesses();
    await sleep(100);
  }
}

function restoreSysctls(saved: Record<string, string>): void {
  for (const [name, value] of Object.entries(saved)) {
    if (readSysctl(name) === value) continue;
    try {
      writeFileSync(`/proc/sys/${name.replace(/\./g, '/')}`, value);
    } catch {
      // gone with a kernel module, or read-only here: nothing to restore
    }
  }
}

/**
 * Stops the node's processes: its agents first (pods keep running without
 * them), then the pods' processes and their shims, containerd last.
 */
export async function stopNodeProcesses(rec: HostRecord): Promise<void> {
  const procs = [...rec.processes].reverse();
  await Promise.all(procs.filter((x) => x.name !== 'containerd').map((p) => stopRef(p, 5000)));
  for (let i = 0; i < 50 && killPodProcesses() > 0; i++) await sleep(100);
  killShims(rec.containerdSocket);
  for (const p of procs.filter((x) => x.name === 'containerd')) await stopRef(p, 5000);
}

/**
 * Undoes everything `rec` records and removes the record (the lock). Safe
 * to run again after it failed half-way, and for a node that died at any
 * point of its start.
 */
export async function undoHostChanges(rec: HostRecord, log: (l: string) => void = () => {}, recordFile = RECORD, beforeRelease?: () => void): Promise<void> {
  const failed: string[] = [];
  const step = async (what: string, fn: () => unknown) => {
    try {
      await fn();
    } catch (err) {
      failed.push(`${what}: ${err instanceof Error ? err.message : String(err)}`);
    }
  };
  await step('stopping its processes', () => stopNodeProcesses(rec));
  const netns = recordedNetns();
  await step('unmounting', () => unmountAll(rec, netns));
  // Nothing is removed from under a mount that stayed: it could be anything's.
  const unmounted = nodeMounts(rec, netns).length === 0;
  await step('removing the kubepods cgroups', removeCgroups);
  if (rec.network) await step('undoing the network', () => undoNodeNetwork(rec.network!, rec.nftTables, log));
  await step('restoring sysctls', () => restoreSysctls(rec.sysctls));
  if (unmounted) await step('removing folders', () => removeNodeDirs(rec, netns));
  if (failed.length) {
    // The record goes back where the next node and cluster:down look, to try again.
    if (recordFile !== RECORD && !existsSync(RECORD)) renameSync(recordFile, RECORD);
    throw new Error(`the node's teardown left something on this machine (${failed.join('; ')}); npm run cluster:down tries again`);
  }
  beforeRelease?.();
  rmSync(NETNS_LOG, { force: true });
  rmSync(recordFile, { force: true });
  try {
    rmdirSync(NODE_STATE_DIR);
  } catch {
    // another node's record is there, or it is gone
  }
}

function removeNodeDirs(rec: HostRecord, netns: string[]): void {
  for (const ns of netns) rmSync(ns, { force: true });
  for (const d of [...rec.createdDirs].reverse()) {
    // /run/netns may hold other software's namespaces by now: only an empty one goes.
    if (d === '/run/netns') {
      try {
        rmdirSync(d);
      } catch {
        // not empty, or gone
      }
    } else rmSync(d, { recursive: true, force: true });
  }
  if (existsSync(rec.dir) && statSync(rec.dir).isDirectory()) rmSync(rec.dir, { recursive: true, force: true });
}

/**
 * Stops the node of the current record and undoes its changes, when it is in
 * `dir` or left over by a dead run (never another live run's node). Returns
 * whether there was one to stop.
 */
export async function stopRecordedNode(opts: { dir?: string; log?: (l: string) => void; beforeRelease?: () => void } = {}): Promise<boolean> {
  const rec = readRecord();
  if (!rec) return false;
  if (rec.dir !== opts.dir && nodeRunning(rec)) return false;
  if (rec.owner.pid === process.pid && refAlive(rec.owner)) {
    // This process's own node: the record stays where it is, the lock held, until everything is undone, so that
    // a node waiting for the machine (another test file's) starts only then, not while this one's network, cgroups
    // and sysctls are being taken apart under it. `beforeRelease` looks at the machine in between.
    await undoHostChanges(rec, opts.log, RECORD, opts.beforeRelease);
    return true;
  }
  const claimed = `${RECORD}.stop-${process.pid}`;
  try {
    renameSync(RECORD, claimed);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw err;
  }
  await undoHostChanges(rec, opts.log, claimed, opts.beforeRelease);
  return true;
}

/** What a node leaves on this machine: all of it empty (and the sysctls as they were) when none runs. */
export interface NodeFootprint {
  /** kubelet's, kube-proxy's and our iptables chains (`iptables|ip6tables table chain`). */
  chains: string[];
  nftTables: string[];
  bridge: boolean;
  routes: string[];
  /** Mounts under `dir`, /var/lib/kubelet and /run/containerd, and network namespaces in /run/netns. */
  mounts: string[];
  fixedDirs: string[];
  cgroups: string[];
  /** containerd shims whose command line names `dir`. */
  shims: number[];
  record: boolean;
  sysctls: Record<string, string>;
}

function chainsNow(): string[] {
  const out: string[] = [];
  for (const bin of ['iptables', 'ip6tables']) {
    for (const table of ['filter', 'nat', 'mangle', 'raw', 'security']) {
      let saved: string;
      try {
        saved = execFileSync(`${bin}-save`, ['-t', table], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
      } catch {
        continue;
      }
      for (const l of saved.split('\n')) if (l.startsWith(':') && nodeChain(l.slice(1).split(' ')[0]!)) out.push(`${bin} ${table} ${l.slice(1).split(' ')[0]!}`);
    }
  }
  return out;
}

export function nodeFootprint(dir: string, net: NodeNetwork = NODE_NETWORK): NodeFootprint {
  const ip = (args: string[]) => execFileSync('ip', args, { encoding: 'utf8' });
  const shims = readdirSync('/proc').filter((n) => /^\d+$/.test(n)).filter((pid) => {
    try {
      const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
      return argv[0]?.endsWith('containerd-shim-runc-v2') && argv.some((a) => a.startsWith(dir));
    } catch {
      return false;
    }
  }).map(Number);
  return {
    chains: chainsNow(),
    nftTables: (nftTables() ?? []).sort(),
    bridge: ip(['-o', 'link', 'show']).includes(` ${net.bridge}:`),
    routes: ip(['-4', 'route', 'show', 'table', 'all']).split('\n').filter((r) => r.includes(net.bridge) || r.includes(net.podCidr) || r.includes(net.serviceCidr)),
    mounts: mounts().map((m) => m.target).filter((t) => [dir, '/var/lib/kubelet', '/run/containerd', '/run/netns'].some((r) => under(t, r))),
    fixedDirs: FIXED_HOST_DIRS.filter((d) => existsSync(d)),
    cgroups: cgroupRoots().map((r) => join(r, 'kubepods')).filter((d) => existsSync(d)),
    shims,
    record: existsSync(RECORD),
    sysctls: Object.fromEntries(NODE_SYSCTLS.flatMap((s) => {
      const v = readSysctl(s);
      return v === undefined ? [] : [[s, v]];
    })),
  };
}

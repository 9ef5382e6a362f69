// The node's network on this machine: a bridge whose address kube-apiserver
// listens on (so pods reach it through the kubernetes Service), a small pod
// range on it without masquerading, and guards so that no packet to the pod
// or service ranges leaves the machine and no pod packet goes anywhere but
// this machine: blackhole routes for both ranges (a pod range route that
// outlives the bridge, a service address kube-proxy did not rewrite), and
// mangle-table rules that drop what comes in for them from elsewhere and what
// the pods would send out of the bridge.
import { execFileSync } from 'node:child_process';

export interface NodeNetwork {
  bridge: string;
  /** Pods get addresses here (CNI bridge + host-local). */
  podCidr: string;
  /** The bridge's address: the pods' gateway, and where kube-apiserver listens. */
  gateway: string;
  serviceCidr: string;
  /** The kubernetes Service's ClusterIP (the service range's first address). */
  apiserverServiceIp: string;
}

export const NODE_NETWORK: NodeNetwork = {
  bridge: 'kcustom0',
  podCidr: '10.244.0.0/24',
  gateway: '10.244.0.1',
  serviceCidr: '10.96.0.0/24',
  apiserverServiceIp: '10.96.0.1',
};

/** Chains of our own in the mangle table; iptables chain names are at most 28 characters. */
export const GUARD_CHAINS = { in: 'KUBECTL-CUSTOM-NODE-IN', forward: 'KUBECTL-CUSTOM-NODE-FWD' };
/** A metric above the bridge's own route, so the pod range's blackhole only takes over when the bridge is gone. */
const BLACKHOLE_METRIC = '4000';

function run(cmd: string, args: string[]): string {
  return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

function tryRun(cmd: string, args: string[]): boolean {
  try {
    run(cmd, args);
    return true;
  } catch {
    return false;
  }
}

/** IPv4 CIDR as [network, prefix length], numbers. */
function parseCidr(cidr: string): [number, number] {
  const [addr, len] = cidr.split('/');
  const n = addr!.split('.').reduce((a, o) => (a << 8) + Number(o), 0) >>> 0;
  return [n, Number(len ?? 32)];
}

export function cidrsOverlap(a: string, b: string): boolean {
  const [na, la] = parseCidr(a);
  const [nb, lb] = parseCidr(b);
  const len = Math.min(la, lb);
  const mask = len === 0 ? 0 : (~0 << (32 - len)) >>> 0;
  return ((na & mask) >>> 0) === ((nb & mask) >>> 0);
}

/** The machine's IPv4 routes other than the node's own, as `ip -4 route` prints them. */
function foreignRoutes(net: NodeNetwork): string[] {
  return run('ip', ['-4', 'route', 'show', 'table', 'all']).split('\n').filter(Boolean)
    .filter((r) => !r.startsWith('default') && !r.startsWith('local ') && !r.startsWith('broadcast ') && !r.includes(` dev ${net.bridge} `) && !r.startsWith('blackhole '));
}

/** Refuses ranges this machine already routes somewhere: blackholing them would cut it off. */
function checkRangesFree(net: NodeNetwork): void {
  for (const route of foreignRoutes(net)) {
    const dst = route.split(' ')[0]!;
    if (!/^\d+\.\d+\.\d+\.\d+(\/\d+)?$/.test(dst)) continue;
    for (const cidr of [net.podCidr, net.serviceCidr]) {
      if (cidrsOverlap(dst, cidr)) throw new Error(`the node's range ${cidr} overlaps this machine's route "${route}": the node would cut it off`);
    }
  }
}

const guardRules = (net: NodeNetwork): [string, string[]][] => [
  // In: loopback and the bridge may reach the ranges; nothing else may.
  [GUARD_CHAINS.in, ['-i', 'lo', '-j', 'RETURN']],
  [GUARD_CHAINS.in, ['-i', net.bridge, '-j', 'RETURN']],
  [GUARD_CHAINS.in, ['-d', net.podCidr, '-j', 'DROP']],
  [GUARD_CHAINS.in, ['-d', net.serviceCidr, '-j', 'DROP']],
  // Forwarded: pod to pod across the bridge only; nothing from the pods out of it, nothing into it from elsewhere.
  [GUARD_CHAINS.forward, ['-i', net.bridge, '-o', net.bridge, '-j', 'RETURN']],
  [GUARD_CHAINS.forward, ['-i', net.bridge, '-j', 'DROP']],
  [GUARD_CHAINS.forward, ['-o', net.bridge, '-j', 'DROP']],
];

/** Makes the bridge, the blackhole routes and the guards (the caller has recorded `net` first). */
export function setUpNodeNetwork(net: NodeNetwork): void {
  checkRangesFree(net);
  if (!tryRun('ip', ['link', 'show', net.bridge])) run('ip', ['link', 'add', net.bridge, 'type', 'bridge']);
  const prefix = net.podCidr.split('/')[1];
  if (!run('ip', ['-4', 'addr', 'show', 'dev', net.bridge]).includes(` ${net.gateway}/${prefix} `)) run('ip', ['addr', 'add', `${net.gateway}/${prefix}`, 'dev', net.bridge]);
  run('ip', ['link', 'set', net.bridge, 'up']);
  run('ip', ['route', 'replace', 'blackhole', net.podCidr, 'metric', BLACKHOLE_METRIC]);
  run('ip', ['route', 'replace', 'blackhole', net.serviceCidr]);
  for (const chain of Object.values(GUARD_CHAINS)) {
    tryRun('iptables', ['-t', 'mangle', '-N', chain]);
    run('iptables', ['-t', 'mangle', '-F', chain]);
  }
  for (const [chain, rule] of guardRules(net)) run('iptables', ['-t', 'mangle', '-A', chain, ...rule]);
  for (const [builtin, chain] of [['PREROUTING', GUARD_CHAINS.in], ['FORWARD', GUARD_CHAINS.forward]] as const) {
    if (!tryRun('iptables', ['-t', 'mangle', '-C', builtin, '-j', chain])) run('iptables', ['-t', 'mangle', '-I', builtin, '1', '-j', chain]);
  }
}

/** Splits an iptables-save rule line into arguments (double-quoted words, as iptables-save writes comments). */
export function splitRule(line: string): string[] {
  const out: string[] = [];
  const re = /"((?:[^"\\]|\\.)*)"|(\S+)/g;
  for (let m = re.exec(line); m; m = re.exec(line)) out.push(m[1] !== undefined ? m[1].replace(/\\(.)/g, '$1') : m[2]!);
  return out;
}

/** Whether a chain is one a node makes: kubelet's and kube-proxy's KUBE-*, and our guards. */
export const nodeChain = (name: string) => name.startsWith('KUBE-') || name.startsWith('KUBECTL-CUSTOM-');

/**
 * Removes the node's iptables chains (kubelet's, kube-proxy's, ours) from
 * every table, IPv4 and IPv6: first the rules of other chains that jump to
 * them, then the chains. Other rules and chains are left alone.
 */
export function removeNodeChains(): void {
  for (const bin of ['iptables', 'ip6tables']) {
    for (const table of ['filter', 'nat', 'mangle', 'raw', 'security']) {
      let saved: string;
      try {
        saved = run(`${bin}-save`, ['-t', table]);
      } catch {
        continue;
      }
      const lines = saved.split('\n');
      const chains = lines.filter((l) => l.startsWith(':')).map((l) => l.slice(1).split(' ')[0]!).filter(nodeChain);
      for (const l of lines.filter((x) => x.startsWith('-A '))) {
        const args = splitRule(l);
        const at = args.findIndex((a) => a === '-j' || a === '-g');
        const jump = at < 0 ? undefined : args[at + 1];
        if (nodeChain(args[1]!) || !jump || !nodeChain(jump)) continue;
        tryRun(bin, ['-t', table, '-D', ...args.slice(1)]);
      }
      for (const c of chains) tryRun(bin, ['-t', table, '-F', c]);
      for (const c of chains) tryRun(bin, ['-t', table, '-X', c]);
    }
  }
}

/** nftables tables (`ip filter`, `ip6 nat`, …) as `nft list tables` names them; undefined without nft. */
export function nftTables(): string[] | undefined {
  try {
    return run('nft', ['list', 'tables']).split('\n').filter((l) => l.startsWith('table ')).map((l) => l.slice('table '.length).trim());
  } catch {
    return undefined;
  }
}

const BUILTIN_CHAINS = new Set(['PREROUTING', 'INPUT', 'FORWARD', 'OUTPUT', 'POSTROUTING']);

/**
 * iptables-nft makes a table the first time a rule goes into it and never
 * removes it: the tables the node's iptables users made, and that hold
 * nothing now, are deleted (a table someone else has put a rule in since
 * stays).
 */
function removeEmptyTables(before: string[]): void {
  for (const t of nftTables() ?? []) {
    if (before.includes(t)) continue;
    const [family, table] = t.split(' ') as [string, string];
    const bin = family === 'ip' ? 'iptables-save' : family === 'ip6' ? 'ip6tables-save' : undefined;
    if (!bin || !['filter', 'nat', 'mangle', 'raw', 'security'].includes(table)) continue;
    let saved: string;
    try {
      saved = run(bin, ['-t', table]);
    } catch {
      continue;
    }
    const lines = saved.split('\n');
    const empty = !lines.some((l) => l.startsWith('-A ')) && lines.filter((l) => l.startsWith(':')).every((l) => BUILTIN_CHAINS.has(l.slice(1).split(' ')[0]!));
    if (empty) tryRun('nft', ['delete', 'table', family, table]);
  }
}

/**
 * Undoes setUpNodeNetwork and what kubelet, kube-proxy and the bridge plugin
 * add to it; `tablesBefore` are the nftables tables there were before the node.
 */
export function undoNodeNetwork(net: NodeNetwork, tablesBefore: string[] | undefined, log: (l: string) => void = () => {}): void {
  removeNodeChains();
  if (tablesBefore) removeEmptyTables(tablesBefore);
  if (tryRun('ip', ['link', 'show', net.bridge])) run('ip', ['link', 'del', net.bridge]);
  for (const args of [[net.podCidr, 'metric', BLACKHOLE_METRIC], [net.serviceCidr]]) {
    while (tryRun('ip', ['route', 'del', 'blackhole', ...args]));
  }
  const left = run('ip', ['-4', 'route']).split('\n').filter((r) => r.includes(net.bridge) || (r.startsWith('blackhole ') && (r.includes(net.podCidr) || r.includes(net.serviceCidr))));
  if (left.length) log(`routes left after the node's teardown: ${left.join('; ')}`);
}

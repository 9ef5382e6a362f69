// Cutting the backend's watch of the storage CRD from outside its process,
// the way a stuck watch looks to it: the TCP connection stays up, but what
// kube-apiserver sends on it never arrives.
//
// Dropping the connection's packets both ways is not that: Node's HTTP agent
// turns TCP keepalive on with libuv's settings (a probe after 1 s idle, then
// every second, 10 unanswered ones end it), so the backend notices in about
// 11 s and watches again on a new connection. Here only kube-apiserver's
// segments that carry data are dropped: bare ACKs (52 bytes on loopback, 80 at
// most with every TCP option) still answer the keepalive probes, while every
// watch event or bookmark (a TLS record, 22 bytes of overhead on top of the
// event) is longer than that. kube-apiserver keeps retransmitting; once the
// rule is gone its next retransmission gets through and the reflector goes on
// from where it was.
//
// The rules live in a chain of this process's own (KC-DOCTOR-<pid>) jumped to
// from INPUT, removed by mend(), by an exit handler, and, for a run that
// was killed, by the next run (a chain whose process is gone).
import { execFileSync } from 'node:child_process';
import { isAlive } from '../../cluster/processes.ts';
import { ensureDebianPackages } from '../../cluster/debian-packages.ts';

const PREFIX = 'KC-DOCTOR-';
/** The largest segment without data: 20 bytes of IPv4 header and 60 of TCP header (every option). */
const LARGEST_BARE_SEGMENT = 80;

function iptables(args: string[]): string {
  return execFileSync('iptables', ['-w', ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

function tryIptables(args: string[]): boolean {
  try {
    iptables(args);
    return true;
  } catch {
    return false;
  }
}

/** Needs root and iptables (Debian's, installed when missing) and ss (iproute2). */
export async function prepareWatchCut(): Promise<void> {
  if (process.getuid?.() !== 0) throw new Error('cutting the backend\'s watch needs root (iptables): run the integration tests as root');
  await ensureDebianPackages(['iptables', 'iproute2'], ['/usr/sbin/iptables', '/usr/bin/ss'], 'iptables and ss (the doctor test cuts the backend\'s watch)');
  removeLeftoverChains();
}

/** Chains of earlier runs whose process is gone (killed before it could mend). */
function removeLeftoverChains(): void {
  for (const line of iptables(['-S']).split('\n')) {
    const m = /^-N (KC-DOCTOR-(\d+))$/.exec(line);
    if (m && !isAlive(Number(m[2]))) removeChain(m[1]!);
  }
}

function removeChain(chain: string): void {
  while (tryIptables(['-D', 'INPUT', '-j', chain]));
  tryIptables(['-F', chain]);
  tryIptables(['-X', chain]);
}

export interface Connection {
  localPort: number;
  bytesReceived: number;
}

/** `pid`'s established TCP connections to 127.0.0.1:`port`, with the bytes received on each (ss -tnpi). */
export function connections(pid: number, port: number): Connection[] {
  const out = execFileSync('ss', ['-tnpiH', 'state', 'established', `( dport = :${port} )`], { encoding: 'utf8' });
  const lines = out.split('\n');
  const found: Connection[] = [];
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (!line.includes(`pid=${pid},`)) continue;
    // Recv-Q Send-Q Local Peer Process, then a line of TCP info.
    const local = line.trim().split(/\s+/)[2] ?? '';
    const received = /bytes_received:(\d+)/.exec(lines[i + 1] ?? '');
    found.push({ localPort: Number(local.slice(local.lastIndexOf(':') + 1)), bytesReceived: received ? Number(received[1]) : 0 });
  }
  return found;
}

/**
 * The local port of the backend's connection that carries its watch: the one
 * whose received bytes grow by the events `change` makes (three changes of an
 * object, a kilobyte or more each), and no other by a third as much. Tried
 * until one stands out.
 */
export async function findWatchConnection(pid: number, port: number, change: () => Promise<void>): Promise<number> {
  for (let attempt = 0; attempt < 5; attempt++) {
    const before = new Map(connections(pid, port).map((c) => [c.localPort, c.bytesReceived]));
    await change();
    await new Promise((r) => setTimeout(r, 1000));
    const grown = connections(pid, port)
      .filter((c) => before.has(c.localPort))
      .map((c) => ({ port: c.localPort, by: c.bytesReceived - before.get(c.localPort)! }))
      .sort((a, b) => b.by - a.by);
    const [first, second] = grown;
    if (first && first.by >= 1000 && (!second || second.by * 3 < first.by)) return first.port;
  }
  throw new Error(`no connection of process ${pid} to port ${port} stood out as the watch`);
}

export class WatchCut {
  readonly chain = `${PREFIX}${process.pid}`;
  private readonly onExit = () => this.mend();

  /** Drops the data kube-apiserver (127.0.0.1:`apiserverPort`) sends on the connection from local port `localPort`. */
  cut(apiserverPort: number, localPort: number): void {
    this.mend();
    process.once('exit', this.onExit);
    iptables(['-N', this.chain]);
    iptables(['-A', this.chain, '-p', 'tcp', '-s', '127.0.0.1', '--sport', String(apiserverPort), '-d', '127.0.0.1', '--dport', String(localPort), '-m', 'length', '--length', `${LARGEST_BARE_SEGMENT + 1}:65535`, '-m', 'comment', '--comment', 'kubectl-custom doctor test: the backend watch cut', '-j', 'DROP']);
    iptables(['-I', 'INPUT', '1', '-j', this.chain]);
  }

  /** Packets the rule has dropped so far. */
  dropped(): number {
    const out = iptables(['-L', this.chain, '-v', '-n', '-x']);
    return out.split('\n').filter((l) => l.includes('DROP')).reduce((n, l) => n + Number(l.trim().split(/\s+/)[0] ?? 0), 0);
  }

  /** Removes the rule and its chain (safe to call again, or when nothing was cut). */
  mend(): void {
    process.off('exit', this.onExit);
    removeChain(this.chain);
  }
}

// npm run cluster:build | cluster:up | cluster:down | demo
//
// cluster:up starts a control plane and the backend that outlive this
// command, for a person to use; their state lives in .cluster/ (git-ignored)
// and cluster:down stops them.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { delimiter, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildExecutable, upToDate } from '../scripts/build-plugin.ts';
import type { BackendInfo } from './backend.ts';
import { ensureBinaries } from './binaries.ts';
import { apiserverGet, stopCluster, type ClusterInfo } from './control-plane.ts';
import { isAlive, stopProcess } from './processes.ts';
import { startStack } from './stack.ts';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const STATE_DIR = join(ROOT, '.cluster');
const STATE_FILE = join(STATE_DIR, 'cluster.json');
const BIN = join(STATE_DIR, 'bin');
const DIST = join(ROOT, 'dist');
const log = (line: string) => process.stderr.write(line + '\n');
const rel = (p: string) => relative(process.cwd(), p) || '.';

interface State {
  cluster: ClusterInfo;
  backend: BackendInfo;
}

function readState(): State | undefined {
  if (!existsSync(STATE_FILE)) return undefined;
  return JSON.parse(readFileSync(STATE_FILE, 'utf8')) as State;
}

async function running(s: State): Promise<boolean> {
  if (![s.cluster.pids.etcd, s.cluster.pids.kubeApiserver, s.backend.pid].every(isAlive)) return false;
  try {
    return (await apiserverGet(s.cluster, s.cluster.users.admin, '/readyz')).status === 200;
  } catch {
    return false;
  }
}

async function up(): Promise<State> {
  const existing = readState();
  if (existing && (await running(existing))) {
    log(`The control plane and backend are already running (${existing.cluster.server}); reusing them.`);
    return existing;
  }
  if (existing) await down(true);
  await ensureBinaries(log);
  rmSync(STATE_DIR, { recursive: true, force: true });
  const stack = await startStack({ dir: STATE_DIR, detached: true, log });
  const state: State = { cluster: stack.cluster, backend: stack.backend };
  writeFileSync(STATE_FILE, JSON.stringify(state, null, 2) + '\n');
  // kubectl of the server's version, for `export PATH=$PWD/.cluster/bin:$PATH`.
  mkdirSync(BIN, { recursive: true });
  symlinkSync(stack.cluster.binaries.kubectl, join(BIN, 'kubectl'));
  log(`backend serving custom.example.com/v1 on port ${stack.backend.port} (log: ${rel(stack.backend.logFile)})`);
  return state;
}

function printUsage(s: State): void {
  console.log(`
Control plane at ${s.cluster.server}, backend on port ${s.backend.port}; logs in ${rel(s.cluster.dir)}/*.log and ${rel(s.backend.logFile)}.

  export KUBECONFIG=$PWD/${rel(s.cluster.kubeconfigs.admin)}      # or alice.kubeconfig, bob.kubeconfig
  export PATH=$PWD/${rel(BIN)}:$PWD/${rel(DIST)}:$PATH           # kubectl ${s.cluster.binaries.dir.match(/k8s-(v[^-]+)/)?.[1] ?? ''} and kubectl-custom
  kubectl custom list -A
  kubectl custom describe-state checkout -n shop
  kubectl custom promote checkout -n shop --reason "ready"

Users are client certificates: admin (system:masters), alice and bob (only what RBAC grants them).
Stop everything with: npm run cluster:down`);
}

async function down(quiet = false): Promise<void> {
  const s = readState();
  if (!s) {
    if (!quiet) log('Nothing is running (no .cluster/cluster.json).');
    return;
  }
  await stopProcess(s.backend.pid);
  await stopCluster(s.cluster);
  rmSync(STATE_DIR, { recursive: true, force: true });
  if (!quiet) log('Control plane and backend stopped; .cluster/ removed.');
}

function kubectl(s: State, user: 'admin' | 'alice' | 'bob', args: string[], opts: { show?: boolean; allowFail?: boolean } = {}): string {
  const env = { ...process.env, PATH: `${DIST}${delimiter}${BIN}${delimiter}${process.env['PATH'] ?? ''}`, KUBECONFIG: s.cluster.kubeconfigs[user] };
  const r = spawnSync(s.cluster.binaries.kubectl, args, { env, encoding: 'utf8', stdio: ['ignore', opts.show ? 'inherit' : 'pipe', opts.show ? 'inherit' : 'pipe'] });
  if (r.status !== 0 && !opts.allowFail) throw new Error(`kubectl ${args.join(' ')} failed:\n${r.stderr ?? ''}`);
  return r.stdout ?? '';
}

async function demo(): Promise<void> {
  const s = await up();
  if (!upToDate()) await buildExecutable({ log });
  kubectl(s, 'admin', ['apply', '-k', join(ROOT, 'manifests/samples')]);
  // Give the samples some history, the way people would, with the plugin itself (once).
  const history = kubectl(s, 'admin', ['get', 'customresources.example.com', '-n', 'shop', 'cart', '-o', 'jsonpath={.status.history}']);
  if (!history) {
    const step = (user: 'admin' | 'alice', args: string[]) => log(`$ kubectl custom ${args.join(' ')}   # as ${user}\n${kubectl(s, user, ['custom', ...args]).trimEnd()}`);
    const waitServed = () => {
      for (let i = 0; i < 100 && kubectl(s, 'admin', ['custom', 'describe-state', 'cluster-eu-1', '-n', 'platform'], { allowFail: true }) === ''; i++) execFileSync('sleep', ['0.1']);
    };
    waitServed();
    step('alice', ['promote', 'cart', '-n', 'shop', '--reason', 'unit tests green']);
    step('alice', ['promote', 'cart', '-n', 'shop', '--reason', 'release 2.4 approved']);
    step('alice', ['promote', 'checkout', '-n', 'shop', '--reason', 'integration tests green']);
    step('admin', ['promote', 'ingress-gateway', '-n', 'platform', '--reason', 'design review done']);
    step('admin', ['promote', 'cluster-eu-1', '-n', 'platform', '--reason', 'moving workloads to eu-2']);
  }
  console.log('\n$ kubectl custom list -A');
  kubectl(s, 'admin', ['custom', 'list', '-A'], { show: true });
  console.log('\n$ kubectl custom describe-state cart -n shop');
  kubectl(s, 'admin', ['custom', 'describe-state', 'cart', '-n', 'shop'], { show: true });
  printUsage(s);
}

const verb = process.argv[2];
try {
  switch (verb) {
    case 'build': {
      const b = await ensureBinaries(log);
      console.log(b.dir);
      break;
    }
    case 'up':
      printUsage(await up());
      break;
    case 'down':
      await down();
      break;
    case 'demo':
      await demo();
      break;
    default:
      log('usage: node cluster/cli.ts build|up|down|demo');
      process.exitCode = 2;
  }
} catch (err) {
  log(`error: ${err instanceof Error ? err.message : String(err)}`);
  process.exitCode = 1;
}

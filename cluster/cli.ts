// npm run cluster:build | cluster:up | cluster:down | demo
//
// cluster:up starts a control plane and the backend that outlive this
// command, for a person to use; their state lives in .cluster/ (git-ignored)
// and cluster:down stops them. With --in-cluster (cluster:up and demo) the
// control plane gets a real node (node.ts, as root) and the backend runs in
// it from its image, installed with kubectl apply -k (in-cluster.ts);
// cluster:down stops the node and undoes what it changed on the machine,
// and also undoes a node a dead run left behind.
import { existsSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildExecutable, upToDate } from '../scripts/build-plugin.ts';
import type { BackendInfo } from './backend.ts';
import { ensureBinaries } from './binaries.ts';
import { apiserverGet, stopCluster, type ClusterInfo } from './control-plane.ts';
import { Demo } from './demo.ts';
import { startDemoMetrics } from './demo-metrics.ts';
import { installInCluster } from './in-cluster.ts';
import { ensureNodeBinaries } from './node-binaries.ts';
import { haltNode, stopNode, type NodeInfo } from './node.ts';
import { isAlive, stopProcess } from './processes.ts';
import { startNodeStack, startStack } from './stack.ts';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const STATE_DIR = join(ROOT, '.cluster');
const STATE_FILE = join(STATE_DIR, 'cluster.json');
const BIN = join(STATE_DIR, 'bin');
const DIST = join(ROOT, 'dist');
const log = (line: string) => process.stderr.write(line + '\n');
const rel = (p: string) => relative(process.cwd(), p) || '.';

interface State {
  cluster: ClusterInfo;
  /** The backend as a local process; absent when it runs in the node. */
  backend?: BackendInfo;
  /** The real node (--in-cluster). */
  node?: NodeInfo;
  /** The demo's Prometheus and the metrics file it scrapes (processes that outlive the demo, until cluster:down). */
  metrics?: { prometheus: string; pids: number[] };
}

const NODE_DIR = join(STATE_DIR, 'node');
const isRoot = () => process.getuid?.() === 0;

function readState(): State | undefined {
  if (!existsSync(STATE_FILE)) return undefined;
  return JSON.parse(readFileSync(STATE_FILE, 'utf8')) as State;
}

async function running(s: State): Promise<boolean> {
  const pids = [s.cluster.pids.etcd, s.cluster.pids.kubeApiserver, ...(s.backend ? [s.backend.pid] : []), ...Object.values(s.node?.pids ?? {})];
  if (!pids.every(isAlive)) return false;
  try {
    return (await apiserverGet(s.cluster, s.cluster.users.admin, '/readyz')).status === 200;
  } catch {
    return false;
  }
}

async function up(inCluster: boolean): Promise<State> {
  const existing = readState();
  if (existing && (await running(existing))) {
    if (!!existing.node !== inCluster) throw new Error(`the control plane runs ${existing.node ? 'with' : 'without'} a node already: npm run cluster:down first`);
    log(`The control plane and backend are already running (${existing.cluster.server}); reusing them.`);
    return existing;
  }
  if (existing) await down(true);
  // A node a dead cluster:up left in .cluster/ is undone before the folder goes (only root can have made one).
  if (isRoot()) await stopNode({ dir: NODE_DIR, log });
  await ensureBinaries(log);
  if (inCluster) await ensureNodeBinaries(log);
  rmSync(STATE_DIR, { recursive: true, force: true });
  let state: State;
  if (inCluster) {
    const stack = await startNodeStack({ dir: STATE_DIR, detached: true, log });
    state = { cluster: stack.cluster, node: stack.node };
    writeFileSync(STATE_FILE, JSON.stringify(state, null, 2) + '\n');
    if (!upToDate()) await buildExecutable({ log });
    await installInCluster(stack.cluster, stack.node, { pluginDir: DIST, log });
  } else {
    const stack = await startStack({ dir: STATE_DIR, detached: true, log });
    state = { cluster: stack.cluster, backend: stack.backend };
    writeFileSync(STATE_FILE, JSON.stringify(state, null, 2) + '\n');
    log(`backend serving custom.example.com/v1 on port ${stack.backend.port} (log: ${rel(stack.backend.logFile)})`);
  }
  // kubectl of the server's version, for `export PATH=$PWD/.cluster/bin:$PATH`.
  mkdirSync(BIN, { recursive: true });
  symlinkSync(state.cluster.binaries.kubectl, join(BIN, 'kubectl'));
  return state;
}

/** Command lines with their comments in one column (a long command keeps its comment close). */
function commented(lines: [string, string?][]): string {
  const width = Math.max(...lines.map(([c]) => (c.length <= 52 ? c.length : 0)));
  return lines.map(([c, comment]) => (comment ? `  ${c.padEnd(width)}   # ${comment}` : `  ${c}`)).join('\n');
}

/** The two lines that put a person at the controls. */
function setup(s: State): [string, string][] {
  return [
    [`export KUBECONFIG=$PWD/${rel(s.cluster.kubeconfigs.admin)}`, 'or alice, bob, carol.kubeconfig: each person\'s own permissions'],
    [`export PATH=$PWD/${rel(BIN)}:$PWD/${rel(DIST)}:$PATH`, `kubectl ${s.cluster.binaries.dir.match(/k8s-(v[^-]+)/)?.[1] ?? ''} and kubectl-custom`],
  ];
}

/** Where the backend runs, in a sentence. */
function backendWhere(s: State): string {
  return s.backend
    ? `backend on port ${s.backend.port}; logs in ${rel(s.cluster.dir)}/*.log and ${rel(s.backend.logFile)}`
    : `backend in node ${s.node!.name} (kubectl get pods -n custom-system -o wide; kubectl logs -n custom-system deploy/kubectl-custom-backend); logs in ${rel(s.cluster.dir)}/*.log and ${rel(s.node!.dir)}/*.log`;
}

function printUsage(s: State): void {
  console.log(`
Control plane at ${s.cluster.server}, ${backendWhere(s)}.

${commented([...setup(s), ['kubectl custom list -A'], ['kubectl custom describe-state checkout -n shop'], ['kubectl custom promote checkout -n shop --reason "ready"']])}

Users are client certificates: admin (system:masters), alice, bob and carol (only what RBAC grants them).
Stop everything with: npm run cluster:down`);
}

/** The demo's last words: what to try next, the dashboard first. */
function printNext(s: State): void {
  console.log(`
Next, try (everything keeps running until \`npm run cluster:down\`; logs in ${rel(s.cluster.dir)}/):

${commented([
    ...setup(s),
    ['kubectl custom dashboard', 'where everything stands, live, in your browser'],
    ['kubectl custom describe-state checkout -n shop', 'the gates of its next move and where each comes from'],
    ['kubectl custom history cart -n shop --verify', 'the whole trail, its hash chain checked'],
    ['kubectl custom approve checkout -n shop --as bob', 'as anyone: admin may impersonate (--as)'],
    ['kubectl custom unfreeze eu-peak -n platform', 'then cluster-eu-1 may move to draining'],
    ['kubectl custom promote checkout -n shop --override --reason "hotfix 4711"', 'break glass: past the soak, on the record'],
  ])}`);
}

async function down(quiet = false): Promise<void> {
  const s = readState();
  if (!s) {
    // No cluster of ours, but a node a dead run left behind is undone all the same (another run's live node is not).
    const undone = isRoot() && (await stopNode({ dir: NODE_DIR, log }));
    if (!quiet) log(undone ? 'Undid a local node that was left behind.' : 'Nothing is running (no .cluster/cluster.json).');
    return;
  }
  if (s.backend) await stopProcess(s.backend.pid);
  for (const pid of s.metrics?.pids ?? []) await stopProcess(pid);
  if (s.node) await haltNode(s.node.dir);
  await stopCluster(s.cluster);
  if (s.node) await stopNode({ dir: s.node.dir, log });
  rmSync(STATE_DIR, { recursive: true, force: true });
  if (!quiet) log(`Control plane${s.node ? ', node' : ''} and backend stopped${s.node ? ', the node\'s changes to this machine undone' : ''}; .cluster/ removed.`);
}

async function demo(inCluster: boolean): Promise<void> {
  const s = await up(inCluster);
  if (!upToDate()) await buildExecutable({ log });
  const d0 = new Demo({ cluster: s.cluster, path: [DIST, BIN] });
  d0.kubectl('admin', ['apply', '-k', join(ROOT, 'manifests/samples')]);
  const ran = d0.ran();
  // The chapter on checks asks a Prometheus on this machine's loopback, which a backend in a node cannot reach.
  let metrics: Awaited<ReturnType<typeof startDemoMetrics>> | undefined;
  try {
    metrics = !ran && !s.node ? await startDemoMetrics(join(STATE_DIR, 'prometheus'), { detached: true, log }) : undefined;
  } catch (err) {
    // Everything else of the story runs without it (Prometheus not installed and no root to install it, say).
    log(`The chapter on checks is left out: ${err instanceof Error ? err.message : String(err)}`);
  }
  if (metrics) {
    s.metrics = { prometheus: metrics.prometheus, pids: metrics.pids };
    writeFileSync(STATE_FILE, JSON.stringify(s, null, 2) + '\n');
  }
  const d = new Demo({ cluster: s.cluster, path: [DIST, BIN], ...(metrics ? { metrics } : {}) });
  if (ran) {
    log('The demo\'s steps ran on this cluster before (npm run cluster:down starts afresh); where everything stands:');
  } else {
    console.log('Four sample objects in namespaces shop and platform (manifests/samples), moved with the plugin, through kubectl,');
    console.log('by alice, bob and carol (client certificates, with the Roles in manifests/samples/people.yaml) and admin.');
    d.story();
  }
  console.log();
  d.step('admin', ['list', '-A']);
  printNext(s);
}

const verb = process.argv[2];
const inCluster = process.argv.slice(3).includes('--in-cluster');
try {
  switch (verb) {
    case 'build': {
      const b = await ensureBinaries(log);
      console.log(b.dir);
      if (inCluster) console.log((await ensureNodeBinaries(log)).dir);
      break;
    }
    case 'up':
      printUsage(await up(inCluster));
      break;
    case 'down':
      await down();
      break;
    case 'demo':
      await demo(inCluster);
      break;
    default:
      log('usage: node cluster/cli.ts build|up|demo [--in-cluster] | down');
      process.exitCode = 2;
  }
} catch (err) {
  log(`error: ${err instanceof Error ? err.message : String(err)}`);
  process.exitCode = 1;
}

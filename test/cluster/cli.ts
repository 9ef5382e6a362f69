// npm run cluster:build | cluster:up | cluster:down | demo
//
// cluster:up starts a control plane that outlives this command, for a person
// to use; its state lives in .cluster/ (git-ignored) and cluster:down stops it.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureBinaries } from './binaries.ts';
import { apiserverGet, startCluster, stopCluster, type ClusterInfo } from './control-plane.ts';
import { isAlive } from './processes.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const STATE_DIR = join(ROOT, '.cluster');
const STATE_FILE = join(STATE_DIR, 'cluster.json');
const log = (line: string) => process.stderr.write(line + '\n');
const rel = (p: string) => relative(process.cwd(), p) || '.';

function readState(): ClusterInfo | undefined {
  if (!existsSync(STATE_FILE)) return undefined;
  return JSON.parse(readFileSync(STATE_FILE, 'utf8')) as ClusterInfo;
}

async function running(info: ClusterInfo): Promise<boolean> {
  if (!isAlive(info.pids.etcd) || !isAlive(info.pids.kubeApiserver)) return false;
  try {
    return (await apiserverGet(info, info.users.admin, '/readyz')).status === 200;
  } catch {
    return false;
  }
}

async function up(): Promise<ClusterInfo> {
  const existing = readState();
  if (existing && (await running(existing))) {
    log(`A control plane is already running at ${existing.server}; reusing it.`);
    return existing;
  }
  if (existing) await down(true);
  const binaries = await ensureBinaries(log);
  rmSync(STATE_DIR, { recursive: true, force: true });
  const info = await startCluster({ dir: STATE_DIR, binaries, detached: true, log });
  writeFileSync(STATE_FILE, JSON.stringify(info, null, 2) + '\n');
  // kubectl of the same version as the server, for `export PATH=.cluster/bin:$PATH`.
  mkdirSync(join(STATE_DIR, 'bin'), { recursive: true });
  symlinkSync(binaries.kubectl, join(STATE_DIR, 'bin', 'kubectl'));
  return info;
}

function printUsage(info: ClusterInfo): void {
  const k = rel(info.kubeconfigs.admin);
  console.log(`
Control plane running at ${info.server} (etcd ${info.etcdUrl}); logs in ${rel(info.dir)}/*.log

  export PATH=$PWD/${rel(join(STATE_DIR, 'bin'))}:$PATH     # kubectl ${info.binaries.dir.match(/k8s-(v[^-]+)/)?.[1] ?? ''}, same version as the server
  kubectl --kubeconfig ${k} get --raw /readyz

Kubeconfigs: ${Object.values(info.kubeconfigs).map(rel).join(', ')}
  (admin is in system:masters; alice and bob have no permissions until you grant them)
Stop it with: npm run cluster:down`);
}

async function down(quiet = false): Promise<void> {
  const info = readState();
  if (!info) {
    if (!quiet) log('No control plane is running (no .cluster/cluster.json).');
    return;
  }
  await stopCluster(info);
  rmSync(STATE_DIR, { recursive: true, force: true });
  if (!quiet) log('Control plane stopped; .cluster/ removed.');
}

function kubectl(info: ClusterInfo, args: string[]): string {
  return execFileSync(info.binaries.kubectl, ['--kubeconfig', info.kubeconfigs.admin, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
}

async function demo(): Promise<void> {
  const info = await up();
  process.stdout.write(kubectl(info, ['apply', '-k', join(ROOT, 'manifests/base')]));
  kubectl(info, ['wait', '--for=condition=Established', '--timeout=60s', 'crd/customresources.example.com']);
  process.stdout.write(kubectl(info, ['apply', '-f', join(ROOT, 'manifests/samples/shop.yaml')]));
  process.stdout.write('\n' + kubectl(info, ['get', 'customresources.example.com', '-A', '-o', 'wide']));
  printUsage(info);
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
      log('usage: node test/cluster/cli.ts build|up|down|demo');
      process.exitCode = 2;
  }
} catch (err) {
  log(`error: ${err instanceof Error ? err.message : String(err)}`);
  process.exitCode = 1;
}

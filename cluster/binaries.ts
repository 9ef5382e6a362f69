import { createHash } from 'node:crypto';
import { spawn } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, writeSync } from 'node:fs';
import { homedir } from 'node:os';
import { delimiter, join, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { minutesSeconds, ProgressLine } from './progress.ts';
import { ETCD_VERSION, KUBERNETES_VERSION } from './versions.ts';

export const BUILD_MODULE = fileURLToPath(new URL('./k8s-build/', import.meta.url));

export interface Binaries {
  dir: string;
  kubeApiserver: string;
  kubectl: string;
  etcd: string;
}

/** `$XDG_CACHE_HOME/kubectl-custom`, else `~/.cache/kubectl-custom`: outside the clone, so a fresh clone reuses it. */
export function cacheRoot(): string {
  const base = process.env['XDG_CACHE_HOME'] || join(homedir(), '.cache');
  return join(base, 'kubectl-custom');
}

/**
 * The cache key covers the versions and every input of the build, so editing
 * the wrapper module rebuilds instead of reusing stale binaries.
 */
export function binariesDir(): string {
  const h = createHash('sha256');
  for (const f of ['go.mod', 'go.sum', 'etcd/main.go']) h.update(readFileSync(join(BUILD_MODULE, f)));
  return join(cacheRoot(), `k8s-${KUBERNETES_VERSION}-etcd-${ETCD_VERSION}-${h.digest('hex').slice(0, 12)}`);
}

function binariesIn(dir: string): Binaries {
  return {
    dir,
    kubeApiserver: join(dir, 'kube-apiserver'),
    kubectl: join(dir, 'kubectl'),
    etcd: join(dir, 'etcd'),
  };
}

export function cachedBinaries(): Binaries | undefined {
  const b = binariesIn(binariesDir());
  return [b.kubeApiserver, b.kubectl, b.etcd].every((f) => existsSync(f)) ? b : undefined;
}

function versionLdflags(): string {
  const [major, minor] = KUBERNETES_VERSION.replace(/^v/, '').split('.');
  const flags: string[] = ['-s', '-w'];
  // The same variables hack/lib/version.sh stamps, so `kubectl version` and
  // `/version` report a real release and version-skew checks work.
  for (const pkg of ['k8s.io/component-base/version', 'k8s.io/client-go/pkg/version']) {
    flags.push(`-X ${pkg}.gitVersion=${KUBERNETES_VERSION}`, `-X ${pkg}.gitMajor=${major}`, `-X ${pkg}.gitMinor=${minor}`);
    flags.push(`-X ${pkg}.gitTreeState=clean`);
  }
  return flags.join(' ');
}

/** A path for people: under the home folder as ~/…. */
export function tilde(p: string): string {
  const home = homedir();
  return home && p.startsWith(home + sep) ? `~${p.slice(home.length)}` : p;
}

/**
 * Builds kube-apiserver, kubectl and etcd into the cache unless they are
 * there (see buildCached).
 */
export async function ensureBinaries(log: (line: string) => void = (l) => process.stderr.write(l + '\n')): Promise<Binaries> {
  const cached = cachedBinaries();
  if (cached) return cached;
  const dir = binariesDir();
  await buildCached({
    dir,
    packages: MAIN_PACKAGES,
    announce: `Building kube-apiserver and kubectl ${KUBERNETES_VERSION} and etcd ${ETCD_VERSION} from their Go modules (once: about 10 minutes on 2 quiet cores, longer on a busy machine)`,
  }, log);
  return binariesIn(dir);
}

export interface CachedBuild {
  /** The cache entry: a folder named by the inputs' hash. */
  dir: string;
  /** Main packages of the wrapper module (k8s-build/) to build into it. */
  packages: string[];
  /** Another go.mod of the wrapper module (`go build -modfile`), e.g. node.mod. */
  modfile?: string;
  /** The first line people see. */
  announce: string;
}

/**
 * Builds `packages` into the cache entry `dir`. Builds into a temporary
 * folder and renames it, so an interrupted or concurrent build never leaves a
 * half-written cache entry behind. What Go prints goes to a log file next to
 * the cache entry; people see one line of progress (see progress.ts) and, on
 * failure, the log's tail.
 */
export async function buildCached(spec: CachedBuild, log: (line: string) => void): Promise<void> {
  const { dir } = spec;
  mkdirSync(cacheRoot(), { recursive: true });
  const tmp = `${dir}.tmp-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  const logFile = `${dir}.build.log`;
  log(spec.announce);
  log(`  into ${tilde(dir)}; Go's output in ${tilde(logFile)}`);
  const started = Date.now();
  const progress = new ProgressLine({ log: (l) => log(`  ${l}`) });
  const out = openSync(logFile, 'w');
  try {
    await goBuild(tmp, spec, { out, logFile, progress, started });
  } catch (err) {
    rmSync(tmp, { recursive: true, force: true });
    throw err;
  } finally {
    progress.done();
    closeSync(out);
  }
  if (existsSync(dir)) {
    // Another process finished the same build first: keep its result.
    rmSync(tmp, { recursive: true, force: true });
  } else {
    renameSync(tmp, dir);
  }
  log(`Built in ${minutesSeconds(Date.now() - started)}.`);
}

/** `go` from PATH, else where the machine image installs it. */
export function goCommand(): string {
  for (const dir of (process.env['PATH'] ?? '').split(delimiter)) {
    if (dir && existsSync(join(dir, 'go'))) return join(dir, 'go');
  }
  return '/usr/local/go/bin/go';
}

const MAIN_PACKAGES = ['k8s.io/kubernetes/cmd/kube-apiserver', 'k8s.io/kubernetes/cmd/kubectl', './etcd'];

interface BuildLog {
  /** The log file's descriptor: everything Go prints goes there. */
  out: number;
  logFile: string;
  progress: ProgressLine;
  started: number;
}

/**
 * Runs go in `cwd` with everything it prints in the log (`out`, `logFile`);
 * `onErr` sees each line of stderr (where `go build -v` names the packages
 * it compiles and the module downloads are reported) and `onOut` each line
 * of stdout. Shared by every Go tool the project builds (here, helm.ts).
 */
export function runGoIn(cwd: string, args: string[], out: number, logFile: string, onErr: (line: string) => void, onOut: (line: string) => void = () => {}): Promise<void> {
  writeSync(out, `$ go ${args.join(' ')}\n`);
  return new Promise<void>((resolve, reject) => {
    const child = spawn(goCommand(), args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    const lines = (each: (line: string) => void) => {
      let buf = '';
      return (chunk: Buffer) => {
        writeSync(out, chunk);
        buf += chunk.toString();
        const parts = buf.split('\n');
        buf = parts.pop() ?? '';
        for (const p of parts) each(p);
      };
    };
    child.stdout.on('data', lines(onOut));
    child.stderr.on('data', lines(onErr));
    child.on('error', (err) => reject(new Error(`cannot run go (${err.message}); install Go 1.26 as described in the README`)));
    child.on('close', (code, signal) => {
      if (code === 0) return resolve();
      const tail = readFileSync(logFile, 'utf8').trimEnd().split('\n').slice(-30).join('\n');
      reject(new Error(`go ${args[0]} failed (${signal ?? `exit ${code}`}); the end of its output (all of it in ${logFile}):\n${tail}`));
    });
  });
}

function runGo(args: string[], b: BuildLog, onLine: (line: string) => void, onOut: (line: string) => void = () => {}): Promise<void> {
  return runGoIn(BUILD_MODULE, args, b.out, b.logFile, onLine, onOut);
}

async function goBuild(outDir: string, spec: Pick<CachedBuild, 'packages' | 'modfile'>, b: BuildLog): Promise<void> {
  const modfile = spec.modfile ? [`-modfile=${spec.modfile}`] : [];
  const elapsed = () => minutesSeconds(Date.now() - b.started);
  // Listing the packages first downloads the modules and gives the build a total to count towards.
  let modules = 0;
  let packages = 0;
  await runGo(['list', ...modfile, '-deps', ...spec.packages], b, (line) => {
    const m = /^go: downloading (\S+ \S+)/.exec(line);
    if (m) b.progress.update(`downloading Go modules: ${++modules} (${m[1]}), ${elapsed()}`, 'download');
  }, () => packages++);
  let compiled = 0;
  // -buildvcs=false: the binaries carry the Kubernetes version (ldflags), not this repository's commit.
  const args = ['build', ...modfile, '-v', '-trimpath', '-buildvcs=false', '-ldflags', versionLdflags(), '-o', outDir + '/', ...spec.packages];
  await runGo(args, b, (line) => {
    if (!line || line.startsWith('go: ') || line.startsWith('#')) return;
    compiled++;
    const pct = Math.min(99, Math.floor((100 * compiled) / Math.max(packages, 1)));
    // Off a terminal, a line for each tenth of the packages.
    b.progress.update(`compiling: ${compiled} of ~${packages} packages (${pct}%), ${elapsed()}: ${line.trim()}`, `compile ${Math.floor(pct / 10)}`);
  });
}

// helm, built from its Go module (helm.sh/helm/v4, the version
// cluster/helm-build/go.mod requires) and cached like the control plane's
// binaries: once, into ~/.cache/kubectl-custom/helm-<version>-<hash>/helm,
// under a key of every input of the build, with one line of progress and Go's
// output in a log file beside the cache entry. The chart's tests use it.
import { createHash } from 'node:crypto';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cacheRoot, runGoIn, tilde } from './binaries.ts';
import { minutesSeconds, ProgressLine } from './progress.ts';

const MODULE = fileURLToPath(new URL('./helm-build/', import.meta.url));
const MAIN_PACKAGE = 'helm.sh/helm/v4/cmd/helm';
const INPUTS = ['go.mod', 'go.sum', 'tools.go'];

/** The helm version the wrapper module requires (its go.mod is the one place it is written). */
export function helmVersion(goMod = readFileSync(join(MODULE, 'go.mod'), 'utf8')): string {
  const m = /^\s*(?:require\s+)?helm\.sh\/helm\/v4 (v\S+)$/m.exec(goMod);
  if (!m) throw new Error('cluster/helm-build/go.mod does not require helm.sh/helm/v4');
  return m[1]!;
}

/** The cache entry: the version and a hash of every input of the build. */
export function helmDir(): string {
  const h = createHash('sha256');
  for (const f of INPUTS) h.update(readFileSync(join(MODULE, f)));
  return join(cacheRoot(), `helm-${helmVersion()}-${h.digest('hex').slice(0, 12)}`);
}

export function cachedHelm(): string | undefined {
  const bin = join(helmDir(), 'helm');
  return existsSync(bin) ? bin : undefined;
}

/** Runs go in the wrapper module, everything it prints into the log. */
function runGo(args: string[], out: number, logFile: string, onErr: (line: string) => void, onOut: (line: string) => void = () => {}): Promise<void> {
  return runGoIn(MODULE, args, out, logFile, onErr, onOut);
}

/**
 * helm from the cache, built first if it is not there. The build goes into a
 * temporary folder that is renamed into place, so an interrupted or
 * concurrent build leaves no half-written entry.
 */
export async function ensureHelm(log: (line: string) => void = (l) => process.stderr.write(l + '\n')): Promise<string> {
  const cached = cachedHelm();
  if (cached) return cached;
  const version = helmVersion();
  const dir = helmDir();
  mkdirSync(cacheRoot(), { recursive: true });
  const tmp = `${dir}.tmp-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  const logFile = `${dir}.build.log`;
  log(`Building helm ${version} from its Go module (once: a few minutes on 2 cores, less when the control plane's build has filled Go's cache)`);
  log(`  into ${tilde(dir)}; Go's output in ${tilde(logFile)}`);
  const started = Date.now();
  const elapsed = () => minutesSeconds(Date.now() - started);
  const progress = new ProgressLine({ log: (l) => log(`  ${l}`) });
  const out = openSync(logFile, 'w');
  try {
    let modules = 0;
    let packages = 0;
    // Listing first downloads the modules and gives the build a total to count towards.
    await runGo(['list', '-deps', MAIN_PACKAGE], out, logFile, (line) => {
      const m = /^go: downloading (\S+ \S+)/.exec(line);
      if (m) progress.update(`downloading Go modules: ${++modules} (${m[1]}), ${elapsed()}`, 'download');
    }, () => packages++);
    let compiled = 0;
    const ldflags = ['-s', '-w', `-X helm.sh/helm/v4/internal/version.version=${version}`, '-X helm.sh/helm/v4/internal/version.gitTreeState=clean'].join(' ');
    await runGo(['build', '-v', '-trimpath', '-buildvcs=false', '-ldflags', ldflags, '-o', join(tmp, 'helm'), MAIN_PACKAGE], out, logFile, (line) => {
      if (!line || line.startsWith('go: ') || line.startsWith('#')) return;
      compiled++;
      const pct = Math.min(99, Math.floor((100 * compiled) / Math.max(packages, 1)));
      progress.update(`compiling: ${compiled} of ~${packages} packages (${pct}%), ${elapsed()}: ${line.trim()}`, `compile ${Math.floor(pct / 10)}`);
    });
  } catch (err) {
    rmSync(tmp, { recursive: true, force: true });
    throw err;
  } finally {
    progress.done();
    closeSync(out);
  }
  if (existsSync(dir)) rmSync(tmp, { recursive: true, force: true });
  else renameSync(tmp, dir);
  log(`Built helm in ${elapsed()}.`);
  return join(dir, 'helm');
}

if (import.meta.url === `file://${process.argv[1]}`) {
  process.stdout.write(`${await ensureHelm()}\n`);
}

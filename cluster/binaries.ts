import { createHash } from 'node:crypto';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { homedir } from 'node:os';
import { delimiter, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ETCD_VERSION, KUBERNETES_VERSION } from './versions.ts';

const BUILD_MODULE = fileURLToPath(new URL('./k8s-build/', import.meta.url));

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

/**
 * Builds kube-apiserver, kubectl and etcd into the cache unless they are
 * there. Builds into a temporary folder and renames it, so an interrupted or
 * concurrent build never leaves a half-written cache entry behind.
 */
export async function ensureBinaries(log: (line: string) => void = (l) => process.stderr.write(l + '\n')): Promise<Binaries> {
  const cached = cachedBinaries();
  if (cached) return cached;
  const dir = binariesDir();
  mkdirSync(cacheRoot(), { recursive: true });
  const tmp = `${dir}.tmp-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  log(`Building kube-apiserver and kubectl ${KUBERNETES_VERSION} and etcd ${ETCD_VERSION} from the Go module proxy into ${dir}`);
  log('(a first build takes several minutes on 2 cores; later runs reuse it)');
  const started = Date.now();
  await goBuild(tmp, log);
  if (existsSync(dir)) {
    // Another process finished the same build first: keep its result.
    rmSync(tmp, { recursive: true, force: true });
  } else {
    renameSync(tmp, dir);
  }
  log(`Built in ${Math.round((Date.now() - started) / 1000)} s.`);
  return binariesIn(dir);
}

/** `go` from PATH, else where the machine image installs it. */
function goCommand(): string {
  for (const dir of (process.env['PATH'] ?? '').split(delimiter)) {
    if (dir && existsSync(join(dir, 'go'))) return join(dir, 'go');
  }
  return '/usr/local/go/bin/go';
}

function goBuild(outDir: string, log: (line: string) => void): Promise<void> {
  const args = ['build', '-v', '-trimpath', '-ldflags', versionLdflags(), '-o', outDir + '/',
    'k8s.io/kubernetes/cmd/kube-apiserver', 'k8s.io/kubernetes/cmd/kubectl', './etcd'];
  return new Promise<void>((resolve, reject) => {
    const child = spawn(goCommand(), args, { cwd: BUILD_MODULE, stdio: ['ignore', 'inherit', 'pipe'] });
    let packages = 0;
    let lastReport = Date.now();
    const tail: string[] = [];
    let buf = '';
    child.stderr.on('data', (chunk: Buffer) => {
      buf += chunk.toString();
      const lines = buf.split('\n');
      buf = lines.pop() ?? '';
      for (const line of lines) {
        tail.push(line);
        if (tail.length > 40) tail.shift();
        packages++;
        if (Date.now() - lastReport > 15_000) {
          lastReport = Date.now();
          log(`  … ${packages} packages built, now ${line.trim()}`);
        }
      }
    });
    child.on('error', (err) => reject(new Error(`cannot run go (${err.message}); install Go 1.26 as described in the README`)));
    child.on('exit', (code, signal) => {
      if (code === 0) resolve();
      else reject(new Error(`go build failed (${signal ?? `exit ${code}`}):\n${tail.join('\n')}`));
    });
  });
}

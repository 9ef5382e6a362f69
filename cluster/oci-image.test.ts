import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { referenceTag, writeOciArchive } from './oci-image.ts';

const dir = mkdtempSync(join(tmpdir(), 'oci-image-test-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('OCI image archives', () => {
  it('reads the tag of a reference', () => {
    expect(referenceTag('localhost/kubectl-custom/pause:1')).toBe('1');
    expect(referenceTag('localhost:5000/x')).toBe('latest');
    expect(referenceTag('kubectl-custom-backend:0.1.0')).toBe('0.1.0');
  });

  it('packs a folder as an OCI layout whose index names the image for containerd, with the same digest every time', async () => {
    const rootfs = join(dir, 'rootfs');
    mkdirSync(join(rootfs, 'bin'), { recursive: true });
    writeFileSync(join(rootfs, 'bin/hello'), '#!/bin/sh\necho hello\n', { mode: 0o755 });
    const spec = { name: 'localhost/test/hello:2', rootfs, config: { Entrypoint: ['/bin/hello'], User: '65532:65532' } };
    const first = await writeOciArchive(spec, join(dir, 'a.tar'));
    const second = await writeOciArchive(spec, join(dir, 'b.tar'));
    expect(second).toBe(first);
    const files = execFileSync('tar', ['-tf', join(dir, 'a.tar')], { encoding: 'utf8' });
    expect(files).toContain('./oci-layout');
    const index = JSON.parse(execFileSync('tar', ['-xOf', join(dir, 'a.tar'), './index.json'], { encoding: 'utf8' })) as { manifests: { digest: string; annotations: Record<string, string> }[] };
    expect(index.manifests).toHaveLength(1);
    expect(index.manifests[0]!.digest).toBe(first);
    expect(index.manifests[0]!.annotations).toEqual({ 'io.containerd.image.name': 'localhost/test/hello:2', 'org.opencontainers.image.ref.name': '2' });
    const manifest = JSON.parse(execFileSync('tar', ['-xOf', join(dir, 'a.tar'), `./blobs/sha256/${first.slice('sha256:'.length)}`], { encoding: 'utf8' })) as { config: { digest: string } };
    const config = JSON.parse(execFileSync('tar', ['-xOf', join(dir, 'a.tar'), `./blobs/sha256/${manifest.config.digest.slice('sha256:'.length)}`], { encoding: 'utf8' })) as { config: unknown; os: string };
    expect(config).toMatchObject({ os: 'linux', config: { Entrypoint: ['/bin/hello'], User: '65532:65532' } });
  });
});

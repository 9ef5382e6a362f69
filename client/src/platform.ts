// The operating system the client runs on, as one value tests replace, so
// that Windows behaviour is tested on Linux: its path rules (node:path's
// win32 or posix), and the few things read from the machine (working and
// home directory, files, their modes). The rules mirror what Go's
// path/filepath and os do on each GOOS, which client-go and kubectl rely on:
// filepath.SplitList (";" on Windows, quotes kept together), filepath.IsAbs
// (on Windows a drive and a separator, or a UNC path: "\foo" is relative),
// and environment names that are case-insensitive on Windows (os.Getenv,
// os/exec's dedupEnvCase).
import { readFileSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { posix, win32, type PlatformPath } from 'node:path';

export interface FileInfo {
  isDirectory: boolean;
  /** Permission bits; on Windows Node (as Go) gives 0o666/0o777, or 0o444/0o555 for a read-only file. */
  mode: number;
  /** Device and inode (Windows: volume serial and file index), for os.SameFile. */
  id: string;
}

export interface Platform {
  os: NodeJS.Platform;
  /** node:path's win32 rules on Windows, posix elsewhere. */
  path: PlatformPath;
  cwd(): string;
  /** os.homedir(): the last resort when the environment names no home directory. */
  homedir(): string;
  /** The file's kind and mode, or undefined when it cannot be stat'ed (Go: any os.Stat error). */
  stat(path: string): FileInfo | undefined;
  /** Throws Node's ENOENT/ENOTDIR/EACCES errors, with `code`. */
  readFile(path: string): Buffer;
}

function stat(path: string): FileInfo | undefined {
  try {
    const s = statSync(path, { bigint: true, throwIfNoEntry: false });
    return s && { isDirectory: s.isDirectory(), mode: Number(s.mode & 0o777n), id: `${s.dev}:${s.ino}` };
  } catch {
    return undefined;
  }
}

/** The machine this process runs on. Made at each call, so nothing of it is kept in the executable's start-up snapshot. */
export function hostPlatform(): Platform {
  return {
    os: process.platform,
    path: process.platform === 'win32' ? win32 : posix,
    cwd: () => process.cwd(),
    homedir,
    stat,
    readFile: (path) => readFileSync(path),
  };
}

export const isWindows = (platform: Pick<Platform, 'os'>): boolean => platform.os === 'win32';

/**
 * filepath.SplitList: a list of paths as KUBECONFIG and PATH hold them. ":"
 * separates them on Unix; ";" on Windows, where a quoted part may hold one
 * ("C:\a;b";D:\c) and the quotes are then dropped. An empty string is no
 * path at all; empty entries are kept (the callers skip them, as Go's do).
 */
export function splitList(list: string, platform: Pick<Platform, 'os'>): string[] {
  if (list === '') return [];
  if (!isWindows(platform)) return list.split(':');
  const parts: string[] = [];
  let start = 0;
  let quoted = false;
  for (let i = 0; i < list.length; i++) {
    if (list[i] === '"') quoted = !quoted;
    else if (list[i] === ';' && !quoted) {
      parts.push(list.slice(start, i));
      start = i + 1;
    }
  }
  parts.push(list.slice(start));
  return parts.map((p) => p.replaceAll('"', ''));
}

/**
 * filepath.IsAbs. On Windows a path is absolute with a drive and a separator
 * (C:\x, C:/x) or as a UNC or device path (\\server\share, \\?\C:\x);
 * "\x" (the current drive's root) and "C:x" (relative to C:'s current
 * directory) are not, so filepath.Join puts them under the kubeconfig's
 * folder. node:path's win32.isAbsolute calls "\x" absolute: not used here.
 */
export function isAbs(p: string, platform: Pick<Platform, 'os'>): boolean {
  if (!isWindows(platform)) return p.startsWith('/');
  return /^[a-zA-Z]:[\\/]/.test(p) || /^[\\/]{2}[^\\/]/.test(p);
}

/** A path in the kubeconfig, absolute as client-go's ResolvePaths makes it: a relative one joined to `base`. */
export function resolveAgainst(base: string, p: string, platform: Pick<Platform, 'os' | 'path'>): string {
  return isAbs(p, platform) ? p : platform.path.join(base, p);
}

/** os.Getenv: on Windows the name is case-insensitive (a copied environment may say Path, PathExt). */
export function getEnv(env: NodeJS.ProcessEnv, name: string, platform: Pick<Platform, 'os'>): string | undefined {
  if (env[name] !== undefined || !isWindows(platform)) return env[name];
  const key = Object.keys(env).find((k) => k.toUpperCase() === name.toUpperCase());
  return key === undefined ? undefined : env[key];
}

/**
 * `env` with `name` set, as os/exec builds a child's environment: the last
 * setting of a name wins, and on Windows a setting of PATH replaces an
 * inherited Path rather than standing beside it (Node would pass whichever
 * sorts first).
 */
export function setEnv(env: NodeJS.ProcessEnv, name: string, value: string, platform: Pick<Platform, 'os'>): void {
  if (isWindows(platform)) for (const k of Object.keys(env)) if (k !== name && k.toUpperCase() === name.toUpperCase()) delete env[k];
  env[name] = value;
}

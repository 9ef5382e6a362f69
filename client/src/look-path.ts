// Finding a command on Windows as Go's exec.LookPath does there
// (os/exec/lp_windows.go), which is how kubectl.exe finds an exec
// credential plugin. Node's spawn searches the current directory first
// and tries only .com and .exe, so kubectl's rules are kept here:
// - a name with ":", "\" or "/" is a path, tried as it is (relative to the
//   working directory), with each PATHEXT extension when it has none;
// - a bare name is looked for in each %PATH% folder (";"-separated, quotes
//   allowed, empty entries skipped), with the extensions of %PATHEXT%
//   (.com .exe .bat .cmd when unset): gcloud finds gcloud.cmd;
// - one found in the current directory is refused (Go's ErrDot, since Go
//   1.19) unless it is the very file %PATH% also finds; a relative %PATH%
//   entry likewise. NoDefaultCurrentDirectoryInExePath turns the current
//   directory off, as on Windows itself.
// Unix needs none of it: Node's spawn searches PATH as execvp does.
import { getEnv, isAbs, splitList, type Platform } from './platform.ts';

export class LookPathError extends Error {
  readonly file: string;
  /** Go's ErrDot: found only relative to the current directory, which is not run from. */
  readonly inCurrentDirectory: boolean;
  constructor(file: string, inCurrentDirectory: boolean) {
    super(inCurrentDirectory ? `${file} resolves to an executable in the current directory` : `executable file ${file} not found in %PATH%`);
    this.file = file;
    this.inCurrentDirectory = inCurrentDirectory;
  }
}

/** The extensions PATHEXT lists, lower case and with their dot (Go: the default four when unset). */
export function pathExts(env: NodeJS.ProcessEnv, platform: Platform): string[] {
  const x = getEnv(env, 'PATHEXT', platform);
  if (!x) return ['.com', '.exe', '.bat', '.cmd'];
  return x
    .toLowerCase()
    .split(';')
    .filter((e) => e !== '')
    .map((e) => (e.startsWith('.') ? e : `.${e}`));
}

/** Whether the last path element has an extension. */
function hasExt(file: string): boolean {
  const dot = file.lastIndexOf('.');
  return dot >= 0 && Math.max(file.lastIndexOf(':'), file.lastIndexOf('\\'), file.lastIndexOf('/')) < dot;
}

/** A file (not a folder) exists there. */
function isFile(p: string, platform: Platform): boolean {
  const info = platform.stat(p);
  return info !== undefined && !info.isDirectory;
}

/** Go's findExecutable: the file itself when it has an extension, else (or then) with each of PATHEXT's. */
function findExecutable(file: string, exts: string[], platform: Platform): string | undefined {
  if (hasExt(file) && isFile(file, platform)) return file;
  return exts.map((e) => file + e).find((f) => isFile(f, platform));
}

/** The file `file` names, as exec.LookPath finds it on Windows; throws LookPathError. */
export function lookPath(file: string, env: NodeJS.ProcessEnv, platform: Platform): string {
  const exts = pathExts(env, platform);
  const { path } = platform;
  if (/[:\\/]/.test(file)) {
    const f = findExecutable(file, exts, platform);
    if (f === undefined) throw new LookPathError(file, false);
    return path.resolve(platform.cwd(), f);
  }
  // A file found relative to the working directory: in it, or through a relative %PATH% entry.
  let dot = getEnv(env, 'NoDefaultCurrentDirectoryInExePath', platform) === undefined ? findExecutable(path.join('.', file), exts, platform) : undefined;
  for (const dir of splitList(getEnv(env, 'PATH', platform) ?? '', platform)) {
    if (dir === '') continue;
    const f = findExecutable(path.join(dir, file), exts, platform);
    if (f === undefined) continue;
    // Refused unless %PATH% finds the very same file (go.dev/issue/53536).
    if (dot !== undefined && platform.stat(dot)?.id !== platform.stat(f)?.id) throw new LookPathError(file, true);
    if (isAbs(f, platform)) return f;
    dot ??= f;
  }
  throw new LookPathError(file, dot !== undefined);
}

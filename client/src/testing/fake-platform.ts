// A Platform (platform.ts) with its files in memory, so tests run the
// Windows rules on Linux: paths are judged with node:path's win32 rules and
// looked up as Windows does, case-insensitively.
import { posix, win32 } from 'node:path';
import type { FileInfo, Platform } from '../platform.ts';

export interface FakeFiles {
  /** Path → content. Every folder above a file exists (writable). */
  files?: Record<string, string>;
  /** Further folders, with their permission bits (0o555: read-only, as Windows reports one). */
  dirs?: Record<string, number>;
  cwd?: string;
  homedir?: string;
}

export function fakePlatform(os: 'win32' | 'linux' | 'darwin', fs: FakeFiles = {}): Platform {
  const path = os === 'win32' ? win32 : posix;
  const key = (p: string) => {
    const n = path.resolve(fs.cwd ?? (os === 'win32' ? 'C:\\' : '/'), p);
    return os === 'win32' ? n.toLowerCase() : n;
  };
  const entries = new Map<string, { info: FileInfo; content?: string }>();
  let inode = 0;
  const addDir = (p: string, mode: number) => entries.set(key(p), { info: { isDirectory: true, mode, id: `1:${++inode}` } });
  for (const [p, content] of Object.entries(fs.files ?? {})) {
    for (let d = path.dirname(key(p)); !entries.has(d); d = path.dirname(d)) {
      addDir(d, 0o777);
      if (path.dirname(d) === d) break;
    }
    entries.set(key(p), { info: { isDirectory: false, mode: 0o666, id: `1:${++inode}` }, content });
  }
  for (const [p, mode] of Object.entries(fs.dirs ?? {})) addDir(p, mode);
  const fail = (code: string, p: string) => Object.assign(new Error(`${code}: ${p}`), { code });
  return {
    os,
    path,
    cwd: () => fs.cwd ?? (os === 'win32' ? 'C:\\' : '/'),
    homedir: () => fs.homedir ?? (os === 'win32' ? 'C:\\Users\\fallback' : '/home/fallback'),
    stat: (p) => entries.get(key(p))?.info,
    readFile(p) {
      const e = entries.get(key(p));
      if (!e) throw fail('ENOENT', p);
      if (e.content === undefined) throw fail('EISDIR', p);
      return Buffer.from(e.content);
    },
  };
}

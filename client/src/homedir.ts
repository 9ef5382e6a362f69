// The home directory that holds .kube/config, chosen as client-go's
// util/homedir.HomeDir() chooses it. On Unix: $HOME. On Windows, from
// %HOME% (Git Bash and Cygwin set it), %HOMEDRIVE%%HOMEPATH% and
// %USERPROFILE%:
//   1. the first of HOME, HOMEDRIVE+HOMEPATH, USERPROFILE holding a .kube\config;
//   2. else the first of HOME, USERPROFILE, HOMEDRIVE+HOMEPATH that is a
//      writable directory (USERPROFILE now first, as other tools that write
//      credentials choose it);
//   3. else the first of those that exists; 4. else the first that is set.
// Where client-go would then return "" (nothing set; .kube/config relative
// to the working directory), this falls back to os.homedir().
import { isWindows, type Platform } from './platform.ts';

export interface HomeEnv {
  HOME?: string;
  HOMEDRIVE?: string;
  HOMEPATH?: string;
  USERPROFILE?: string;
}

/** client-go's info.Mode().Perm()&(1<<7): the owner may write (on Windows: not read-only). */
const OWNER_WRITE = 0o200;

export function homeDir(env: HomeEnv, platform: Platform): string {
  if (!isWindows(platform)) return env.HOME || platform.homedir();
  const home = env.HOME ?? '';
  const driveAndPath = env.HOMEDRIVE && env.HOMEPATH ? env.HOMEDRIVE + env.HOMEPATH : '';
  const userProfile = env.USERPROFILE ?? '';
  for (const dir of [home, driveAndPath, userProfile]) {
    if (dir && platform.stat(platform.path.join(dir, '.kube', 'config'))) return dir;
  }
  const set = [home, userProfile, driveAndPath].filter((dir) => dir !== '');
  const existing = set.map((dir) => ({ dir, info: platform.stat(dir) })).filter(({ info }) => info !== undefined);
  const writable = existing.find(({ info }) => info!.isDirectory && (info!.mode & OWNER_WRITE) !== 0);
  return writable?.dir ?? existing[0]?.dir ?? set[0] ?? platform.homedir();
}

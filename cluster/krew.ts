// krew, built from its Go module (sigs.k8s.io/krew v0.4.3, the version the
// module proxy serves) and cached like the control plane's binaries; on PATH
// as kubectl-krew, which is how kubectl finds it.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, renameSync, rmSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { cacheRoot } from './binaries.ts';

const KREW_VERSION = 'v0.4.3';

export interface Krew {
  /** A folder to put on PATH: kubectl-krew and validate-krew-manifest. */
  bin: string;
}

export function ensureKrew(log: (s: string) => void = (s) => process.stderr.write(s + '\n')): Krew {
  const dir = join(cacheRoot(), `krew-${KREW_VERSION}`);
  const bin = join(dir, 'bin');
  if (existsSync(join(bin, 'kubectl-krew')) && existsSync(join(bin, 'validate-krew-manifest'))) return { bin };
  log(`building krew ${KREW_VERSION} from the Go module proxy into ${dir}`);
  const tmp = `${dir}.tmp-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(join(tmp, 'bin'), { recursive: true });
  const go = existsSync('/usr/local/go/bin/go') ? '/usr/local/go/bin/go' : 'go';
  execFileSync(go, ['install', `sigs.k8s.io/krew/cmd/krew@${KREW_VERSION}`, `sigs.k8s.io/krew/cmd/validate-krew-manifest@${KREW_VERSION}`], {
    env: { ...process.env, GOBIN: join(tmp, 'bin'), GOFLAGS: '-trimpath' },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  symlinkSync('krew', join(tmp, 'bin', 'kubectl-krew'));
  rmSync(dir, { recursive: true, force: true });
  renameSync(tmp, dir);
  return { bin };
}

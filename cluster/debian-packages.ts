// What the project needs from Debian's packages (the image builder's buildah
// and mmdebstrap; for the tests Chromium for the dashboard, Wine and QEMU for
// the plugin's Windows and arm64 executables), installed by the build or the
// test run itself on a fresh machine, as the README promises that the test
// command does all the set-up: with apt-get when running as root, otherwise
// it says in one line how to install them.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';

function run(cmd: string, args: string[], log: (l: string) => void): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    execFile(cmd, args, { env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' }, maxBuffer: 64 * 1024 * 1024 }, (err, _stdout, stderr) => {
      if (err) {
        const last = stderr.trim().split('\n').slice(-3).join(' | ');
        reject(new Error(`${cmd} ${args.join(' ')} failed: ${last || err.message}`));
      } else resolve();
    });
  }).then(() => log(`${cmd} ${args.join(' ')}: done`));
}

/** The command a person runs to install them by hand. */
function installHint(packages: string[], why: string): string {
  return `${why} is missing: install it with "sudo apt-get install -y --no-install-recommends ${packages.join(' ')}" (Debian's packages), then run the command again`;
}

/**
 * Installs Debian's `packages` unless every file in `provides` is there
 * already (once per machine). apt's package lists may be absent or stale on
 * a fresh machine: a failed install is retried once after `apt-get update`.
 */
export async function ensureDebianPackages(packages: string[], provides: string[], why: string, log: (l: string) => void = () => {}): Promise<void> {
  if (provides.every((f) => existsSync(f))) return;
  if (process.getuid?.() !== 0) throw new Error(installHint(packages, why));
  log(`${why} is missing; installing Debian's ${packages.join(', ')} with apt-get (once per machine)`);
  const install = () => run('apt-get', ['install', '-y', '--no-install-recommends', ...packages], log);
  try {
    await install();
  } catch (first) {
    log(`${(first as Error).message}; updating the package lists and trying again`);
    await run('apt-get', ['update'], log);
    await install();
  }
  const missing = provides.filter((f) => !existsSync(f));
  if (missing.length) throw new Error(`apt-get installed ${packages.join(' ')} but ${missing.join(', ')} is still missing`);
}

// The browser the dashboard's tests drive: Debian's `chromium` package,
// through playwright-core (which downloads no browser of its own). On a
// fresh machine the test run installs it, as the README promises that the
// test command does all the set-up: with apt-get when running as root,
// otherwise it says in one line how to install it.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';

export const CHROMIUM = '/usr/bin/chromium';

/** Flags for a headless run on a closed network: without the background-networking ones Chromium waits on requests that never answer. */
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export const INSTALL_HINT = `Chromium is missing: install it with "sudo apt-get install -y chromium" (Debian's package, ${CHROMIUM}), then run the tests again`;

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

/**
 * Returns the browser's path, installing Debian's package first when it is
 * missing and we are root. apt's package lists may be absent or stale on a
 * fresh machine: a failed install is retried once after `apt-get update`.
 */
export async function ensureChromium(log: (l: string) => void = () => {}): Promise<string> {
  if (existsSync(CHROMIUM)) return CHROMIUM;
  if (process.getuid?.() !== 0) throw new Error(INSTALL_HINT);
  log(`${CHROMIUM} is missing; installing Debian's chromium package with apt-get (once per machine)`);
  const install = () => run('apt-get', ['install', '-y', '--no-install-recommends', 'chromium'], log);
  try {
    await install();
  } catch (first) {
    log(`${(first as Error).message}; updating the package lists and trying again`);
    await run('apt-get', ['update'], log);
    await install();
  }
  if (!existsSync(CHROMIUM)) throw new Error(`apt-get installed chromium but ${CHROMIUM} is still missing`);
  return CHROMIUM;
}

// `node test/integration/chromium.ts`: the same step by hand.
if (import.meta.url === `file://${process.argv[1]}`) {
  const started = Date.now();
  console.log(await ensureChromium((l) => console.error(`[chromium] ${l}`)), `(${((Date.now() - started) / 1000).toFixed(1)} s)`);
}

// The browser the dashboard's tests drive: Debian's `chromium` package,
// through playwright-core (which downloads no browser of its own), installed
// by the test run on a fresh machine (cluster/debian-packages.ts).
import { ensureDebianPackages } from '../../cluster/debian-packages.ts';

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

/** Returns the browser's path, installing Debian's package first when it is missing and we are root. */
export async function ensureChromium(log: (l: string) => void = () => {}): Promise<string> {
  await ensureDebianPackages(['chromium'], [CHROMIUM], `Chromium (${CHROMIUM})`, log);
  return CHROMIUM;
}

// `node test/integration/chromium.ts`: the same step by hand.
if (import.meta.url === `file://${process.argv[1]}`) {
  const started = Date.now();
  console.log(await ensureChromium((l) => console.error(`[chromium] ${l}`)), `(${((Date.now() - started) / 1000).toFixed(1)} s)`);
}

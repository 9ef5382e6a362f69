// The plugin as a Node Single Executable Application, for the host only: the
// runtime the plugin shipped with before it moved to Bun, kept so that
// `npm run bench` measures the two side by side (scripts/build-plugin.ts
// --runtime node-sea). From the CommonJS bundle (SEA runs CJS):
//   1. node --experimental-sea-config turns it into a blob carrying a V8
//      startup snapshot of the evaluated bundle (plugin/src/main.ts);
//   2. a copy of the node binary, stripped of symbols first (stripping after
//      injection breaks it), gets the blob injected with postject.
import { execFileSync } from 'node:child_process';
import { chmodSync, closeSync, copyFileSync, openSync, readFileSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../', import.meta.url));

/** Wraps the CJS bundle `bundled` into `output`; build notes go to `logFile`, shown when a step fails. */
export function buildNodeSea(bundled: string, output: string, logFile: string, log: (s: string) => void): void {
  const dir = dirname(bundled);
  const blob = join(dir, 'sea-prep.blob');
  const seaConfig = join(dir, 'sea-config.json');
  writeFileSync(seaConfig, JSON.stringify({ main: bundled, output: blob, disableExperimentalSEAWarning: true, useSnapshot: true, useCodeCache: false }));
  // Node's snapshot builder warns about built-in modules it has not verified
  // and postject (LIEF) notes ELF sections it cannot name: none of it is
  // about our code, so it goes to the log.
  const out = openSync(logFile, 'w');
  const step = (what: string, args: string[]) => {
    writeSync(out, `$ ${process.execPath} ${args.join(' ')}\n`);
    try {
      execFileSync(process.execPath, args, { stdio: ['ignore', out, out] });
    } catch (err) {
      const tail = readFileSync(logFile, 'utf8').trimEnd().split('\n').slice(-20).join('\n');
      throw new Error(`${what} failed (${err instanceof Error ? err.message.split('\n')[0] : String(err)}); the end of ${logFile}:\n${tail}`, { cause: err });
    }
  };
  try {
    step('making the SEA blob', ['--experimental-sea-config', seaConfig]);
    rmSync(output, { force: true });
    copyFileSync(process.execPath, output);
    chmodSync(output, 0o755);
    try {
      execFileSync('strip', [output], { stdio: 'ignore' });
    } catch {
      log('note: strip is not available; the executable keeps its symbols (about 18 MB larger)');
    }
    const postject = join(ROOT, 'node_modules/postject/dist/cli.js');
    step('injecting the blob (postject)', [postject, output, 'NODE_SEA_BLOB', blob, '--sentinel-fuse', 'NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2']);
  } finally {
    closeSync(out);
    rmSync(blob, { force: true });
    rmSync(seaConfig, { force: true });
  }
}

// Ad-hoc signing of the plugin's macOS executables from Linux, with no Apple
// tool: the small Go program in scripts/macho-sign (github.com/blacktop/go-macho)
// is built once from the Go module proxy into the cache, like the control
// plane's binaries (cluster/binaries.ts), and replaces the executable's
// signature with an ad-hoc one over its final bytes. The result is then read
// back with scripts/macho-file.ts, which checks every page hash itself.
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cacheRoot, goCommand } from '../cluster/binaries.ts';
import { readMachO, type MachO } from './macho-file.ts';

const MODULE = fileURLToPath(new URL('./macho-sign/', import.meta.url));

/** The signer, built into the cache under a key of its sources (a few seconds, once). */
export function ensureSigner(log: (s: string) => void): string {
  const h = createHash('sha256');
  for (const f of ['go.mod', 'go.sum', 'main.go']) h.update(readFileSync(join(MODULE, f)));
  const dir = join(cacheRoot(), `macho-sign-${h.digest('hex').slice(0, 12)}`);
  const bin = join(dir, 'macho-sign');
  if (existsSync(bin)) return bin;
  log('building the ad-hoc Mach-O signer (scripts/macho-sign, once)');
  mkdirSync(dir, { recursive: true });
  const tmp = `${bin}.tmp-${process.pid}`;
  try {
    execFileSync(goCommand(), ['build', '-trimpath', '-ldflags=-s -w', '-o', tmp, '.'], { cwd: MODULE, stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, CGO_ENABLED: '0' } });
  } catch (err) {
    rmSync(tmp, { force: true });
    const stderr = (err as { stderr?: Buffer }).stderr?.toString().trim() ?? '';
    throw new Error(`building scripts/macho-sign failed (Go and the Go module proxy are needed for macOS releases): ${stderr || (err as Error).message}`, { cause: err });
  }
  renameSync(tmp, bin);
  return bin;
}

/** Signs `file` in place, ad hoc, as `identifier`; returns what the file reads as afterwards, or throws if its signature does not hold. */
export function adhocSign(file: string, identifier: string, log: (s: string) => void): MachO {
  const signer = ensureSigner(log);
  const out = `${file}.signed`;
  try {
    execFileSync(signer, [file, out, identifier], { stdio: ['ignore', 'ignore', 'pipe'] });
  } catch (err) {
    rmSync(out, { force: true });
    throw new Error(`signing ${file}: ${(err as { stderr?: Buffer }).stderr?.toString().trim() || (err as Error).message}`, { cause: err });
  }
  renameSync(out, file);
  const m = readMachO(readFileSync(file));
  if (!m.signature?.valid) throw new Error(`${file}: the ad-hoc signature does not verify (${JSON.stringify(m.signature)})`);
  return m;
}

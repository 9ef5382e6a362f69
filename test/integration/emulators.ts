// Running the plugin's foreign executables on this Linux/amd64 machine:
// linux/arm64 under QEMU's user-mode emulation (qemu-user-static, with the
// arm64 C and C++ runtimes from Debian's cross packages), windows/amd64
// under Wine (wine64). Both come from Debian's packages, installed by the
// test run when missing (cluster/debian-packages.ts).
//
// Debian 12's Wine (8.0) lacks bcryptprimitives.dll, which every Windows
// since 8 has and which Rust-built programs (Bun's runtime among them) load
// for ProcessPrng, their source of random bytes. The Wine prefix gets a
// stand-in: a DLL with no code whose one export forwards to Wine's own
// RtlGenRandom (advapi32.SystemFunction036, same arguments, non-zero on
// success), made here byte by byte (PE/COFF, Microsoft's published format).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureDebianPackages } from '../../cluster/debian-packages.ts';
import { type Run, runCommand } from './run-command.ts';

function run(cmd: string, args: string[], env: NodeJS.ProcessEnv, timeoutMs = 120_000): Promise<Run> {
  return runCommand(cmd, args, { env, timeoutMs });
}

const QEMU = '/usr/bin/qemu-aarch64-static';
const ARM64_SYSROOT = '/usr/aarch64-linux-gnu';
const WINE = '/usr/lib/wine/wine64';

export async function ensureQemuArm64(log: (l: string) => void): Promise<void> {
  await ensureDebianPackages(['qemu-user-static', 'libc6-arm64-cross', 'libstdc++6-arm64-cross'], [QEMU, join(ARM64_SYSROOT, 'lib/ld-linux-aarch64.so.1'), join(ARM64_SYSROOT, 'lib/libstdc++.so.6')], 'QEMU for arm64 executables', log);
}

/** A linux/arm64 executable run under QEMU. */
export function runArm64(exe: string, args: string[], env: NodeJS.ProcessEnv): Promise<Run> {
  return run(QEMU, ['-L', ARM64_SYSROOT, exe, ...args], env);
}

/** A DLL named `name` whose exports forward to other DLLs' functions (`[export, 'dll.Function']`): headers and an export table, no code. */
export function forwardingDll(name: string, exports: [string, string][]): Buffer {
  const RVA = 0x1000;
  const n = exports.length;
  // The export directory (40 bytes), its three tables, then the strings.
  const funcs = 40;
  const names = funcs + 4 * n;
  const ordinals = names + 4 * n;
  const strings: Buffer[] = [];
  let at = ordinals + 2 * n;
  const str = (s: string) => {
    const b = Buffer.from(s + '\0', 'ascii');
    strings.push(b);
    at += b.length;
    return at - b.length;
  };
  const nameAt = str(name);
  const forwards = exports.map(([, to]) => str(to));
  const exportNames = exports.map(([e]) => str(e));
  const body = Buffer.concat([Buffer.alloc(ordinals + 2 * n), ...strings]);
  [0, 0, 0, 0].forEach((v, i) => body.writeUInt32LE(v, i * 4)); // flags, time stamp, version
  body.writeUInt32LE(RVA + nameAt, 12);
  body.writeUInt32LE(1, 16); // ordinal base
  body.writeUInt32LE(n, 20);
  body.writeUInt32LE(n, 24);
  body.writeUInt32LE(RVA + funcs, 28);
  body.writeUInt32LE(RVA + names, 32);
  body.writeUInt32LE(RVA + ordinals, 36);
  for (let i = 0; i < n; i++) {
    // An address inside the export directory is a forwarder string.
    body.writeUInt32LE(RVA + forwards[i]!, funcs + 4 * i);
    body.writeUInt32LE(RVA + exportNames[i]!, names + 4 * i);
    body.writeUInt16LE(i, ordinals + 2 * i);
  }
  const raw = (body.length + 0x1ff) & ~0x1ff;
  const h = Buffer.alloc(0x200);
  h.write('MZ', 0, 'ascii');
  h.writeUInt32LE(0x40, 0x3c); // e_lfanew
  h.write('PE\0\0', 0x40, 'ascii');
  // COFF header: x86-64, one section, a PE32+ optional header of 240 bytes, an executable DLL.
  h.writeUInt16LE(0x8664, 0x44);
  h.writeUInt16LE(1, 0x46);
  h.writeUInt16LE(240, 0x54);
  h.writeUInt16LE(0x2022, 0x56);
  const o = 0x58;
  h.writeUInt16LE(0x20b, o); // PE32+
  h.writeUInt32LE(raw, o + 8); // size of initialized data
  h.writeBigUInt64LE(0x180000000n, o + 24); // image base
  h.writeUInt32LE(0x1000, o + 32); // section alignment
  h.writeUInt32LE(0x200, o + 36); // file alignment
  h.writeUInt16LE(6, o + 40); // OS version 6.0
  h.writeUInt16LE(6, o + 48); // subsystem version 6.0
  h.writeUInt32LE(RVA + 0x1000, o + 56); // size of image
  h.writeUInt32LE(0x200, o + 60); // size of headers
  h.writeUInt16LE(3, o + 68); // console subsystem
  h.writeUInt16LE(0x160, o + 70); // high-entropy VA, dynamic base, NX compatible
  h.writeBigUInt64LE(0x100000n, o + 72); // stack reserve
  h.writeBigUInt64LE(0x1000n, o + 80); // stack commit
  h.writeBigUInt64LE(0x100000n, o + 88); // heap reserve
  h.writeBigUInt64LE(0x1000n, o + 96); // heap commit
  h.writeUInt32LE(16, o + 108); // data directories
  h.writeUInt32LE(RVA, o + 112); // the export table…
  h.writeUInt32LE(body.length, o + 116); // …and its size
  const s = o + 240;
  h.write('.rdata', s, 'ascii');
  h.writeUInt32LE(body.length, s + 8); // virtual size
  h.writeUInt32LE(RVA, s + 12);
  h.writeUInt32LE(raw, s + 16);
  h.writeUInt32LE(0x200, s + 20); // file offset
  h.writeUInt32LE(0x40000040, s + 36); // initialized data, readable
  return Buffer.concat([h, body, Buffer.alloc(raw - body.length)]);
}

export interface Wine {
  prefix: string;
  /** A Unix path as Windows programs under this Wine see it (drive Z: is the Unix root). */
  windowsPath(unix: string): string;
  run(exe: string, args: string[], env?: NodeJS.ProcessEnv): Promise<Run>;
  close(): void;
}

/** A Wine prefix of its own (made with wineboot, about ten seconds), with the bcryptprimitives stand-in. */
export async function startWine(log: (l: string) => void): Promise<Wine> {
  await ensureDebianPackages(['wine64'], [WINE], 'Wine (wine64)', log);
  const prefix = mkdtempSync(join(tmpdir(), 'kubectl-custom-wine-'));
  // No display and no debug channels: Wine would otherwise fill stderr with notes about both.
  const base = { PATH: '/usr/bin:/bin', HOME: prefix, WINEPREFIX: prefix, WINEDEBUG: '-all', WINEDLLOVERRIDES: 'mscoree,mshtml=' };
  const boot = await run(WINE, ['wineboot', '--init'], base, 300_000);
  if (boot.code !== 0) throw new Error(`wineboot failed (${boot.code}): ${boot.stderr.slice(-500)}`);
  writeFileSync(join(prefix, 'drive_c/windows/system32/bcryptprimitives.dll'), forwardingDll('bcryptprimitives.dll', [['ProcessPrng', 'advapi32.SystemFunction036']]));
  return {
    prefix,
    windowsPath: (unix) => `Z:${unix.replaceAll('/', '\\')}`,
    run: (exe, args, env = {}) => run(WINE, [exe, ...args], { ...base, ...env }),
    close: () => {
      void run('/usr/lib/wine/wineserver', ['-k'], base).finally(() => rmSync(prefix, { recursive: true, force: true }));
    },
  };
}

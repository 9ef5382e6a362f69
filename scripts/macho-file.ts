// Reads a thin 64-bit Mach-O executable (what macOS runs) far enough to say
// which CPU it is for and whether its code signature holds: the
// LC_CODE_SIGNATURE load command, the SuperBlob it points at, and in its
// CodeDirectory the SHA-256 of every 4 KiB page of the file up to the
// signature and of each special slot's blob (requirements, entitlements),
// as the kernel and `codesign --verify` check them. Written from Apple's
// published formats (<mach-o/loader.h>, xnu's cs_blobs.h), apart from the
// signer it checks (scripts/macho-sign, github.com/blacktop/go-macho), so
// the release does not vouch for itself. No cryptographic identity is
// checked: the executables are signed ad hoc.
import { createHash } from 'node:crypto';

const MH_MAGIC_64 = 0xfeedfacf;
const LC_CODE_SIGNATURE = 0x1d;
const CSMAGIC_EMBEDDED_SIGNATURE = 0xfade0cc0;
const CSMAGIC_CODEDIRECTORY = 0xfade0c02;
const CS_HASHTYPE_SHA256 = 2;
const CS_ADHOC = 0x2;
const CPU: Record<number, 'amd64' | 'arm64'> = { 0x01000007: 'amd64', 0x0100000c: 'arm64' };

export interface CodeSignature {
  identifier: string;
  adhoc: boolean;
  /** Pages hashed, and how many of them match the file. */
  pages: number;
  pagesMatching: number;
  /** The file's bytes the signature covers (everything before the signature itself). */
  codeLimit: number;
  signatureOffset: number;
  /** Special slots (negative indexes: -2 requirements, -5 entitlements, …) whose blob is present, and whether each hash matches. */
  specialSlots: { slot: number; matches: boolean }[];
  /** The whole verdict: every page and every present special slot matches, and the signature covers the whole file before it. */
  valid: boolean;
}

export interface MachO {
  arch: 'amd64' | 'arm64' | `cpu 0x${string}`;
  signature?: CodeSignature;
}

function cString(b: Buffer, at: number): string {
  const end = b.indexOf(0, at);
  return b.toString('utf8', at, end < 0 ? b.length : end);
}

function codeDirectory(file: Buffer, cd: number, blobs: Map<number, Buffer>, signatureOffset: number): CodeSignature {
  const hashOffset = file.readUInt32BE(cd + 16);
  const identOffset = file.readUInt32BE(cd + 20);
  const nSpecialSlots = file.readUInt32BE(cd + 24);
  const nCodeSlots = file.readUInt32BE(cd + 28);
  const codeLimit = file.readUInt32BE(cd + 32);
  const hashSize = file.readUInt8(cd + 36);
  const hashType = file.readUInt8(cd + 37);
  const pageSize = 2 ** file.readUInt8(cd + 39);
  if (hashType !== CS_HASHTYPE_SHA256 || hashSize !== 32) throw new Error(`code directory hash type ${hashType} (size ${hashSize}) is not SHA-256`);
  const hashAt = (i: number) => file.subarray(cd + hashOffset + i * hashSize, cd + hashOffset + (i + 1) * hashSize);
  let pagesMatching = 0;
  for (let i = 0; i < nCodeSlots; i++) {
    const page = file.subarray(i * pageSize, Math.min((i + 1) * pageSize, codeLimit));
    if (createHash('sha256').update(page).digest().equals(hashAt(i))) pagesMatching++;
  }
  const specialSlots: CodeSignature['specialSlots'] = [];
  for (let s = 1; s <= nSpecialSlots; s++) {
    const blob = blobs.get(s);
    if (blob) specialSlots.push({ slot: -s, matches: createHash('sha256').update(blob).digest().equals(hashAt(-s)) });
  }
  const sig = {
    identifier: cString(file, cd + identOffset),
    adhoc: (file.readUInt32BE(cd + 12) & CS_ADHOC) !== 0,
    pages: nCodeSlots,
    pagesMatching,
    codeLimit,
    signatureOffset,
    specialSlots,
  };
  const wholeFile = codeLimit === signatureOffset && nCodeSlots === Math.ceil(codeLimit / pageSize);
  return { ...sig, valid: wholeFile && pagesMatching === nCodeSlots && specialSlots.every((s) => s.matches) };
}

function codeSignature(file: Buffer, dataoff: number): CodeSignature {
  if (file.readUInt32BE(dataoff) !== CSMAGIC_EMBEDDED_SIGNATURE) throw new Error('LC_CODE_SIGNATURE does not point at an embedded signature');
  const count = file.readUInt32BE(dataoff + 8);
  const blobs = new Map<number, Buffer>();
  let cd: number | undefined;
  for (let i = 0; i < count; i++) {
    const type = file.readUInt32BE(dataoff + 12 + i * 8);
    const at = dataoff + file.readUInt32BE(dataoff + 16 + i * 8);
    if (type === 0) {
      if (file.readUInt32BE(at) !== CSMAGIC_CODEDIRECTORY) throw new Error('slot 0 of the signature is not a code directory');
      cd = at;
    } else if (type < 0x1000) {
      blobs.set(type, file.subarray(at, at + file.readUInt32BE(at + 4)));
    }
  }
  if (cd === undefined) throw new Error('the signature has no code directory');
  return codeDirectory(file, cd, blobs, dataoff);
}

/** The CPU a Mach-O file is for, and its code signature if it has one. Throws if it is not a thin 64-bit Mach-O. */
export function readMachO(file: Buffer): MachO {
  if (file.length < 32 || file.readUInt32LE(0) !== MH_MAGIC_64) throw new Error('not a 64-bit Mach-O file (a universal or 32-bit one is not expected here)');
  const cpu = file.readInt32LE(4);
  const ncmds = file.readUInt32LE(16);
  let off = 32;
  let signature: CodeSignature | undefined;
  for (let i = 0; i < ncmds; i++) {
    const cmd = file.readUInt32LE(off);
    if (cmd === LC_CODE_SIGNATURE) signature = codeSignature(file, file.readUInt32LE(off + 8));
    off += file.readUInt32LE(off + 4);
  }
  return { arch: CPU[cpu] ?? `cpu 0x${(cpu >>> 0).toString(16)}`, ...(signature ? { signature } : {}) };
}

// A minimal DER reader: enough of ASN.1 to walk a certificate's subject and
// extensions, which node:crypto's X509Certificate only offers as escaped
// text (subject) or not at all (basicConstraints path length, criticality).
// Every malformed input ends in a DerError, never another exception.

export class DerError extends Error {
  constructor(message: string) {
    super(`malformed DER: ${message}`);
    this.name = 'DerError';
  }
}

/** Universal tags used here, and the context-specific ones of a certificate. */
export const TAG = {
  BOOLEAN: 0x01,
  INTEGER: 0x02,
  OCTET_STRING: 0x04,
  OID: 0x06,
  SEQUENCE: 0x30,
  SET: 0x31,
  context: (n: number, constructed = true) => 0x80 | (constructed ? 0x20 : 0) | n,
} as const;

export interface Element {
  tag: number;
  value: Buffer;
}

export class DerReader {
  private readonly buf: Buffer;
  private pos: number;

  constructor(buf: Buffer) {
    this.buf = buf;
    this.pos = 0;
  }

  get empty(): boolean {
    return this.pos >= this.buf.length;
  }

  peekTag(): number | undefined {
    return this.empty ? undefined : this.buf[this.pos];
  }

  /** The next element; with `tag`, it must be that one. */
  read(tag?: number): Element {
    const at = this.pos;
    const got = this.byte();
    // High-tag-number form: no value a certificate's name or extensions use needs it.
    if ((got & 0x1f) === 0x1f) throw new DerError(`multi-byte tag at offset ${at}`);
    if (tag !== undefined && got !== tag) throw new DerError(`expected tag 0x${tag.toString(16)} at offset ${at}, found 0x${got.toString(16)}`);
    const length = this.length();
    if (this.pos + length > this.buf.length) throw new DerError(`element at offset ${at} runs past its container`);
    const value = this.buf.subarray(this.pos, this.pos + length);
    this.pos += length;
    return { tag: got, value };
  }

  /** The next element if it has `tag`; undefined otherwise. */
  readOptional(tag: number): Element | undefined {
    return this.peekTag() === tag ? this.read(tag) : undefined;
  }

  private byte(): number {
    const b = this.buf[this.pos];
    if (b === undefined) throw new DerError('unexpected end of input');
    this.pos++;
    return b;
  }

  private length(): number {
    const first = this.byte();
    if (first < 0x80) return first;
    const octets = first & 0x7f;
    // 0x80 is BER's indefinite length, which DER forbids; four octets cover any certificate.
    if (octets === 0 || octets > 4) throw new DerError(`unsupported length form 0x${first.toString(16)}`);
    let n = 0;
    for (let i = 0; i < octets; i++) n = n * 256 + this.byte();
    return n;
  }
}

/** An OBJECT IDENTIFIER's value as dotted text. */
export function decodeOid(value: Buffer): string {
  if (value.length === 0) throw new DerError('empty OID');
  const arcs: number[] = [];
  let n = 0;
  for (let i = 0; i < value.length; i++) {
    const b = value[i]!;
    if (n > Number.MAX_SAFE_INTEGER / 128) throw new DerError('OID arc too large');
    n = n * 128 + (b & 0x7f);
    if (b & 0x80) {
      if (i === value.length - 1) throw new DerError('truncated OID');
      continue;
    }
    arcs.push(n);
    n = 0;
  }
  const first = arcs[0]!;
  const head = first < 40 ? [0, first] : first < 80 ? [1, first - 40] : [2, first - 80];
  return [...head, ...arcs.slice(1)].join('.');
}

/** A non-negative INTEGER that fits a safe integer (basicConstraints' path length). */
export function decodeUnsigned(value: Buffer): number {
  if (value.length === 0 || (value[0]! & 0x80) !== 0) throw new DerError('not a non-negative INTEGER');
  let n = 0;
  for (const b of value) {
    n = n * 256 + b;
    if (n > Number.MAX_SAFE_INTEGER) throw new DerError('INTEGER too large');
  }
  return n;
}

// The serving certificate, followed on disk as k8s.io/apiserver's
// DynamicCertKeyPairContent follows it: cert-manager (or the kubelet, for a
// mounted Secret) replaces the files, and new TLS handshakes get the new
// pair without a restart. The files are watched (their folders: a Secret
// volume swaps a symlink) and read again every minute besides; a pair that
// does not load (a key that does not match, one file written before the
// other) is logged and the one in use kept, until the next change.
import { X509Certificate } from 'node:crypto';
import { watch, readFileSync, type FSWatcher } from 'node:fs';
import { dirname } from 'node:path';
import { createSecureContext } from 'node:tls';
import type { Logger } from '../log/logger.ts';
import { describeError } from '../status/status-error.ts';

export interface KeyPair {
  cert: string;
  key: string;
}

export interface ServingCertificate {
  current(): KeyPair;
  /** Called with each new pair that loaded. */
  onChange(listener: (pair: KeyPair) => void): void;
  start(): void;
  stop(): void;
}

/** A pair that never changes (tests). */
export function staticServingCertificate(pair: KeyPair): ServingCertificate {
  return { current: () => pair, onChange: () => {}, start: () => {}, stop: () => {} };
}

/** Reads and checks a pair as tls.X509KeyPair does: both present, the certificate parses, the key matches it. */
function loadKeyPair(certFile: string, keyFile: string): KeyPair {
  const pair = { cert: readFileSync(certFile, 'utf8'), key: readFileSync(keyFile, 'utf8') };
  if (!pair.cert.trim() || !pair.key.trim()) throw new Error(`missing content for serving cert ${certFile}::${keyFile}`);
  new X509Certificate(pair.cert);
  // Throws "key values mismatch" when the key is not the certificate's.
  createSecureContext(pair);
  return pair;
}

export interface ServingCertificateFilesOptions {
  certFile: string;
  keyFile: string;
  log: Logger;
  /** How often the files are read even without a change event (upstream: every minute). */
  pollIntervalMs?: number;
  /** Change events are gathered this long before the files are read (a rename comes as several). */
  settleMs?: number;
}

export class ServingCertificateFiles implements ServingCertificate {
  private readonly o: Required<ServingCertificateFilesOptions>;
  private pair: KeyPair;
  private readonly listeners: ((pair: KeyPair) => void)[] = [];
  private watchers: FSWatcher[] = [];
  private poll: NodeJS.Timeout | undefined;
  private pending: NodeJS.Timeout | undefined;

  /** Reads the pair once; a pair that does not load stops the start-up, as upstream's does. */
  constructor(opts: ServingCertificateFilesOptions) {
    this.o = { pollIntervalMs: 60_000, settleMs: 100, ...opts };
    this.pair = loadKeyPair(opts.certFile, opts.keyFile);
  }

  current(): KeyPair {
    return this.pair;
  }

  onChange(listener: (pair: KeyPair) => void): void {
    this.listeners.push(listener);
  }

  start(): void {
    this.watchFiles();
    this.poll = setInterval(() => {
      // A watch that failed (a folder replaced) is set up again, as upstream retries every minute.
      if (this.watchers.length === 0) this.watchFiles();
      this.reload();
    }, this.o.pollIntervalMs);
    this.poll.unref();
  }

  stop(): void {
    clearInterval(this.poll);
    clearTimeout(this.pending);
    for (const w of this.watchers) w.close();
    this.watchers = [];
  }

  /** Reads the files again; true when a new pair is now served. */
  reload(): boolean {
    let next: KeyPair;
    try {
      next = loadKeyPair(this.o.certFile, this.o.keyFile);
    } catch (err) {
      this.o.log.error('serving certificate not reloaded; keeping the one in use', { certFile: this.o.certFile, keyFile: this.o.keyFile, error: describeError(err) });
      return false;
    }
    if (next.cert === this.pair.cert && next.key === this.pair.key) return false;
    this.pair = next;
    const leaf = new X509Certificate(next.cert);
    this.o.log.info('serving certificate reloaded', { certFile: this.o.certFile, serialNumber: leaf.serialNumber, notAfter: leaf.validTo });
    for (const l of this.listeners) l(next);
    return true;
  }

  private watchFiles(): void {
    for (const dir of new Set([dirname(this.o.certFile), dirname(this.o.keyFile)])) {
      try {
        const w = watch(dir, () => this.soon());
        w.on('error', (err) => {
          this.o.log.warn('watching the serving certificate failed; reading it every poll interval', { dir, error: describeError(err) });
          w.close();
          this.watchers = this.watchers.filter((x) => x !== w);
        });
        this.watchers.push(w);
      } catch (err) {
        this.o.log.warn('cannot watch the serving certificate; reading it every poll interval', { dir, error: describeError(err) });
      }
    }
  }

  private soon(): void {
    clearTimeout(this.pending);
    this.pending = setTimeout(() => this.reload(), this.o.settleMs);
    this.pending.unref();
  }
}

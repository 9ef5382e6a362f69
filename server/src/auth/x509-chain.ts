// Client-certificate chain verification against a CA pool that can change at
// run time (the front-proxy and client CAs are followed live from a
// ConfigMap). The TLS handshake already proved the client holds the leaf's
// private key; this checks the chain, validity, usage, path length
// constraints and critical extensions, as Go's x509.Verify does with
// ExtKeyUsageClientAuth.
import type { X509Certificate } from 'node:crypto';
import { DerError } from './der.ts';
import { basicConstraints, unhandledCriticalExtensions } from './x509-fields.ts';

const CLIENT_AUTH = '1.3.6.1.5.5.7.3.2';
const ANY_EKU = '2.5.29.37.0';
const MAX_DEPTH = 5;

export type ChainResult = { ok: true; chain: X509Certificate[] } | { ok: false; reason: string };

function validAt(c: X509Certificate, now: Date): boolean {
  return new Date(c.validFrom) <= now && now <= new Date(c.validTo);
}

/** EKU "undefined" means the extension is absent: any usage. */
function allowsClientAuth(c: X509Certificate): boolean {
  const eku = c.keyUsage as string[] | undefined;
  return !eku || eku.includes(CLIENT_AUTH) || eku.includes(ANY_EKU);
}

function issued(issuer: X509Certificate, child: X509Certificate): boolean {
  try {
    return child.checkIssued(issuer) && child.verify(issuer.publicKey);
  } catch {
    return false;
  }
}

/** Why Go's isValid would refuse `c` at this place in the chain (`below`: the certificates under it), beyond validity and usage. */
function constraintsViolation(c: X509Certificate, below: number): string | undefined {
  const unhandled = unhandledCriticalExtensions(c);
  if (unhandled.length) return `unhandled critical extension ${unhandled.join(', ')}`;
  const bc = basicConstraints(c);
  // The leaf is not counted: pathLen limits the intermediates under a CA.
  if (below > 0 && bc && bc.maxPathLen >= 0 && below - 1 > bc.maxPathLen) return 'a path length constraint is violated (too many intermediates)';
  return undefined;
}

/** A verified chain, for as long as every certificate in it is valid. */
interface Verified {
  intermediates: readonly X509Certificate[];
  result: ChainResult & { ok: true };
  from: number;
  to: number;
}

/**
 * Verified chains by leaf (one X509Certificate object per TLS connection,
 * see peer-chain.ts) and by CA pool (a new array whenever the pool changes):
 * kube-aggregator sends many requests over one connection, and checking the
 * signatures again for each costs more than the rest of authentication.
 * Only successes are kept; they hold until a certificate of the chain
 * expires.
 */
const verified = new WeakMap<X509Certificate, WeakMap<readonly X509Certificate[], Verified>>();

const sameList = (a: readonly X509Certificate[], b: readonly X509Certificate[]) => a.length === b.length && a.every((x, i) => x === b[i]);

/**
 * Verifies `leaf` up to one of `roots`, through `intermediates` the client
 * presented. Roots are trusted as given (their own validity is checked too).
 */
export function verifyClientChain(leaf: X509Certificate, intermediates: X509Certificate[], roots: readonly X509Certificate[], now: Date = new Date()): ChainResult {
  const t = now.getTime();
  const memo = verified.get(leaf)?.get(roots);
  if (memo && t >= memo.from && t <= memo.to && sameList(memo.intermediates, intermediates)) return memo.result;
  let result: ChainResult;
  try {
    result = verify(leaf, intermediates, roots, now);
  } catch (err) {
    // A certificate Go could not parse never completes its handshake there.
    if (err instanceof DerError) return { ok: false, reason: `certificate cannot be parsed: ${err.message}` };
    throw err;
  }
  if (result.ok) {
    const from = Math.max(...result.chain.map((c) => Date.parse(c.validFrom)));
    const to = Math.min(...result.chain.map((c) => Date.parse(c.validTo)));
    let byRoots = verified.get(leaf);
    if (!byRoots) verified.set(leaf, (byRoots = new WeakMap()));
    byRoots.set(roots, { intermediates: [...intermediates], result, from, to });
  }
  return result;
}

function verify(leaf: X509Certificate, intermediates: X509Certificate[], roots: readonly X509Certificate[], now: Date): ChainResult {
  if (roots.length === 0) return { ok: false, reason: 'no CA is configured' };
  if (!validAt(leaf, now)) return { ok: false, reason: `certificate has expired or is not yet valid (valid ${leaf.validFrom} to ${leaf.validTo})` };
  if (!allowsClientAuth(leaf)) return { ok: false, reason: 'certificate is not allowed for client authentication' };
  const leafViolation = constraintsViolation(leaf, 0);
  if (leafViolation) return { ok: false, reason: leafViolation };
  const chain: X509Certificate[] = [leaf];
  let current = leaf;
  for (let depth = 0; depth < MAX_DEPTH; depth++) {
    const root = roots.find((r) => issued(r, current));
    if (root) {
      if (!validAt(root, now)) return { ok: false, reason: 'the signing CA has expired or is not yet valid' };
      const violation = constraintsViolation(root, chain.length);
      return violation ? { ok: false, reason: violation } : { ok: true, chain: [...chain, root] };
    }
    const next = intermediates.find((i) => !chain.includes(i) && i.ca && issued(i, current));
    if (!next) return { ok: false, reason: 'certificate signed by unknown authority' };
    if (!validAt(next, now)) return { ok: false, reason: 'an intermediate certificate has expired or is not yet valid' };
    if (!allowsClientAuth(next)) return { ok: false, reason: 'an intermediate certificate does not allow client authentication' };
    const violation = constraintsViolation(next, chain.length);
    if (violation) return { ok: false, reason: violation };
    chain.push(next);
    current = next;
  }
  return { ok: false, reason: 'certificate chain is too long' };
}

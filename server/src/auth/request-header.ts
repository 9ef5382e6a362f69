// The identity kube-apiserver's front proxy sends in X-Remote-* headers, read
// as k8s.io/apiserver's headerrequest authenticator reads it. Only call this
// for a request whose client certificate was verified as the front proxy's.
import type { UserInfo } from './user.ts';

export interface RequestHeaderNames {
  usernameHeaders: string[];
  uidHeaders: string[];
  groupHeaders: string[];
  extraHeaderPrefixes: string[];
}

/** Every value of every header, as Node's `req.headersDistinct` gives them (lower-case names). */
export type DistinctHeaders = Record<string, string[] | undefined>;

/**
 * A header value as the bytes kube-apiserver sent: Node reads each byte as
 * one Latin-1 character, Go keeps the bytes, which are UTF-8 (a user named
 * josé arrives as "josÃ©" otherwise). Bytes that are not UTF-8 become U+FFFD,
 * as they do when Go encodes the string as JSON for a SubjectAccessReview.
 */
function decodeHeaderValue(v: string): string {
  // eslint-disable-next-line no-control-regex
  return /^[\x00-\x7f]*$/.test(v) ? v : Buffer.from(v, 'latin1').toString('utf8');
}

function values(headers: DistinctHeaders, name: string): string[] {
  const key = name.toLowerCase();
  return Object.hasOwn(headers, key) ? (headers[key] ?? []).map(decodeHeaderValue) : [];
}

/**
 * Extra keys travel percent-encoded (HTTP header names cannot carry every
 * character a key may have): lower-cased, then unescaped, in Go's order, so
 * an escaped upper-case letter stays upper-case.
 */
function unescapeExtraKey(encoded: string): string {
  const lower = encoded.toLowerCase();
  // Not valid percent-encoding: taken literally, as Go's PathUnescape fallback does.
  if (/%(?![0-9a-f]{2})/.test(lower)) return lower;
  const bytes = lower.replace(/%([0-9a-f]{2})/g, (_, h: string) => String.fromCharCode(Number.parseInt(h, 16)));
  return Buffer.from(bytes, 'latin1').toString('utf8');
}

/** The user the headers name, or undefined when no username header has a value. */
export function userFromHeaders(headers: DistinctHeaders, names: RequestHeaderNames): UserInfo | undefined {
  let name: string | undefined;
  for (const h of names.usernameHeaders) {
    name = values(headers, h).find((v) => v.length > 0);
    if (name) break;
  }
  if (!name) return undefined;
  let uid: string | undefined;
  for (const h of names.uidHeaders) {
    uid = values(headers, h).find((v) => v.length > 0);
    if (uid) break;
  }
  const groups: string[] = [];
  // Each header line is one group; empty values are dropped, as k8s.io/apiserver does.
  for (const h of names.groupHeaders) groups.push(...values(headers, h).filter((g) => g.length > 0));
  // Keys come from the request: no prototype, so "constructor" or "__proto__" are keys like any other.
  const extra: Record<string, string[]> = Object.create(null) as Record<string, string[]>;
  for (const prefix of names.extraHeaderPrefixes) {
    const p = prefix.toLowerCase();
    for (const [header, vals] of Object.entries(headers)) {
      if (!header.startsWith(p) || header.length === p.length || !vals) continue;
      const k = unescapeExtraKey(header.slice(p.length));
      if (!Object.hasOwn(extra, k)) extra[k] = [];
      extra[k]!.push(...vals.map(decodeHeaderValue));
    }
  }
  return { name, ...(uid ? { uid } : {}), groups, extra };
}

/** Every header the front proxy uses to carry identity; removed from each request after authentication. */
export function identityHeaderNames(names: RequestHeaderNames, headers: DistinctHeaders): string[] {
  const out = new Set<string>();
  for (const h of [...names.usernameHeaders, ...names.uidHeaders, ...names.groupHeaders]) out.add(h.toLowerCase());
  for (const prefix of names.extraHeaderPrefixes) {
    const p = prefix.toLowerCase();
    for (const header of Object.keys(headers)) if (header.startsWith(p)) out.add(header);
  }
  return [...out];
}

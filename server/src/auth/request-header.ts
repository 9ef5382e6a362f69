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

function values(headers: DistinctHeaders, name: string): string[] {
  return headers[name.toLowerCase()] ?? [];
}

/**
 * Extra keys travel percent-encoded (HTTP header names cannot carry every
 * character a key may have) and are case-insensitive: decode, then lower-case.
 */
function unescapeExtraKey(encoded: string): string {
  try {
    return decodeURIComponent(encoded).toLowerCase();
  } catch {
    // Not valid percent-encoding: take it literally, as Go's PathUnescape fallback does.
    return encoded.toLowerCase();
  }
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
  const extra: Record<string, string[]> = {};
  for (const prefix of names.extraHeaderPrefixes) {
    const p = prefix.toLowerCase();
    for (const [header, vals] of Object.entries(headers)) {
      if (!header.startsWith(p) || header.length === p.length || !vals) continue;
      const k = unescapeExtraKey(header.slice(p.length));
      (extra[k] ??= []).push(...vals);
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

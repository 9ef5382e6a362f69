// Content negotiation as the apiserver does it: the Accept header's media
// ranges in preference order, with the `as`/`g`/`v` parameters that ask for
// a Table, PartialObjectMetadata or aggregated discovery instead of the object.
import { newNotAcceptable } from '../status/status-error.ts';

export type Target =
  | { kind: 'json' }
  | { kind: 'yaml' }
  | { kind: 'table'; version: 'v1' | 'v1beta1' }
  | { kind: 'partial'; version: 'v1' | 'v1beta1' }
  | { kind: 'discovery'; version: 'v2' };

interface MediaRange {
  type: string;
  params: Record<string, string>;
  q: number;
}

export function parseAccept(header: string | undefined): MediaRange[] {
  if (!header || !header.trim()) return [{ type: '*/*', params: Object.create(null) as Record<string, string>, q: 1 }];
  const ranges: MediaRange[] = [];
  for (const part of header.split(',')) {
    const [type, ...rest] = part.split(';').map((s) => s.trim());
    if (!type) continue;
    // Parameter names come from the client: no prototype to collide with.
    const params: Record<string, string> = Object.create(null) as Record<string, string>;
    for (const p of rest) {
      const eq = p.indexOf('=');
      if (eq > 0) params[p.slice(0, eq).trim().toLowerCase()] = p.slice(eq + 1).trim().replace(/^"|"$/g, '');
    }
    const q = params['q'] === undefined ? 1 : Number(params['q']);
    delete params['q'];
    if (!Number.isNaN(q) && q > 0) ranges.push({ type: type.toLowerCase(), params, q });
  }
  // Stable: equal q keeps the client's order.
  return ranges.map((r, i) => ({ r, i })).sort((a, b) => b.r.q - a.r.q || a.i - b.i).map((x) => x.r);
}

function targetOf(r: MediaRange, allowed: ReadonlySet<Target['kind']>): Target | undefined {
  const as = r.params['as'];
  const g = r.params['g'];
  const v = r.params['v'];
  if (r.type === 'application/json' && as) {
    if (as === 'Table' && g === 'meta.k8s.io' && (v === 'v1' || v === 'v1beta1') && allowed.has('table')) return { kind: 'table', version: v };
    if ((as === 'PartialObjectMetadata' || as === 'PartialObjectMetadataList') && g === 'meta.k8s.io' && (v === 'v1' || v === 'v1beta1') && allowed.has('partial')) {
      return { kind: 'partial', version: v };
    }
    if (as === 'APIGroupDiscoveryList' && g === 'apidiscovery.k8s.io' && v === 'v2' && allowed.has('discovery')) return { kind: 'discovery', version: v };
    return undefined;
  }
  if (r.type === 'application/json' || r.type === 'application/*' || r.type === '*/*') return allowed.has('json') ? { kind: 'json' } : undefined;
  if (r.type === 'application/yaml' && allowed.has('yaml')) return { kind: 'yaml' };
  return undefined;
}

/** The first acceptable representation, or 406 NotAcceptable. */
export function negotiate(accept: string | undefined, allowed: ReadonlySet<Target['kind']>): Target {
  for (const r of parseAccept(accept)) {
    const t = targetOf(r, allowed);
    if (t) return t;
  }
  const types = ['application/json', ...(allowed.has('yaml') ? ['application/yaml'] : [])];
  throw newNotAcceptable(types);
}

export const OBJECT_TARGETS: ReadonlySet<Target['kind']> = new Set(['json', 'yaml', 'table', 'partial']);
export const PLAIN_TARGETS: ReadonlySet<Target['kind']> = new Set(['json', 'yaml']);

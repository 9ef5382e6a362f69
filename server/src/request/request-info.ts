// What a request is about, worked out from its method and URL as
// k8s.io/apiserver/pkg/endpoints/request.RequestInfoFactory does, for a server
// that serves only grouped APIs under /apis (the legacy /api prefix is not
// ours, so its paths are non-resource requests here).

import { fieldSelectorError, parseFieldRequirements, fieldSelectorFrom } from '../selectors/field-selector.ts';
import { labelSelectorError } from '../selectors/label-selector.ts';
import { newBadRequest } from '../status/status-error.ts';

export interface RequestInfo {
  /** Whether the request is for an API resource or subresource. */
  isResourceRequest: boolean;
  /** The URL path, percent-decoded. */
  path: string;
  /** The Kubernetes verb (get, list, watch, create, ...); for non-resource requests the lower-cased HTTP method. */
  verb: string;
  apiPrefix: string;
  apiGroup: string;
  apiVersion: string;
  namespace: string;
  resource: string;
  subresource: string;
  name: string;
  /** Path parts from the resource on: resource/name/subresource/... */
  parts: string[];
  /** The raw `fieldSelector` query parameter, for list, watch and deletecollection only. */
  fieldSelector: string;
  /** The raw `labelSelector` query parameter, for list, watch and deletecollection only. */
  labelSelector: string;
}

const API_PREFIXES: ReadonlySet<string> = new Set(['apis']);
/** Prefixes whose paths have no group segment (upstream: `api`); none are served here. */
const GROUPLESS_API_PREFIXES: ReadonlySet<string> = new Set<string>();
/** Path segments that name a verb in place of the HTTP method (deprecated). */
const SPECIAL_VERBS: ReadonlySet<string> = new Set(['proxy', 'watch']);
const SPECIAL_VERBS_NO_SUBRESOURCES: ReadonlySet<string> = new Set(['proxy']);
/** Subresources of a namespace, told apart from resources inside it. */
const NAMESPACE_SUBRESOURCES: ReadonlySet<string> = new Set(['status', 'finalize']);
const VERBS_WITH_SELECTORS: ReadonlySet<string> = new Set(['list', 'watch', 'deletecollection']);

const METHOD_VERBS: ReadonlyMap<string, string> = new Map([
  ['POST', 'create'],
  ['GET', 'get'],
  ['HEAD', 'get'],
  ['PUT', 'update'],
  ['PATCH', 'patch'],
  ['DELETE', 'delete'],
]);

/**
 * The URL of a request target. Node passes on targets a URL cannot hold
 * (`http://[`); Go's server answers those 400 before any handler, so they are
 * 400 BadRequest here too, not an internal error.
 */
export function requestUrl(target: string | undefined): URL {
  if (hasDotSegment(target ?? '/')) throw newBadRequest('the request path has a "." or ".." segment; send the path without it');
  try {
    return new URL(target ?? '/', 'https://backend.invalid');
  } catch {
    throw newBadRequest('malformed request target');
  }
}

/**
 * Whether the path of a request target has a "." or ".." segment, as sent or
 * percent-encoded (`%2e%2e`). The URL parser resolves them, so a path that
 * kube-apiserver authorized as one thing (`…/approve/..%2f..%2fadmission`,
 * which its proxy decodes to `…/approve/../../admission`) would reach
 * another. No API path has such a segment (object names may not be "." or
 * ".."): refuse it rather than resolve it.
 */
function hasDotSegment(target: string): boolean {
  const path = target.split(/[?#]/, 1)[0]!;
  return path.split('/').some((seg) => {
    let s = seg;
    try {
      s = decodeURIComponent(seg);
    } catch {
      // A malformed escape is the URL parser's to refuse.
    }
    return s === '.' || s === '..' || s.split(/[/\\]/).some((p) => p === '.' || p === '..');
  });
}

/**
 * Works out the RequestInfo for a request.
 *
 * Resource paths: /apis/{group}/{version}/{resource}[/{name}[/{subresource}...]]
 * and /apis/{group}/{version}/namespaces/{namespace}/{resource}[/...]; the
 * namespace object itself is /apis/{group}/{version}/namespaces/{name}[/status|/finalize].
 * Anything shorter than /apis/{group}/{version}/{something}, or outside /apis, is a
 * non-resource request.
 *
 * Throws 400 if the path has a malformed percent escape, or for a verb
 * segment with nothing after it, e.g. /apis/g/v1/watch (upstream's filter
 * answers that 500).
 */
export function parseRequestInfo(method: string, url: URL): RequestInfo {
  const path = decodePath(url.pathname);
  const info: RequestInfo = {
    isResourceRequest: false,
    path,
    verb: method.toLowerCase(),
    apiPrefix: '',
    apiGroup: '',
    apiVersion: '',
    namespace: '',
    resource: '',
    subresource: '',
    name: '',
    parts: [],
    fieldSelector: '',
    labelSelector: '',
  };

  let parts = splitPath(path);
  if (parts.length < 3 || !API_PREFIXES.has(parts[0] as string)) return info;
  const apiPrefix = parts[0] as string;
  parts = parts.slice(1);

  let apiGroup = '';
  if (!GROUPLESS_API_PREFIXES.has(apiPrefix)) {
    // Group, version and at least one more part.
    if (parts.length < 3) return info;
    apiGroup = parts[0] as string;
    parts = parts.slice(1);
  }

  info.isResourceRequest = true;
  info.apiPrefix = apiPrefix;
  info.apiGroup = apiGroup;
  info.apiVersion = parts[0] as string;
  parts = parts.slice(1);

  let verbViaPathPrefix = false;
  if (SPECIAL_VERBS.has(parts[0] as string)) {
    if (parts.length < 2) {
      // Upstream answers this 500; it is the client's URL that is wrong, and no request may make this server answer 500.
      throw newBadRequest(`unable to determine kind and namespace from url, ${url.pathname}${url.search}`);
    }
    info.verb = parts[0] as string;
    parts = parts.slice(1);
    verbViaPathPrefix = true;
  } else {
    info.verb = METHOD_VERBS.get(method) ?? '';
  }

  // /namespaces/{namespace}/{resource}/...: parts become relative to the resource,
  // unless what follows the namespace is one of its own subresources.
  if (parts[0] === 'namespaces' && parts.length > 1) {
    info.namespace = parts[1] as string;
    if (parts.length > 2 && !NAMESPACE_SUBRESOURCES.has(parts[2] as string)) parts = parts.slice(2);
  }
  info.parts = parts;

  if (parts.length >= 3 && !SPECIAL_VERBS_NO_SUBRESOURCES.has(info.verb)) info.subresource = parts[2] as string;
  if (parts.length >= 2) info.name = parts[1] as string;
  if (parts.length >= 1) info.resource = parts[0] as string;

  applyQuery(info, url.searchParams, verbViaPathPrefix);
  return info;
}

/** What the query adds: a get without a name is a list or a watch (of one object with a metadata.name selector), and the selectors. */
function applyQuery(info: RequestInfo, query: URLSearchParams, verbViaPathPrefix: boolean): void {
  // A get without a name is a list, or a watch.
  if (info.name === '' && info.verb === 'get') {
    info.verb = isTrue(query.getAll('watch')) ? 'watch' : 'list';
    // A field selector pinning metadata.name makes it about that one object, as long as
    // every list option decodes (upstream drops what it parsed when any one fails).
    const name = listOptionsDecode(query) ? exactName(query.getAll('fieldSelector')[0]) : undefined;
    if (name !== undefined && isPathSegmentName(name)) info.name = name;
  }

  if (info.name === '' && info.verb === 'delete') info.verb = 'deletecollection';

  // Selectors are only reported where they are honoured, and not on the deprecated verb-in-path forms.
  if (!verbViaPathPrefix && VERBS_WITH_SELECTORS.has(info.verb)) {
    info.fieldSelector = query.getAll('fieldSelector')[0] ?? '';
    info.labelSelector = query.getAll('labelSelector')[0] ?? '';
  }
}

/** strings.Trim(path, "/") then split; inner empty segments are kept. */
function splitPath(path: string): string[] {
  const trimmed = path.replace(/^\/+|\/+$/g, '');
  return trimmed === '' ? [] : trimmed.split('/');
}

/** Go's query-parameter bool: only absent, "0" and "false" (any case) are false. */
function isTrue(values: string[]): boolean {
  const first = values[0];
  return first !== undefined && first !== '0' && first.toLowerCase() !== 'false';
}

/** strconv.ParseInt(s, 10, 64) succeeds. */
function isInt64(s: string): boolean {
  if (!/^[+-]?[0-9]+$/.test(s)) return false;
  const n = BigInt(s);
  return n >= -(2n ** 63n) && n < 2n ** 63n;
}

/** Whether the list options in the query decode, as metav1 ListOptions conversion would. */
function listOptionsDecode(query: URLSearchParams): boolean {
  const first = (key: string): string | undefined => query.getAll(key)[0];
  const labelSelector = first('labelSelector');
  if (labelSelector !== undefined && labelSelectorError(labelSelector) !== undefined) return false;
  const fieldSelector = first('fieldSelector');
  if (fieldSelector !== undefined && fieldSelectorError(fieldSelector) !== undefined) return false;
  for (const key of ['timeoutSeconds', 'limit']) {
    const v = first(key);
    if (v !== undefined && !isInt64(v)) return false;
  }
  return true;
}

function exactName(fieldSelector: string | undefined): string | undefined {
  if (fieldSelector === undefined) return undefined;
  return fieldSelectorFrom(parseFieldRequirements(fieldSelector)).requiresExactMatch('metadata.name');
}

/** content.IsPathSegmentName: not `.` or `..`, no `/` or `%`. */
function isPathSegmentName(name: string): boolean {
  return name !== '.' && name !== '..' && !name.includes('/') && !name.includes('%');
}

/**
 * Percent-decodes a path as Go's url package does for URL.Path: every %XX
 * becomes its byte (so %2F splits segments like a slash), `+` stays `+`, and a
 * malformed escape is an error.
 */
function decodePath(raw: string): string {
  if (!raw.includes('%')) return raw;
  const bytes: number[] = [];
  for (let i = 0; i < raw.length; ) {
    const c = raw.charAt(i);
    if (c === '%') {
      const hex = raw.slice(i + 1, i + 3);
      if (!/^[0-9A-Fa-f]{2}$/.test(hex)) throw newBadRequest(`invalid URL escape "${raw.slice(i, i + 3)}"`);
      bytes.push(Number.parseInt(hex, 16));
      i += 3;
    } else {
      const cp = raw.codePointAt(i) ?? 0;
      const ch = String.fromCodePoint(cp);
      bytes.push(...Buffer.from(ch, 'utf8'));
      i += ch.length;
    }
  }
  return Buffer.from(bytes).toString('utf8');
}

// List and watch query parameters, validated as kube-apiserver validates
// metav1.ListOptions: bad syntax is 400 BadRequest, bad combinations are 422
// Invalid on kind ListOptions with one cause per field.
import { parseFieldSelector, type FieldSelector } from '../../selectors/field-selector.ts';
import { parseLabelSelector, type LabelSelector } from '../../selectors/label-selector.ts';
import { newBadRequest, newInvalid } from '../../status/status-error.ts';

export const SUPPORTED_FIELDS = ['metadata.name', 'metadata.namespace', 'status.state'] as const;

export interface ListOptions {
  labelSelector: LabelSelector;
  fieldSelector: FieldSelector;
  watch: boolean;
  allowWatchBookmarks: boolean;
  sendInitialEvents?: boolean;
  /** Undefined when not given; 0 for "0" (any). */
  resourceVersion?: number;
  resourceVersionMatch?: 'NotOlderThan' | 'Exact';
  limit: number;
  continue?: ContinueToken;
  timeoutSeconds?: number;
}

export interface ContinueToken {
  rv: number;
  /** Resume after this key (namespace/name). */
  after: string;
}

function boolParam(q: URLSearchParams, name: string): boolean | undefined {
  const v = q.get(name);
  if (v === null) return undefined;
  if (v === 'true' || v === '1') return true;
  if (v === 'false' || v === '0' || v === '') return false;
  throw newBadRequest(`invalid value for ${name}: ${JSON.stringify(v)}: must be true or false`);
}

function intParam(q: URLSearchParams, name: string): number | undefined {
  const v = q.get(name);
  if (v === null || v === '') return undefined;
  if (!/^-?\d+$/.test(v)) throw newBadRequest(`invalid value for ${name}: ${JSON.stringify(v)}: must be an integer`);
  return Number(v);
}

export function encodeContinue(t: ContinueToken): string {
  return Buffer.from(JSON.stringify({ v: 'meta.k8s.io/v1', rv: t.rv, start: t.after + '\u0000' })).toString('base64url');
}

export function decodeContinue(s: string): ContinueToken {
  let parsed: { v?: unknown; rv?: unknown; start?: unknown };
  try {
    const json = Buffer.from(s, 'base64url').toString('utf8');
    parsed = JSON.parse(json) as typeof parsed;
  } catch {
    throw newBadRequest('invalid continue token: continue key is not valid: it is not base64url-encoded JSON; pass the metadata.continue value of the previous page unchanged');
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed) || parsed.v !== 'meta.k8s.io/v1' || typeof parsed.rv !== 'number' || !Number.isInteger(parsed.rv) || parsed.rv <= 0 || typeof parsed.start !== 'string' || !parsed.start.endsWith('\u0000')) {
    throw newBadRequest('invalid continue token: continue key is not valid: it was not issued by this server; pass the metadata.continue value of the previous page unchanged');
  }
  return { rv: parsed.rv, after: parsed.start.slice(0, -1) };
}

export function parseListOptions(q: URLSearchParams): ListOptions {
  const labelSelector = parseLabelSelector(q.get('labelSelector') ?? '');
  const fieldSelector = parseFieldSelector(q.get('fieldSelector') ?? '', SUPPORTED_FIELDS);
  // As RequestInfoFactory decides: any value but "0" or "false" asks for a watch.
  const w = q.get('watch');
  const watch = w !== null && w !== '0' && w.toLowerCase() !== 'false';
  const allowWatchBookmarks = boolParam(q, 'allowWatchBookmarks') ?? false;
  const sendInitialEvents = boolParam(q, 'sendInitialEvents');
  const rvText = q.get('resourceVersion');
  const rvMatch = q.get('resourceVersionMatch') || undefined;
  const limit = intParam(q, 'limit') ?? 0;
  const timeoutSeconds = intParam(q, 'timeoutSeconds');
  const contText = q.get('continue') || undefined;

  let resourceVersion: number | undefined;
  if (rvText !== null && rvText !== '') {
    if (!/^\d+$/.test(rvText)) {
      throw newInvalid({ group: 'meta.k8s.io', kind: 'ListOptions' }, '', [{ field: 'resourceVersion', message: `Invalid value: ${JSON.stringify(rvText)}: must be a resourceVersion this server returned (a non-negative integer)` }]);
    }
    resourceVersion = Number(rvText);
  }

  const causes: { field: string; message: string }[] = [];
  if (limit < 0) causes.push({ field: 'limit', message: `Invalid value: ${limit}: must be greater than or equal to 0` });
  if (timeoutSeconds !== undefined && timeoutSeconds < 0) causes.push({ field: 'timeoutSeconds', message: `Invalid value: ${timeoutSeconds}: must be greater than or equal to 0` });
  if (rvMatch !== undefined) {
    if (rvMatch !== 'NotOlderThan' && rvMatch !== 'Exact') {
      causes.push({ field: 'resourceVersionMatch', message: `Unsupported value: ${JSON.stringify(rvMatch)}: supported values: "Exact", "NotOlderThan", ""` });
    } else if (resourceVersion === undefined && !(watch && sendInitialEvents !== undefined)) {
      causes.push({ field: 'resourceVersionMatch', message: 'Forbidden: resourceVersionMatch is forbidden unless resourceVersion is provided' });
    } else if (rvMatch === 'Exact' && resourceVersion === 0) {
      causes.push({ field: 'resourceVersionMatch', message: 'Forbidden: resourceVersionMatch "exact" is forbidden for resourceVersion "0"' });
    }
    if (watch && sendInitialEvents === undefined) causes.push({ field: 'resourceVersionMatch', message: 'Forbidden: resourceVersionMatch is forbidden for watch unless sendInitialEvents is provided' });
  }
  if (contText !== undefined && resourceVersion !== undefined && resourceVersion !== 0) {
    throw newBadRequest('specifying resource version is not allowed when using continue');
  }
  if (contText !== undefined && rvMatch !== undefined) {
    causes.push({ field: 'resourceVersionMatch', message: 'Forbidden: resourceVersionMatch is forbidden when continue is provided' });
  }
  if (sendInitialEvents !== undefined) {
    if (!watch) causes.push({ field: 'sendInitialEvents', message: 'Forbidden: sendInitialEvents is forbidden for list' });
    else {
      if (rvMatch !== 'NotOlderThan') causes.push({ field: 'resourceVersionMatch', message: `Forbidden: sendInitialEvents requires setting resourceVersionMatch to NotOlderThan` });
      if (sendInitialEvents && !allowWatchBookmarks) causes.push({ field: 'allowWatchBookmarks', message: 'Forbidden: sendInitialEvents requires setting allowWatchBookmarks to true' });
    }
  }
  if (causes.length) throw newInvalid({ group: 'meta.k8s.io', kind: 'ListOptions' }, '', causes);

  return {
    labelSelector,
    fieldSelector,
    watch,
    allowWatchBookmarks,
    ...(sendInitialEvents !== undefined ? { sendInitialEvents } : {}),
    ...(resourceVersion !== undefined ? { resourceVersion } : {}),
    ...(rvMatch ? { resourceVersionMatch: rvMatch as 'NotOlderThan' | 'Exact' } : {}),
    limit,
    ...(contText ? { continue: decodeContinue(contText) } : {}),
    ...(timeoutSeconds !== undefined ? { timeoutSeconds } : {}),
  };
}

import { describe, expect, it } from 'vitest';
import { StatusError } from '../status/status-error.ts';
import { expectClientError, fc, requestText } from '../testing/fuzz.ts';
import { parseRequestInfo, requestUrl } from './request-info.ts';
import type { RequestInfo } from './request-info.ts';

const BASE = 'https://api.example:6443';
const G = 'custom.example.com';

function resource(fields: Partial<RequestInfo>): RequestInfo {
  return {
    isResourceRequest: true,
    path: '',
    verb: '',
    apiPrefix: 'apis',
    apiGroup: G,
    apiVersion: 'v1',
    namespace: '',
    resource: '',
    subresource: '',
    name: '',
    parts: [],
    fieldSelector: '',
    labelSelector: '',
    ...fields,
  };
}

function nonResource(method: string, path: string): RequestInfo {
  return {
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
}

const P = `/apis/${G}/v1`;

describe('parseRequestInfo: resource requests', () => {
  it.each<{ name: string; method: string; url: string; want: Partial<RequestInfo> }>([
    { name: 'namespaced list', method: 'GET', url: `${P}/namespaces/ns/things`, want: { verb: 'list', namespace: 'ns', resource: 'things', parts: ['things'] } },
    { name: 'namespaced get', method: 'GET', url: `${P}/namespaces/ns/things/a`, want: { verb: 'get', namespace: 'ns', resource: 'things', name: 'a', parts: ['things', 'a'] } },
    { name: 'HEAD is get', method: 'HEAD', url: `${P}/namespaces/ns/things/a`, want: { verb: 'get', namespace: 'ns', resource: 'things', name: 'a', parts: ['things', 'a'] } },
    { name: 'HEAD without name is list', method: 'HEAD', url: `${P}/things`, want: { verb: 'list', resource: 'things', parts: ['things'] } },
    {
      name: 'subresource, extra parts kept',
      method: 'GET',
      url: `${P}/namespaces/ns/things/a/status/more`,
      want: { verb: 'get', namespace: 'ns', resource: 'things', name: 'a', subresource: 'status', parts: ['things', 'a', 'status', 'more'] },
    },
    { name: 'cluster-wide list', method: 'GET', url: `${P}/things`, want: { verb: 'list', resource: 'things', parts: ['things'] } },
    { name: 'watch=true', method: 'GET', url: `${P}/things?watch=true`, want: { verb: 'watch', resource: 'things', parts: ['things'] } },
    { name: 'watch=1', method: 'GET', url: `${P}/namespaces/ns/things?watch=1`, want: { verb: 'watch', namespace: 'ns', resource: 'things', parts: ['things'] } },
    { name: 'watch=0', method: 'GET', url: `${P}/things?watch=0`, want: { verb: 'list', resource: 'things', parts: ['things'] } },
    { name: 'watch=FALSE', method: 'GET', url: `${P}/things?watch=FALSE`, want: { verb: 'list', resource: 'things', parts: ['things'] } },
    { name: 'watch with an empty value is true', method: 'GET', url: `${P}/things?watch=`, want: { verb: 'watch', resource: 'things', parts: ['things'] } },
    { name: 'watch on a named get stays get', method: 'GET', url: `${P}/things/a?watch=true`, want: { verb: 'get', resource: 'things', name: 'a', parts: ['things', 'a'] } },
    {
      name: 'deprecated watch path, selectors not reported',
      method: 'GET',
      url: `${P}/watch/namespaces/ns/things?labelSelector=a%3Db`,
      want: { verb: 'watch', namespace: 'ns', resource: 'things', parts: ['things'] },
    },
    { name: 'deprecated watch path with name', method: 'GET', url: `${P}/watch/things/a`, want: { verb: 'watch', resource: 'things', name: 'a', parts: ['things', 'a'] } },
    {
      name: 'deprecated proxy path has no subresource',
      method: 'GET',
      url: `${P}/proxy/namespaces/ns/things/a/sub/path`,
      want: { verb: 'proxy', namespace: 'ns', resource: 'things', name: 'a', parts: ['things', 'a', 'sub', 'path'] },
    },
    { name: 'POST is create', method: 'POST', url: `${P}/namespaces/ns/things`, want: { verb: 'create', namespace: 'ns', resource: 'things', parts: ['things'] } },
    { name: 'PUT is update', method: 'PUT', url: `${P}/namespaces/ns/things/a`, want: { verb: 'update', namespace: 'ns', resource: 'things', name: 'a', parts: ['things', 'a'] } },
    {
      name: 'PATCH is patch',
      method: 'PATCH',
      url: `${P}/namespaces/ns/things/a/status`,
      want: { verb: 'patch', namespace: 'ns', resource: 'things', name: 'a', subresource: 'status', parts: ['things', 'a', 'status'] },
    },
    { name: 'DELETE with name is delete', method: 'DELETE', url: `${P}/things/a`, want: { verb: 'delete', resource: 'things', name: 'a', parts: ['things', 'a'] } },
    {
      name: 'DELETE without name is deletecollection, selectors reported',
      method: 'DELETE',
      url: `${P}/namespaces/ns/things?labelSelector=a%3Db&fieldSelector=metadata.name%3Dx`,
      want: { verb: 'deletecollection', namespace: 'ns', resource: 'things', parts: ['things'], labelSelector: 'a=b', fieldSelector: 'metadata.name=x' },
    },
    { name: 'other methods have no verb', method: 'OPTIONS', url: `${P}/things`, want: { verb: '', resource: 'things', parts: ['things'] } },
    { name: 'namespaces list', method: 'GET', url: `${P}/namespaces`, want: { verb: 'list', resource: 'namespaces', parts: ['namespaces'] } },
    { name: 'the namespace object itself', method: 'GET', url: `${P}/namespaces/ns`, want: { verb: 'get', namespace: 'ns', resource: 'namespaces', name: 'ns', parts: ['namespaces', 'ns'] } },
    {
      name: 'namespace status subresource',
      method: 'PUT',
      url: `${P}/namespaces/ns/status`,
      want: { verb: 'update', namespace: 'ns', resource: 'namespaces', name: 'ns', subresource: 'status', parts: ['namespaces', 'ns', 'status'] },
    },
    {
      name: 'namespace finalize subresource',
      method: 'PUT',
      url: `${P}/namespaces/ns/finalize`,
      want: { verb: 'update', namespace: 'ns', resource: 'namespaces', name: 'ns', subresource: 'finalize', parts: ['namespaces', 'ns', 'finalize'] },
    },
    {
      name: 'fieldSelector on metadata.name names the object',
      method: 'GET',
      url: `${P}/namespaces/ns/things?fieldSelector=metadata.name%3Dfoo&labelSelector=x`,
      want: { verb: 'list', namespace: 'ns', resource: 'things', name: 'foo', parts: ['things'], fieldSelector: 'metadata.name=foo', labelSelector: 'x' },
    },
    {
      name: 'fieldSelector on metadata.name with watch',
      method: 'GET',
      url: `${P}/things?watch=true&fieldSelector=metadata.name%3D%3Dfoo`,
      want: { verb: 'watch', resource: 'things', name: 'foo', parts: ['things'], fieldSelector: 'metadata.name==foo' },
    },
    {
      name: 'not-equals on metadata.name names nothing',
      method: 'GET',
      url: `${P}/things?fieldSelector=metadata.name!%3Dfoo`,
      want: { verb: 'list', resource: 'things', parts: ['things'], fieldSelector: 'metadata.name!=foo' },
    },
    {
      name: 'unparsable fieldSelector names nothing',
      method: 'GET',
      url: `${P}/things?fieldSelector=metadata.name%3Dfoo,bar&watch=true`,
      want: { verb: 'watch', resource: 'things', parts: ['things'], fieldSelector: 'metadata.name=foo,bar' },
    },
    {
      name: 'unparsable labelSelector drops the name too',
      method: 'GET',
      url: `${P}/things?fieldSelector=metadata.name%3Dfoo&labelSelector=-x`,
      want: { verb: 'list', resource: 'things', parts: ['things'], fieldSelector: 'metadata.name=foo', labelSelector: '-x' },
    },
    {
      name: 'unparsable limit drops the name too',
      method: 'GET',
      url: `${P}/things?fieldSelector=metadata.name%3Dfoo&limit=ten`,
      want: { verb: 'list', resource: 'things', parts: ['things'], fieldSelector: 'metadata.name=foo' },
    },
    {
      name: 'a name that is not a path segment is not used',
      method: 'GET',
      url: `${P}/things?fieldSelector=metadata.name%3D..`,
      want: { verb: 'list', resource: 'things', parts: ['things'], fieldSelector: 'metadata.name=..' },
    },
    {
      name: 'first of repeated selector parameters',
      method: 'GET',
      url: `${P}/things?fieldSelector=metadata.name%3Da&fieldSelector=metadata.name%3Db&labelSelector=x&labelSelector=y`,
      want: { verb: 'list', resource: 'things', name: 'a', parts: ['things'], fieldSelector: 'metadata.name=a', labelSelector: 'x' },
    },
    {
      name: 'selectors not reported for a named get',
      method: 'GET',
      url: `${P}/things/a?fieldSelector=metadata.name%3Da&labelSelector=x`,
      want: { verb: 'get', resource: 'things', name: 'a', parts: ['things', 'a'] },
    },
    {
      name: 'percent-decoded path; %2F splits like a slash',
      method: 'GET',
      url: `${P}/namespaces/n%20s/things/a%2Fb`,
      want: { path: `${P}/namespaces/n s/things/a/b`, verb: 'get', namespace: 'n s', resource: 'things', name: 'a', subresource: 'b', parts: ['things', 'a', 'b'] },
    },
    { name: 'trailing slash ignored', method: 'GET', url: `${P}/things/`, want: { path: `${P}/things/`, verb: 'list', resource: 'things', parts: ['things'] } },
  ])('$name', ({ method, url, want }) => {
    const u = new URL(url, BASE);
    expect(parseRequestInfo(method, u)).toEqual(resource({ path: u.pathname, ...want }));
  });
});

describe('parseRequestInfo: non-resource requests', () => {
  it.each<{ name: string; method: string; path: string }>([
    { name: 'root', method: 'GET', path: '/' },
    { name: 'healthz', method: 'GET', path: '/healthz' },
    { name: 'readyz check', method: 'GET', path: '/readyz/ping' },
    { name: 'metrics', method: 'GET', path: '/metrics' },
    { name: 'openapi v2', method: 'GET', path: '/openapi/v2' },
    { name: 'openapi v3 group', method: 'GET', path: `/openapi/v3/apis/${G}/v1` },
    { name: 'apis discovery', method: 'GET', path: '/apis' },
    { name: 'group discovery', method: 'GET', path: `/apis/${G}` },
    { name: 'version discovery', method: 'GET', path: `/apis/${G}/v1` },
    { name: 'version discovery with trailing slash', method: 'GET', path: `/apis/${G}/v1/` },
    { name: 'legacy core API is not served here', method: 'GET', path: '/api/v1/namespaces/ns/pods' },
    { name: 'method lower-cased', method: 'POST', path: '/version' },
  ])('$name', ({ method, path }) => {
    expect(parseRequestInfo(method, new URL(path, BASE))).toEqual(nonResource(method, path));
  });
});

describe('parseRequestInfo: errors', () => {
  it.each<{ name: string; url: string; code: number; message: string }>([
    {
      name: 'watch with nothing after it',
      url: `${P}/watch`,
      code: 400,
      message: `unable to determine kind and namespace from url, ${P}/watch`,
    },
    {
      name: 'proxy with nothing after it',
      url: `${P}/proxy/?x=1`,
      code: 400,
      message: `unable to determine kind and namespace from url, ${P}/proxy/?x=1`,
    },
    { name: 'malformed percent escape', url: `${P}/things/%zz`, code: 400, message: 'invalid URL escape "%zz"' },
    { name: 'truncated percent escape', url: `${P}/things/a%4`, code: 400, message: 'invalid URL escape "%4"' },
  ])('$name', ({ url, code, message }) => {
    let thrown: unknown;
    try {
      parseRequestInfo('GET', new URL(url, BASE));
    } catch (e) {
      thrown = e;
    }
    expect(thrown).toBeInstanceOf(StatusError);
    expect((thrown as StatusError).status).toMatchObject({ code, message });
  });
});

describe('parseRequestInfo: fuzzed', () => {
  const METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS', 'CONNECT', 'TRACE'];
  const part = fc.oneof(requestText(12), fc.constantFrom('namespaces', 'ns', 'customresources', 'one', 'watch', 'proxy', 'status', 'finalize', ''));
  // Often under a group version, where resource paths begin.
  const segments = fc.tuple(fc.constantFrom([], ['apis'], ['apis', G], ['apis', G, 'v1']), fc.array(part, { maxLength: 6 })).map(([head, rest]) => [...head, ...rest]);
  const query = fc.array(fc.tuple(fc.constantFrom('watch', 'fieldSelector', 'labelSelector', 'timeoutSeconds', 'limit', 'resourceVersion', 'x'), requestText(20)), { maxLength: 4 });

  it('returns a RequestInfo or throws a StatusError below 500, for any method and target', () => {
    fc.assert(
      fc.property(fc.constantFrom(...METHODS), segments, query, fc.boolean(), (method, parts, q, trailing) => {
        const target = `/${parts.join('/')}${trailing ? '/' : ''}?${q.map(([k, v]) => `${k}=${encodeURIComponent(v)}`).join('&')}`;
        expectClientError(() => parseRequestInfo(method, requestUrl(target)));
      }),
      { numRuns: 3000 },
    );
  });

  it('any raw target text', () => {
    fc.assert(fc.property(requestText(80), (raw) => expectClientError(() => parseRequestInfo('GET', requestUrl(raw)))), { numRuns: 3000 });
  });
});

describe('requestUrl: dot segments are refused, not resolved', () => {
  it.each([
    { name: 'the crafted approve path that reached the webhook', target: '/apis/custom.example.com/v1/namespaces/shop/customresources/x/approve/..%2f..%2f..%2f..%2f..%2f..%2f..%2f..%2fadmission%2fcustomresources', refused: true },
    { name: 'literal ..', target: '/apis/custom.example.com/v1/../../admission/customresources', refused: true },
    { name: 'percent-encoded dots', target: '/apis/custom.example.com/v1/%2e%2e/x', refused: true },
    { name: 'a single dot', target: '/apis/./custom.example.com/v1', refused: true },
    { name: 'a backslash form', target: '/apis/custom.example.com/v1/x/..%5c..%5cadmission', refused: true },
    { name: 'dots inside a name are fine', target: '/apis/custom.example.com/v1/namespaces/shop/customresources/a..b', refused: false },
    { name: 'dots in the query are fine', target: '/apis/custom.example.com/v1/customresources?labelSelector=a%3D..', refused: false },
  ])('$name', ({ target, refused }) => {
    if (refused) expect(() => requestUrl(target)).toThrow(/"\." or "\.\." segment/);
    else expect(requestUrl(target).pathname).toBe(target.split('?')[0]);
  });
});

import { describe, expect, it } from 'vitest';
import { StatusError } from '../status/status-error.ts';
import { expectClientError, fc, requestText } from '../testing/fuzz.ts';
import { negotiate, OBJECT_TARGETS, parseAccept, PLAIN_TARGETS, type Target } from './negotiate.ts';

// What the clients send, verbatim.
const KUBECTL_GET = 'application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json';
const METADATA_CLIENT =
  'application/vnd.kubernetes.protobuf;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1,application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1,application/json';
const DISCOVERY_V2 = 'application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList,application/json';

const DISCOVERY_TARGETS: ReadonlySet<Target['kind']> = new Set(['json', 'discovery']);
const WATCH_TARGETS: ReadonlySet<Target['kind']> = new Set(['json', 'table']);
const JSON_ONLY: ReadonlySet<Target['kind']> = new Set(['json']);

describe('parseAccept', () => {
  it.each<{ name: string; header: string | undefined; want: { type: string; params: Record<string, string>; q: number }[] }>([
    { name: 'missing header means anything', header: undefined, want: [{ type: '*/*', params: {}, q: 1 }] },
    { name: 'blank header means anything', header: '  ', want: [{ type: '*/*', params: {}, q: 1 }] },
    { name: 'one type', header: 'application/json', want: [{ type: 'application/json', params: {}, q: 1 }] },
    {
      name: 'sorted by q, highest first',
      header: 'application/yaml;q=0.5, application/json;q=0.9, */*;q=0.1',
      want: [
        { type: 'application/json', params: {}, q: 0.9 },
        { type: 'application/yaml', params: {}, q: 0.5 },
        { type: '*/*', params: {}, q: 0.1 },
      ],
    },
    {
      name: 'equal q keeps the client order',
      header: 'text/plain;q=0.5,application/yaml,application/json,text/html;q=0.5',
      want: [
        { type: 'application/yaml', params: {}, q: 1 },
        { type: 'application/json', params: {}, q: 1 },
        { type: 'text/plain', params: {}, q: 0.5 },
        { type: 'text/html', params: {}, q: 0.5 },
      ],
    },
    { name: 'q=0 and unparseable q are dropped', header: 'application/yaml;q=0,application/xml;q=high,application/json', want: [{ type: 'application/json', params: {}, q: 1 }] },
    {
      name: 'type and parameter names lower-cased, values kept, quotes and spaces stripped',
      header: ' Application/JSON ; AS = Table ; v="v1" ; G=meta.k8s.io ',
      want: [{ type: 'application/json', params: { as: 'Table', v: 'v1', g: 'meta.k8s.io' }, q: 1 }],
    },
    { name: 'empty parts and parameters without = are skipped', header: ',application/json;charset;;x=1,,', want: [{ type: 'application/json', params: { x: '1' }, q: 1 }] },
  ])('$name', ({ header, want }) => {
    expect(parseAccept(header)).toEqual(want);
  });
});

describe('negotiate', () => {
  it.each<{ name: string; accept: string | undefined; allowed: ReadonlySet<Target['kind']>; want: Target }>([
    { name: 'kubectl get: Table v1', accept: KUBECTL_GET, allowed: OBJECT_TARGETS, want: { kind: 'table', version: 'v1' } },
    { name: 'kubectl get on a watch: Table v1', accept: KUBECTL_GET, allowed: WATCH_TARGETS, want: { kind: 'table', version: 'v1' } },
    { name: 'kubectl get where no Table is served: JSON', accept: KUBECTL_GET, allowed: PLAIN_TARGETS, want: { kind: 'json' } },
    { name: 'old kubectl: Table v1beta1', accept: 'application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json', allowed: OBJECT_TARGETS, want: { kind: 'table', version: 'v1beta1' } },
    { name: 'metadata client: protobuf skipped, PartialObjectMetadataList v1', accept: METADATA_CLIENT, allowed: OBJECT_TARGETS, want: { kind: 'partial', version: 'v1' } },
    { name: 'metadata client on a watch: JSON', accept: METADATA_CLIENT, allowed: WATCH_TARGETS, want: { kind: 'json' } },
    { name: 'PartialObjectMetadata v1beta1', accept: 'application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1beta1', allowed: OBJECT_TARGETS, want: { kind: 'partial', version: 'v1beta1' } },
    { name: 'discovery v2', accept: DISCOVERY_V2, allowed: DISCOVERY_TARGETS, want: { kind: 'discovery', version: 'v2' } },
    { name: 'discovery v2 asked where only JSON is served', accept: DISCOVERY_V2, allowed: JSON_ONLY, want: { kind: 'json' } },
    { name: 'discovery v2beta1 only falls back to JSON', accept: 'application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList,application/json', allowed: DISCOVERY_TARGETS, want: { kind: 'json' } },
    { name: 'plain kubectl discovery preference by q', accept: 'application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList;q=0.5,application/json;q=0.9', allowed: DISCOVERY_TARGETS, want: { kind: 'json' } },
    { name: '*/*', accept: '*/*', allowed: OBJECT_TARGETS, want: { kind: 'json' } },
    { name: 'application/*', accept: 'application/*', allowed: PLAIN_TARGETS, want: { kind: 'json' } },
    { name: 'empty header', accept: '', allowed: OBJECT_TARGETS, want: { kind: 'json' } },
    { name: 'no header', accept: undefined, allowed: DISCOVERY_TARGETS, want: { kind: 'json' } },
    { name: 'yaml', accept: 'application/yaml', allowed: OBJECT_TARGETS, want: { kind: 'yaml' } },
    { name: 'yaml preferred by q over json', accept: 'application/json;q=0.8,application/yaml', allowed: PLAIN_TARGETS, want: { kind: 'yaml' } },
    { name: 'unknown types skipped before json', accept: 'text/html,application/xhtml+xml,application/json;q=0.9', allowed: PLAIN_TARGETS, want: { kind: 'json' } },
    { name: 'Table in the wrong group is skipped', accept: 'application/json;as=Table;v=v1;g=example.com,application/yaml', allowed: OBJECT_TARGETS, want: { kind: 'yaml' } },
    { name: 'Table of an unknown version is skipped', accept: 'application/json;as=Table;v=v2;g=meta.k8s.io,*/*', allowed: OBJECT_TARGETS, want: { kind: 'json' } },
  ])('$name', ({ accept, allowed, want }) => {
    expect(negotiate(accept, allowed)).toEqual(want);
  });

  it.each<{ name: string; accept: string; allowed: ReadonlySet<Target['kind']>; message: string }>([
    { name: 'protobuf only', accept: 'application/vnd.kubernetes.protobuf', allowed: OBJECT_TARGETS, message: 'only the following media types are accepted: application/json, application/yaml' },
    { name: 'Table only where Tables are not served', accept: 'application/json;as=Table;v=v1;g=meta.k8s.io', allowed: PLAIN_TARGETS, message: 'only the following media types are accepted: application/json, application/yaml' },
    { name: 'yaml where only JSON is served', accept: 'application/yaml', allowed: JSON_ONLY, message: 'only the following media types are accepted: application/json' },
    { name: 'yaml on a watch', accept: 'application/yaml', allowed: WATCH_TARGETS, message: 'only the following media types are accepted: application/json' },
    { name: 'text/html', accept: 'text/html', allowed: DISCOVERY_TARGETS, message: 'only the following media types are accepted: application/json' },
    { name: 'everything at q=0', accept: 'application/json;q=0,*/*;q=0', allowed: OBJECT_TARGETS, message: 'only the following media types are accepted: application/json, application/yaml' },
    { name: 'JSON asked as an unknown kind', accept: 'application/json;as=Scale;g=autoscaling;v=v1', allowed: OBJECT_TARGETS, message: 'only the following media types are accepted: application/json, application/yaml' },
  ])('406 for $name', ({ accept, allowed, message }) => {
    let err: unknown;
    try {
      negotiate(accept, allowed);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(StatusError);
    expect((err as StatusError).code).toBe(406);
    expect((err as StatusError).status).toMatchObject({ reason: 'NotAcceptable', message });
  });
});

describe('negotiate: fuzzed', () => {
  const piece = fc.oneof(requestText(12), fc.constantFrom('application/json', 'application/yaml', '*/*', 'application/*', 'text/html', ';', ',', '=', 'as=Table', 'g=meta.k8s.io', 'v=v1', 'q=0', 'q=0.5', 'q=x', '__proto__=1', 'constructor=2', '"'));
  it('chooses a representation or throws 406, whatever the Accept header', () => {
    fc.assert(
      fc.property(fc.array(piece, { maxLength: 10 }), fc.constantFrom(OBJECT_TARGETS, PLAIN_TARGETS, new Set(['json', 'table'] as const)), (parts, allowed) => {
        expectClientError(() => negotiate(parts.join(''), allowed));
      }),
      { numRuns: 3000 },
    );
  });
});

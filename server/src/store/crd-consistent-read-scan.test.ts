// The proof's metadata pages are scanned for each item's namespace, name and
// resourceVersion instead of parsed whole (issue 23: what a proof of
// thousands of objects costs in memory). The scan must agree with JSON.parse
// on every answer laid out as kube-apiserver lays it out (Go writes a
// struct's fields in their declared order; JSON.stringify of objects built
// in that order writes the same text), and give up (undefined: parsed as
// JSON) on anything else.
import { describe, expect, it } from 'vitest';
import { scanMetadataList } from './crd-consistent-read.ts';

/** An item as kube-apiserver encodes a PartialObjectMetadata: kind, apiVersion, then ObjectMeta in its field order. */
function item(namespace: string, name: string, rv: string, extra: { generateName?: string; labels?: Record<string, string>; annotations?: Record<string, string> } = {}) {
  return {
    kind: 'PartialObjectMetadata',
    apiVersion: 'meta.k8s.io/v1',
    metadata: {
      name,
      ...(extra.generateName ? { generateName: extra.generateName } : {}),
      namespace,
      uid: '6f1c2b1e-0000-4000-8000-000000000000',
      resourceVersion: rv,
      generation: 1,
      creationTimestamp: '2026-12-08T00:00:00Z',
      ...(extra.labels ? { labels: extra.labels } : {}),
      ...(extra.annotations ? { annotations: extra.annotations } : {}),
      finalizers: ['custom.example.com/history'],
      managedFields: [{ manager: 'kubectl-custom', operation: 'Update', apiVersion: 'example.com/v1', time: '2026-12-08T00:00:00Z', fieldsType: 'FieldsV1', fieldsV1: { 'f:status': { 'f:history': {}, 'f:state': {} } }, subresource: 'status' }],
    },
  };
}

const list = (rv: string, items: unknown[], more: { continue?: string; remainingItemCount?: number } = {}) =>
  JSON.stringify({ kind: 'PartialObjectMetadataList', apiVersion: 'meta.k8s.io/v1', metadata: { resourceVersion: rv, ...more }, items }) + '\n';

/** What the proof reads of a page: parsed whole. */
function parsed(text: string) {
  const page = JSON.parse(text) as { metadata: { resourceVersion: string; continue?: string }; items: { metadata: { namespace: string; name: string; resourceVersion: string } }[] | null };
  return {
    metadata: { resourceVersion: page.metadata.resourceVersion, ...(page.metadata.continue ? { continue: page.metadata.continue } : {}) },
    items: (page.items ?? []).map((i) => ({ metadata: { name: i.metadata.name, namespace: i.metadata.namespace, resourceVersion: i.metadata.resourceVersion } })),
  };
}

describe('scanMetadataList', () => {
  it.each([
    ['a page with a continue token and a count of the rest', list('5000', [item('shop', 'a', '10'), item('shop', 'b', '4999')], { continue: 'eyJ2IjoibWV0YS5rOHMuaW8vdjEiLCJydiI6NTAwMCwic3RhcnQiOiJiXHUwMDAwIn0', remainingItemCount: 3 })],
    ['the last page', list('5000', [item('bench-spread-1', 'obj-99', '77')])],
    ['an empty scope', list('12', [])],
    ['generateName before the namespace', list('12', [item('shop', 'gen-x7k2p', '11', { generateName: 'gen-' })])],
    [
      'annotations that hold what an item\'s opening looks like, quotes and backslashes',
      list('12', [
        item('shop', 'tricky', '11', { annotations: { trap: '{"kind":"PartialObjectMetadata","apiVersion":"meta.k8s.io/v1","metadata":{"name":"ghost","namespace":"shop","resourceVersion":"1"', slash: 'a\\"b\\\\', 'kubectl.kubernetes.io/last-applied-configuration': JSON.stringify(item('shop', 'tricky', '1')) }, labels: { team: 'x' } }),
        item('shop', 'u', '12'),
      ]),
    ],
  ])('%s: as JSON.parse reads it', (_name, text) => {
    expect(scanMetadataList(text)).toEqual(parsed(text));
  });

  it('gives up on a layout it does not know (then the page is parsed as JSON)', () => {
    // resourceVersion before the namespace: not how Go writes ObjectMeta.
    const odd = JSON.stringify({ kind: 'PartialObjectMetadataList', apiVersion: 'meta.k8s.io/v1', metadata: { resourceVersion: '9' }, items: [{ kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: { name: 'a', resourceVersion: '3', namespace: 'shop' } }] });
    expect(scanMetadataList(odd)).toBeUndefined();
    expect(scanMetadataList(JSON.stringify({ metadata: { resourceVersion: '9' }, items: [{ metadata: { name: 'a', namespace: 'shop', resourceVersion: '3' } }] }))).toBeUndefined();
    // Items without their kind and apiVersion: none found, yet the list is not empty.
    expect(scanMetadataList(JSON.stringify({ kind: 'PartialObjectMetadataList', apiVersion: 'meta.k8s.io/v1', metadata: { resourceVersion: '9' }, items: [{ metadata: { name: 'a', namespace: 'shop', resourceVersion: '3' } }] }))).toBeUndefined();
  });
});

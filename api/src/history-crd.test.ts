// A trail entry is kept in two places, the object's status.history window
// (manifests/base/crd.yaml) and the archived StateHistory segments
// (manifests/base/crd-statehistories.yaml). kube-apiserver prunes fields a
// schema does not name, and an entry's hash covers every field: a field one
// schema has and the other lacks would be dropped when the entry is archived,
// and the chain would break there. The two must be the same.
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';

type Schema = { properties: Record<string, Schema>; items: Schema };
const schemaOf = (file: string) => (parse(readFileSync(new URL(`../../manifests/base/${file}`, import.meta.url), 'utf8')) as { spec: { versions: { schema: { openAPIV3Schema: Schema } }[] } }).spec.versions[0]!.schema.openAPIV3Schema;

describe('the schema of a trail entry', () => {
  it('is the same in the window (customresources) and in the archive (statehistories)', () => {
    const window = schemaOf('crd.yaml').properties['status']!.properties['history']!.items;
    const archive = schemaOf('crd-statehistories.yaml').properties['spec']!.properties['entries']!.items;
    expect(Object.keys(archive.properties).sort()).toEqual(Object.keys(window.properties).sort());
    expect(archive).toEqual(window);
  });
});

import { describe, expect, it } from 'vitest';
import type { StoredObject, StoredStatus } from '../../../../api/src/types.ts';
import { parseFieldSelector } from '../../selectors/field-selector.ts';
import { parseLabelSelector } from '../../selectors/label-selector.ts';
import type { CacheEvent } from '../../store/crd-watch-cache.ts';
import { SUPPORTED_FIELDS } from './list-options.ts';
import { fieldsOf, filterEvent, matches } from './selection.ts';

const NOW = new Date('2025-06-01T12:00:00Z');

function stored(name: string, opts: { namespace?: string; labels?: Record<string, string>; state?: string; rv?: number } = {}): StoredObject {
  const status: StoredStatus | undefined = opts.state ? { state: opts.state, stateSince: '2025-06-01T11:00:00Z' } : undefined;
  return {
    apiVersion: 'example.com/v1',
    kind: 'CustomResource',
    metadata: {
      name,
      namespace: opts.namespace ?? 'shop',
      resourceVersion: String(opts.rv ?? 1),
      creationTimestamp: '2025-06-01T10:00:00Z',
      ...(opts.labels ? { labels: opts.labels } : {}),
    },
    spec: { name: name.toUpperCase(), states: ['dev', 'staging', 'prod'] },
    ...(status ? { status } : {}),
  };
}

const sel = (label: string, field: string) => ({ labelSelector: parseLabelSelector(label), fieldSelector: parseFieldSelector(field, SUPPORTED_FIELDS) });

describe('fieldsOf', () => {
  it.each<{ name: string; obj: StoredObject; want: Record<string, string> }>([
    { name: 'never moved: first state', obj: stored('a'), want: { 'metadata.name': 'a', 'metadata.namespace': 'shop', 'status.state': 'dev' } },
    { name: 'moved', obj: stored('b', { namespace: 'ops', state: 'prod' }), want: { 'metadata.name': 'b', 'metadata.namespace': 'ops', 'status.state': 'prod' } },
    { name: 'invalid state is still its state', obj: stored('c', { state: 'qa' }), want: { 'metadata.name': 'c', 'metadata.namespace': 'shop', 'status.state': 'qa' } },
  ])('$name', ({ obj, want }) => {
    expect(fieldsOf(obj)).toEqual(want);
  });
});

describe('matches', () => {
  const web = stored('checkout', { labels: { tier: 'web', team: 'a' }, state: 'staging' });
  it.each<{ name: string; namespace: string | undefined; label: string; field: string; want: boolean }>([
    { name: 'no filter', namespace: undefined, label: '', field: '', want: true },
    { name: 'its namespace', namespace: 'shop', label: '', field: '', want: true },
    { name: 'another namespace', namespace: 'ops', label: '', field: '', want: false },
    { name: 'label equals', namespace: undefined, label: 'tier=web', field: '', want: true },
    { name: 'label differs', namespace: undefined, label: 'tier=db', field: '', want: false },
    { name: 'label exists and not-in', namespace: 'shop', label: 'team,tier notin (db)', field: '', want: true },
    { name: 'label absent required', namespace: undefined, label: 'owner', field: '', want: false },
    { name: 'state field', namespace: undefined, label: '', field: 'status.state=staging', want: true },
    { name: 'state field differs', namespace: undefined, label: '', field: 'status.state=dev', want: false },
    { name: 'name field', namespace: undefined, label: '', field: 'metadata.name=checkout', want: true },
    { name: 'namespace field not equal', namespace: undefined, label: '', field: 'metadata.namespace!=shop', want: false },
    { name: 'all of them', namespace: 'shop', label: 'tier=web', field: 'metadata.name=checkout,status.state!=prod', want: true },
    { name: 'label passes, field fails', namespace: 'shop', label: 'tier=web', field: 'status.state=prod', want: false },
  ])('$name', ({ namespace, label, field, want }) => {
    expect(matches(web, namespace, sel(label, field))).toBe(want);
  });

  it.each<{ name: string; obj: StoredObject; label: string; field: string; want: boolean }>([
    { name: 'a never-moved object is in its first state', obj: stored('a'), label: '', field: 'status.state=dev', want: true },
    { name: 'an object without labels and a label selector', obj: stored('a'), label: 'tier', field: '', want: false },
    { name: 'an object without labels and a negated selector', obj: stored('a'), label: '!tier', field: '', want: true },
    { name: 'an invalid state is matched as written', obj: stored('a', { state: 'qa' }), label: '', field: 'status.state=qa', want: true },
  ])('$name', ({ obj, label, field, want }) => {
    expect(matches(obj, undefined, sel(label, field))).toBe(want);
  });
});

describe('filterEvent', () => {
  const inStaging = sel('', 'status.state=staging');
  const dev = stored('checkout', { state: 'dev', rv: 10 });
  const staging = stored('checkout', { state: 'staging', rv: 11 });
  const prod = stored('checkout', { state: 'prod', rv: 12 });
  const ev = (type: CacheEvent['type'], object: StoredObject, prev?: StoredObject): CacheEvent => ({ type, object, rv: Number(object.metadata.resourceVersion), ...(prev ? { prev } : {}) });

  it.each<{ name: string; event: CacheEvent; namespace?: string; opts?: ReturnType<typeof sel>; want: 'ADDED' | 'MODIFIED' | 'DELETED' | undefined; state?: string }>([
    { name: 'added inside the selection', event: ev('ADDED', staging), want: 'ADDED', state: 'staging' },
    { name: 'added outside the selection', event: ev('ADDED', dev), want: undefined },
    { name: 'modified, inside before and after', event: ev('MODIFIED', { ...staging, metadata: { ...staging.metadata, labels: { x: 'y' } } }, staging), want: 'MODIFIED', state: 'staging' },
    { name: 'modified into the selection is ADDED', event: ev('MODIFIED', staging, dev), want: 'ADDED', state: 'staging' },
    { name: 'modified out of the selection is DELETED', event: ev('MODIFIED', prod, staging), want: 'DELETED' },
    { name: 'modified, outside before and after', event: ev('MODIFIED', prod, dev), want: undefined },
    { name: 'modified with no previous object, now inside, is ADDED', event: ev('MODIFIED', staging), want: 'ADDED', state: 'staging' },
    { name: 'modified with no previous object, outside', event: ev('MODIFIED', prod), want: undefined },
    { name: 'deleted, was inside', event: ev('DELETED', staging, staging), want: 'DELETED', state: 'staging' },
    { name: 'deleted, no previous object, inside', event: ev('DELETED', staging), want: 'DELETED', state: 'staging' },
    { name: 'deleted, outside', event: ev('DELETED', prod, prod), want: undefined },
    { name: 'no filter: added', event: ev('ADDED', dev), opts: sel('', ''), want: 'ADDED', state: 'dev' },
    { name: 'no filter: modified', event: ev('MODIFIED', staging, dev), opts: sel('', ''), want: 'MODIFIED', state: 'staging' },
    { name: 'no filter: deleted', event: ev('DELETED', prod, prod), opts: sel('', ''), want: 'DELETED', state: 'prod' },
    { name: 'another namespace is not seen', event: ev('MODIFIED', staging, dev), namespace: 'ops', opts: sel('', ''), want: undefined },
    { name: 'its namespace', event: ev('MODIFIED', staging, dev), namespace: 'shop', opts: sel('', ''), want: 'MODIFIED', state: 'staging' },
    {
      name: 'a label added brings it in',
      event: ev('MODIFIED', { ...dev, metadata: { ...dev.metadata, labels: { tier: 'web' } } }, dev),
      opts: sel('tier=web', ''),
      want: 'ADDED',
      state: 'dev',
    },
    {
      name: 'a label removed takes it out',
      event: ev('MODIFIED', dev, { ...dev, metadata: { ...dev.metadata, labels: { tier: 'web' } } }),
      opts: sel('tier=web', ''),
      want: 'DELETED',
    },
  ])('$name', ({ event, namespace, opts, want, state }) => {
    const got = filterEvent(event, namespace, opts ?? inStaging, NOW);
    if (want === undefined) {
      expect(got).toBeUndefined();
      return;
    }
    expect(got?.type).toBe(want);
    expect(got?.rv).toBe(event.rv);
    expect(got?.object).toMatchObject({ apiVersion: 'custom.example.com/v1', kind: 'CustomResource', metadata: { name: 'checkout', namespace: 'shop' } });
    if (state) expect(got?.object.status.state).toBe(state);
  });

  it('serves the object converted at the given time', () => {
    const got = filterEvent(ev('ADDED', staging), undefined, inStaging, NOW);
    expect(got?.object.status).toMatchObject({ state: 'staging', nextState: 'prod', secondsInState: 3600, valid: true });
  });
});

describe('an object leaving a watcher selection', () => {
  it('is sent as DELETED with the object as the watcher last saw it, at the event resourceVersion', () => {
    const prev = stored('a', { state: 'staging', rv: 11 });
    const object = stored('a', { state: 'prod', rv: 12 });
    const out = filterEvent({ type: 'MODIFIED', object, prev, rv: 12 }, undefined, sel('', 'status.state=staging'), NOW);
    expect(out?.type).toBe('DELETED');
    expect(out?.object.status.state).toBe('staging');
    expect(out?.object.metadata.resourceVersion).toBe('12');
  });
});

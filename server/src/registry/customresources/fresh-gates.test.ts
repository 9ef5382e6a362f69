import type { IncomingMessage, ServerResponse } from 'node:http';
import { describe, expect, it } from 'vitest';
import type { UserInfo } from '../../auth/user.ts';
import type { RequestInfo } from '../../request/request-info.ts';
import { GROUP_RESOURCE } from '../../../../api/src/names.ts';
import type { StoredObject } from '../../../../api/src/types.ts';
import { newNotFound } from '../../status/status-error.ts';
import { freshAll, withFreshGates, withFreshObject } from './fresh-gates.ts';
import type { SubresourceHandler } from './handlers.ts';

describe('withFreshGates', () => {
  it('awaits the consistent read before set-state, promote and approve decide, and not before describe-state or history', async () => {
    const log: string[] = [];
    const handler = (name: string, verbs: string[]): SubresourceHandler => ({ verbs, handle: async (_q, _s, info) => void log.push(`${name} ${info.verb}`) });
    const wrapped = withFreshGates(async () => void log.push('fresh'), { state: handler('state', ['get', 'update']), promote: handler('promote', ['create']), approve: handler('approve', ['create']), history: handler('history', ['get']) });
    const call = (name: string, verb: string) => wrapped[name]!.handle({} as IncomingMessage, {} as ServerResponse, { verb } as RequestInfo, {} as UserInfo, new URL('https://x/'));
    await call('state', 'get');
    await call('state', 'update');
    await call('promote', 'create');
    await call('approve', 'create');
    await call('history', 'get');
    expect(log).toEqual(['state get', 'fresh', 'state update', 'fresh', 'promote create', 'fresh', 'approve create', 'history get']);
    expect(wrapped['state']!.verbs).toEqual(['get', 'update']);
  });

  it('refuses the change when the read fails: the handler never runs', async () => {
    let ran = false;
    const wrapped = withFreshGates(freshAll({ fresh: async () => Promise.reject(new Error('kube-apiserver is not reachable')) }), { promote: { verbs: ['create'], handle: async () => void (ran = true) } });
    await expect(wrapped['promote']!.handle({} as IncomingMessage, {} as ServerResponse, { verb: 'create' } as RequestInfo, {} as UserInfo, new URL('https://x/'))).rejects.toThrow('not reachable');
    expect(ran).toBe(false);
  });
});

describe('withFreshObject', () => {
  const call = (h: Record<string, SubresourceHandler>, name: string, verb: string) => h[name]!.handle({} as IncomingMessage, {} as ServerResponse, { verb, namespace: 'shop', name: 'one' } as RequestInfo, {} as UserInfo, new URL('https://x/'));
  const at = (rv: string) => ({ metadata: { resourceVersion: rv } }) as unknown as StoredObject;

  it('describe-state and check: answered on the object a quorum read returns, with the gates read consistently first; the watch cache is not waited for', async () => {
    const log: string[] = [];
    const seen: (string | undefined)[] = [];
    const handle = (name: string): SubresourceHandler['handle'] => async (_q, _s, info, _u, _url, fresh) => {
      log.push(`${name} ${info.verb}`);
      seen.push(fresh?.metadata.resourceVersion);
    };
    const wrapped = withFreshObject(
      { get: async () => (log.push('quorum get'), at('42')) },
      { waitFor: async (rv) => (log.push(`wait ${rv}`), true) },
      { state: { verbs: ['get', 'update'], handle: handle('state') }, check: { verbs: ['create'], handle: handle('check') } },
      async () => void log.push('gates'),
    );
    await call(wrapped, 'state', 'get');
    await call(wrapped, 'state', 'update');
    await call(wrapped, 'check', 'create');
    expect(log).toEqual(['quorum get', 'gates', 'state get', 'state update', 'quorum get', 'gates', 'check create']);
    expect(seen).toEqual(['42', undefined, '42']);
  });

  it('describe-state: when the gates cannot be read, it is not answered on stale ones', async () => {
    let ran = false;
    const wrapped = withFreshObject({ get: async () => at('42') }, { waitFor: async () => true }, { state: { verbs: ['get'], handle: async () => void (ran = true) } }, freshAll({ fresh: async () => Promise.reject(new Error('kube-apiserver is not reachable')) }));
    await expect(call(wrapped, 'state', 'get')).rejects.toThrow('not reachable');
    expect(ran).toBe(false);
  });

  it('history waits for the cache to reach the resourceVersion a quorum read finds', async () => {
    const log: string[] = [];
    const wrapped = withFreshObject(
      { get: async () => (log.push('quorum get'), at('42')) },
      { waitFor: async (rv) => (log.push(`wait ${rv}`), true) },
      { history: { verbs: ['get'], handle: async () => void log.push('history') } },
    );
    await call(wrapped, 'history', 'get');
    expect(log).toEqual(['quorum get', 'wait 42', 'history']);
  });

  it('a gone object: describe-state is NotFound, its history (earlier lives, archived) is still served', async () => {
    let served = '';
    const wrapped = withFreshObject(
      { get: async () => Promise.reject(newNotFound(GROUP_RESOURCE, 'one')) },
      { waitFor: async () => true },
      { state: { verbs: ['get'], handle: async () => void (served = 'state') }, history: { verbs: ['get'], handle: async () => void (served = 'history') } },
    );
    await expect(call(wrapped, 'state', 'get')).rejects.toThrow('not found');
    expect(served).toBe('');
    await call(wrapped, 'history', 'get');
    expect(served).toBe('history');
  });
});

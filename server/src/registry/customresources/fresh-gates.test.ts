import type { IncomingMessage, ServerResponse } from 'node:http';
import { describe, expect, it } from 'vitest';
import type { UserInfo } from '../../auth/user.ts';
import type { RequestInfo } from '../../request/request-info.ts';
import { freshAll, withFreshGates } from './fresh-gates.ts';
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

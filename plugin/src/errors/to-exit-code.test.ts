import { describe, expect, it } from 'vitest';
import { ApiError, ConfigError, ConnectionError } from '../../../client/src/errors.ts';
import { BackendUnavailableError } from '../commands/shared/diagnose-backend.ts';
import { ExitError, UsageError } from './errors.ts';
import { describeError, toExitCode } from './to-exit-code.ts';

const invalid = (causes: { field: string; message: string }[], details: object = { name: 'cart', group: 'custom.example.com', kind: 'CustomResource' }) =>
  new ApiError(422, { kind: 'Status', reason: 'Invalid', code: 422, message: 'CustomResource.custom.example.com "cart" is invalid: …', details: { ...details, causes } }, '', '/apis/custom.example.com/v1/namespaces/shop/customresources/cart/promote');

describe('describeError', () => {
  it.each([
    {
      name: 'Invalid with one cause: on one line, as kubectl',
      err: invalid([{ field: 'status.stateSince', message: 'Forbidden: "dev" needs 1h of soak time' }]),
      want: 'The CustomResource "cart" is invalid: status.stateSince: Forbidden: "dev" needs 1h of soak time',
    },
    {
      name: 'Invalid with two causes: one per line',
      err: invalid([
        { field: 'status.stateSince', message: 'Forbidden: soak' },
        { field: 'reason', message: 'Required value' },
      ]),
      want: 'The CustomResource "cart" is invalid: \n* status.stateSince: Forbidden: soak\n* reason: Required value',
    },
    {
      name: 'Invalid without details: the message',
      err: new ApiError(422, { kind: 'Status', reason: 'Invalid', message: 'bad' }, '', '/x'),
      want: 'The request is invalid: bad',
    },
    {
      name: 'another reason: kubectl\'s "Error from server"',
      err: new ApiError(409, { kind: 'Status', reason: 'Conflict', message: 'Operation cannot be fulfilled\non it' }, '', '/x'),
      want: 'Error from server (Conflict): Operation cannot be fulfilled; on it',
    },
    { name: '401', err: new ApiError(401, undefined, 'Unauthorized', '/x'), want: 'error: You must be logged in to the server (Unauthorized)' },
    { name: 'no Status', err: new ApiError(502, undefined, 'bad gateway\nmore', '/x'), want: 'error: the server answered HTTP 502: bad gateway' },
    { name: 'usage', err: new UsageError('Unknown argument:\n  bogus'), want: 'error: Unknown argument: bogus (see "kubectl custom --help")' },
    { name: 'config', err: new ConfigError('context "x" does not exist'), want: 'error: context "x" does not exist' },
    { name: 'connection', err: new ConnectionError('https://k', 'cannot reach the cluster at https://k: connection refused'), want: 'error: cannot reach the cluster at https://k: connection refused' },
    { name: 'backend unavailable', err: new BackendUnavailableError('the kubectl-custom backend is not available'), want: 'error: the kubectl-custom backend is not available' },
    { name: 'anything else', err: new Error('boom'), want: 'error: boom' },
  ])('$name', ({ err, want }) => {
    expect(describeError(err)).toBe(want);
  });
});

describe('toExitCode', () => {
  it('writes the message and returns 1', () => {
    let out = '';
    expect(toExitCode(new Error('x'), (s) => (out += s))).toBe(1);
    expect(out).toBe('error: x\n');
  });

  it('an ExitError was reported already: its code, nothing written', () => {
    let out = '';
    expect(toExitCode(new ExitError(3), (s) => (out += s))).toBe(3);
    expect(out).toBe('');
  });
});

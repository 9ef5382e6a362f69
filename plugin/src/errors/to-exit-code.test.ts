import { describe, expect, it } from 'vitest';
import { ApiError, ConfigError, ConnectionError } from '../../../client/src/errors.ts';
import { BackendUnavailableError } from './errors.ts';
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
    // What the server said is escaped for the terminal; only the breaks between an Invalid error's causes are ours.
    {
      name: 'a Status message with ESC sequences and CR',
      err: new ApiError(403, { kind: 'Status', reason: 'Forbidden', message: 'User "eve\x1b[2J\rroot" cannot enter state "prod"' }, '', '/x'),
      want: 'Error from server (Forbidden): User "eve\\x1b[2J\\rroot" cannot enter state "prod"',
    },
    {
      name: 'an Invalid cause with a newline, BEL and C1 in its message: the cause stays on its line',
      err: invalid([
        { field: 'reason', message: 'Invalid value: "ok\n* fake: cause\x07\u009b2J"' },
        { field: 'status.stateSince', message: 'Forbidden: soak' },
      ]),
      want: 'The CustomResource "cart" is invalid: \n* reason: Invalid value: "ok\\n* fake: cause\\x07\\x9b2J"\n* status.stateSince: Forbidden: soak',
    },
    {
      name: 'an Invalid error\'s name with a right-to-left override',
      err: invalid([{ field: 'state', message: 'Required value' }], { name: 'cart\u202etxt.exe', kind: 'CustomResource' }),
      want: 'The CustomResource "cart\\u202etxt.exe" is invalid: state: Required value',
    },
    {
      name: 'an Invalid error without details, DEL in the message',
      err: new ApiError(422, { kind: 'Status', reason: 'Invalid', message: 'bad\x7f' }, '', '/x'),
      want: 'The request is invalid: bad\\x7f',
    },
    {
      name: 'a plain-text answer',
      err: new ApiError(502, undefined, '\x1b]0;title\x07 bad gateway', '/x'),
      want: 'error: the server answered HTTP 502: \\x1b]0;title\\x07 bad gateway',
    },
    {
      name: 'an APIService condition',
      err: new BackendUnavailableError('the kubectl-custom backend is not available: APIService v1.custom.example.com is Available=False (X): \x1b[31mred'),
      want: 'error: the kubectl-custom backend is not available: APIService v1.custom.example.com is Available=False (X): \\x1b[31mred',
    },
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

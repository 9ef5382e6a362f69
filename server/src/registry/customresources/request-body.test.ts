import { describe, expect, it } from 'vitest';
import type { StatusError } from '../../status/status-error.ts';
import { parseApprovalBody } from './approve-rest.ts';
import { dryRunOf, parseChangeBody } from './request-body.ts';

describe('parseChangeBody', () => {
  const causesOf = (fn: () => unknown) => {
    try {
      fn();
    } catch (err) {
      return (err as StatusError).status;
    }
    throw new Error('expected a refusal');
  };

  it.each([
    { name: 'promote: reason and from', body: { reason: 'go', from: 'dev' }, action: 'promote' as const, want: { action: 'promote', reason: 'go', from: 'dev' } },
    { name: 'promote: empty body', body: {}, action: 'promote' as const, want: { action: 'promote' } },
    { name: 'set-state: apiVersion and kind are ignored', body: { apiVersion: 'v1', kind: 'X', state: 'prod' }, action: 'set-state' as const, want: { action: 'set-state', state: 'prod' } },
    { name: 'override true', body: { override: true, reason: 'incident' }, action: 'promote' as const, want: { action: 'promote', override: true, reason: 'incident' } },
    { name: 'override false is no override', body: { override: false }, action: 'promote' as const, want: { action: 'promote' } },
    { name: 'a reason of 1024 characters, unicode and emoji', body: { reason: 'é'.repeat(1000) + '🚀'.repeat(24) }, action: 'promote' as const, want: { action: 'promote', reason: 'é'.repeat(1000) + '🚀'.repeat(24) } },
  ])('$name', ({ body, action, want }) => {
    expect(parseChangeBody(body, 'checkout', action)).toEqual(want);
  });

  it.each([
    { name: 'set-state without a state', body: {}, action: 'set-state' as const, code: 422, fields: ['state'] },
    { name: 'an unknown field and a number', body: { state: 'prod', when: 'now', reason: 3 }, action: 'set-state' as const, code: 422, fields: ['when', 'reason'] },
    { name: 'promote does not take a state', body: { state: 'prod' }, action: 'promote' as const, code: 422, fields: ['state'] },
    { name: 'a reason over 1024 characters', body: { reason: 'x'.repeat(1025) }, action: 'promote' as const, code: 422, fields: ['reason'] },
    { name: 'not an object', body: ['prod'], action: 'promote' as const, code: 400, fields: [] },
    { name: 'a reason with an escape sequence', body: { reason: 'ok\u001b[2J' }, action: 'promote' as const, code: 422, fields: ['reason'] },
    { name: 'a reason with a newline', body: { reason: 'line one\nline two' }, action: 'promote' as const, code: 422, fields: ['reason'] },
    { name: 'a reason with a C1 control', body: { reason: 'x\u009b31m' }, action: 'promote' as const, code: 422, fields: ['reason'] },
    { name: 'a reason with a right-to-left override', body: { reason: 'abc\u202edef' }, action: 'promote' as const, code: 422, fields: ['reason'] },
    { name: 'override that is not a boolean', body: { override: 'yes' }, action: 'promote' as const, code: 422, fields: ['override'] },
  ])('refuses $name', ({ body, action, code, fields }) => {
    const st = causesOf(() => parseChangeBody(body, 'checkout', action));
    expect(st.code).toBe(code);
    expect((st.details?.causes ?? []).map((c) => c.field)).toEqual(fields);
  });
});

describe('parseApprovalBody', () => {
  it.each([
    { name: 'every field', body: { apiVersion: 'v1', kind: 'X', to: 'prod', from: 'staging', reason: 'reviewed', revoke: true }, want: { to: 'prod', from: 'staging', reason: 'reviewed', revoke: true } },
    { name: 'an empty body', body: {}, want: {} },
    { name: 'revoke false is no revoke', body: { revoke: false, reason: 'ok' }, want: { reason: 'ok' } },
  ])('$name', ({ body, want }) => {
    expect(parseApprovalBody(body, 'cart')).toEqual(want);
  });

  it('refuses an unknown field, wrong types and a reason with a control character, one cause each, naming what the body takes', () => {
    let status: StatusError['status'] | undefined;
    try {
      parseApprovalBody({ state: 'prod', to: 3, revoke: 'yes', reason: 'a\u001b[2J' }, 'cart');
    } catch (err) {
      status = (err as StatusError).status;
    }
    expect(status?.code).toBe(422);
    expect(status?.details?.causes).toEqual([
      { field: 'state', reason: 'FieldValueForbidden', message: 'Forbidden: unknown field; the body takes to, from, reason, revoke' },
      { field: 'to', reason: 'FieldValueInvalid', message: 'Invalid value: 3: must be a string' },
      { field: 'revoke', reason: 'FieldValueInvalid', message: 'Invalid value: "yes": must be true or false' },
      { field: 'reason', reason: 'FieldValueInvalid', message: expect.stringContaining('control character U+001B at position 1') },
    ]);
  });

  it('refuses a body that is no object with 400', () => {
    expect(() => parseApprovalBody(['prod'], 'cart')).toThrow('the request body must be a JSON object');
  });
});

describe('dryRunOf', () => {
  it.each([
    { name: 'absent', q: '', want: false },
    { name: 'All', q: '?dryRun=All', want: true },
    { name: 'All twice', q: '?dryRun=All&dryRun=All', want: true },
  ])('$name', ({ q, want }) => {
    expect(dryRunOf(new URL(`https://x/p${q}`))).toBe(want);
  });

  it('refuses any other value with 400', () => {
    expect(() => dryRunOf(new URL('https://x/p?dryRun=true'))).toThrow(/dryRun: Unsupported value: "true"/);
  });
});

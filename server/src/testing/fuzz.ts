// What every parser of request data promises, for property-based tests:
// it returns, or throws a StatusError below 500. Anything else (a TypeError,
// a RangeError, a 500) is a bug a client could trigger.
import fc from 'fast-check';
import { expect } from 'vitest';
import { StatusError } from '../status/status-error.ts';

export function expectClientError(fn: () => unknown): void {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(StatusError);
    expect((err as StatusError).code).toBeLessThan(500);
    expect((err as StatusError).status).toMatchObject({ kind: 'Status', status: 'Failure' });
  }
}

/** Text a client can put in a URL or a header: ASCII with the characters parsers split on, some Latin-1 and some UTF-8. */
export const requestText = (maxLength = 40) =>
  fc.string({
    unit: fc.oneof(
      fc.constantFrom('/', '%', '=', '!', ',', '(', ')', ' ', '.', '-', '_', '~', ':', '"', ';', '*', '+', '?', '&', '#', '\\', 'in', 'notin', '%2F', '%zz', '__proto__', 'constructor'),
      fc.string({ minLength: 1, maxLength: 1 }),
      fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)),
      fc.constantFrom('\u00e9', '\u00ff', '\u30c1', '\ud83d\ude00'),
    ),
    maxLength,
  });

/** A header value Node will send: visible Latin-1 and tabs only. */
export const headerValue = (maxLength = 40) =>
  fc.array(fc.oneof(fc.integer({ min: 0x20, max: 0x7e }), fc.integer({ min: 0xa0, max: 0xff }), fc.constant(0x09)), { maxLength }).map((cs) => String.fromCharCode(...cs).trim());

export { fc };

import { describe, expect, it } from 'vitest';
import { StatusError } from '../status/status-error.ts';
import { expectClientError, fc, requestText } from '../testing/fuzz.ts';
import { parseLabelSelector } from './label-selector.ts';

// Upstream's wording, spelled out here rather than imported, so the tests check it.
const VALUE_MSG =
  "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')";
const KEY_MSG =
  "must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')";
const PREFIX_MSG =
  "prefix part a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";
const INT_MSG = "for 'Gt', 'Lt' operators, the value must be an integer";

type Labels = Record<string, string> | undefined;

describe('parseLabelSelector: valid selectors', () => {
  it.each<{ name: string; selector: string; str: string; yes: Labels[]; no: Labels[] }>([
    { name: 'empty string selects everything', selector: '', str: '', yes: [{}, { a: 'b' }, undefined], no: [] },
    { name: 'only whitespace selects everything', selector: ' \t\r\n ', str: '', yes: [{ a: 'b' }], no: [] },
    { name: 'equals', selector: 'a=b', str: 'a=b', yes: [{ a: 'b' }, { a: 'b', c: 'd' }], no: [{ a: 'c' }, {}, undefined] },
    { name: 'double equals', selector: 'a==b', str: 'a==b', yes: [{ a: 'b' }], no: [{ a: 'B' }, {}] },
    { name: 'not equals (absent matches)', selector: 'a!=b', str: 'a!=b', yes: [{}, { a: 'c' }, undefined], no: [{ a: 'b' }] },
    { name: 'in', selector: 'a in (x,y)', str: 'a in (x,y)', yes: [{ a: 'x' }, { a: 'y' }], no: [{ a: 'z' }, {}] },
    { name: 'notin (absent matches)', selector: 'a notin (x,y)', str: 'a notin (x,y)', yes: [{}, { a: 'z' }], no: [{ a: 'x' }] },
    { name: 'exists', selector: 'a', str: 'a', yes: [{ a: '' }, { a: 'v' }], no: [{ b: 'a' }, undefined] },
    { name: 'does not exist', selector: '!a', str: '!a', yes: [{}, { b: 'x' }, undefined], no: [{ a: '' }] },
    { name: 'greater than, integers only', selector: 'a>1', str: 'a>1', yes: [{ a: '2' }, { a: '+3' }], no: [{ a: '1' }, { a: 'x' }, { a: '1.5' }, {}] },
    { name: 'less than', selector: 'a<10', str: 'a<10', yes: [{ a: '9' }, { a: '-5' }], no: [{ a: '10' }, { a: '' }] },
    { name: 'int64 range compared exactly', selector: 'a>9223372036854775806', str: 'a>9223372036854775806', yes: [{ a: '9223372036854775807' }], no: [{ a: '9223372036854775808' }] },
    {
      name: 'AND of several, sorted by key, whitespace tolerated',
      selector: ' c=2 , a in ( y , x ) ,!b ',
      str: 'a in (x,y),!b,c=2',
      yes: [{ a: 'x', c: '2' }],
      no: [{ a: 'x', c: '2', b: '1' }, { a: 'z', c: '2' }, { a: 'x' }],
    },
    { name: 'empty values in a set', selector: 'x in (foo,,baz),y,z notin ()', str: 'x in (,baz,foo),y,z notin ()', yes: [{ x: '', y: '1' }, { x: 'foo', y: '', z: 'q' }], no: [{ x: 'foo', y: '1', z: '' }] },
    { name: 'empty exact value', selector: 'a=,b', str: 'a=,b', yes: [{ a: '', b: '' }], no: [{ b: '' }, { a: 'x', b: '' }] },
    { name: 'prefixed key', selector: 'example.com/app=web', str: 'example.com/app=web', yes: [{ 'example.com/app': 'web' }], no: [{ app: 'web' }] },
    { name: 'in and notin as key and values', selector: 'in in (notin,in)', str: 'in in (in,notin)', yes: [{ in: 'notin' }], no: [{ in: 'x' }] },
    { name: 'duplicate values collapse', selector: 'a in (b,b,a)', str: 'a in (a,b)', yes: [{ a: 'a' }], no: [{ a: 'c' }] },
    { name: 'same key twice keeps written order', selector: 'a=b,a!=c', str: 'a=b,a!=c', yes: [{ a: 'b' }], no: [{ a: 'c' }] },
    { name: 'inherited properties are not labels', selector: 'toString', str: 'toString', yes: [{ toString: 'x' }], no: [{}] },
    // A NUL reads as the end where a token would start, but only ends the token it follows (kube-apiserver's answers, test/integration/label-selectors.test.ts).
    { name: 'NUL at the start ends the input', selector: '\0a=b', str: '', yes: [{}], no: [] },
    { name: 'NUL after whitespace ends the input', selector: 'a \0,b', str: 'a', yes: [{ a: '' }], no: [{ b: '' }] },
    { name: 'NUL after a key ends only the key', selector: 'a\0=b', str: 'a=b', yes: [{ a: 'b' }], no: [{ a: '' }] },
    { name: 'NUL after an operator ends only the operator', selector: 'a=\0b', str: 'a=b', yes: [{ a: 'b' }], no: [{ a: '' }] },
    { name: 'NUL after a value ends only the value', selector: 'a=b\0,c=d', str: 'a=b,c=d', yes: [{ a: 'b', c: 'd' }], no: [{ a: 'b' }] },
    { name: 'NUL after a comma ends only the comma', selector: 'a=b,\0c', str: 'a=b,c', yes: [{ a: 'b', c: '' }], no: [{ a: 'b' }] },
    { name: 'NUL inside a set', selector: 'a in (b\0)', str: 'a in (b)', yes: [{ a: 'b' }], no: [{ a: '' }] },
  ])('$name', ({ selector, str, yes, no }) => {
    const s = parseLabelSelector(selector);
    expect(s.toString()).toBe(str);
    expect(s.empty).toBe(str === '');
    for (const labels of yes) expect(s.matches(labels), JSON.stringify(labels)).toBe(true);
    for (const labels of no) expect(s.matches(labels), JSON.stringify(labels)).toBe(false);
  });

  it('exposes its requirements', () => {
    expect(parseLabelSelector('b notin (z,y),a').requirements).toEqual([
      { key: 'a', operator: 'exists', values: [] },
      { key: 'b', operator: 'notin', values: ['y', 'z'] },
    ]);
  });
});

describe('parseLabelSelector: invalid selectors', () => {
  it.each<{ name: string; selector: string; message: string }>([
    { name: 'bad value (the kube-apiserver example)', selector: 'app=-x', message: `unable to parse requirement: values[0][app]: Invalid value: "-x": ${VALUE_MSG}` },
    { name: 'bad key, reported with a nil path', selector: '-x', message: `unable to parse requirement: <nil>: Invalid value: "-x": name part ${KEY_MSG}` },
    { name: 'key with two slashes', selector: 'a/b/c=d', message: `unable to parse requirement: <nil>: Invalid value: "a/b/c": a valid label key ${KEY_MSG} with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')` },
    { name: 'empty prefix', selector: '/a', message: 'unable to parse requirement: <nil>: Invalid value: "/a": prefix part must be non-empty' },
    { name: 'upper-case prefix', selector: 'Example.com/a', message: `unable to parse requirement: <nil>: Invalid value: "Example.com/a": ${PREFIX_MSG}` },
    { name: 'empty name after prefix', selector: 'a/', message: `unable to parse requirement: <nil>: Invalid value: "a/": name part must be non-empty; name part ${KEY_MSG}` },
    { name: 'name too long', selector: 'k'.repeat(64), message: `unable to parse requirement: <nil>: Invalid value: "${'k'.repeat(64)}": name part must be no more than 63 bytes` },
    { name: 'prefix too long', selector: `${'p'.repeat(254)}/a`, message: `unable to parse requirement: <nil>: Invalid value: "${'p'.repeat(254)}/a": prefix part must be no more than 253 bytes` },
    { name: 'value too long', selector: `a=${'v'.repeat(64)}`, message: `unable to parse requirement: values[0][a]: Invalid value: "${'v'.repeat(64)}": must be no more than 63 bytes` },
    { name: 'value index counts sorted values', selector: 'a in (x,-y)', message: `unable to parse requirement: values[0][a]: Invalid value: "-y": ${VALUE_MSG}` },
    { name: 'value quoted as Go %q', selector: 'a=b"c', message: `unable to parse requirement: values[0][a]: Invalid value: "b\\"c": ${VALUE_MSG}` },
    { name: 'non-integer for gt', selector: 'a>b', message: `unable to parse requirement: values[0]: Invalid value: "b": ${INT_MSG}` },
    { name: 'missing value for gt', selector: 'a>', message: `unable to parse requirement: values[0]: Invalid value: "": ${INT_MSG}` },
    { name: 'negative number is not a label value', selector: 'a>-1', message: `unable to parse requirement: values[0][a]: Invalid value: "-1": ${VALUE_MSG}` },
    { name: 'two errors aggregate in brackets', selector: 'a<-x', message: `unable to parse requirement: [values[0]: Invalid value: "-x": ${INT_MSG}, values[0][a]: Invalid value: "-x": ${VALUE_MSG}]` },
    { name: 'two identifiers without operator', selector: 'a b', message: "unable to parse requirement: found 'b', expected: in, notin, =, ==, !=, gt, lt" },
    { name: 'not as binary operator', selector: 'a ! b', message: "unable to parse requirement: found '!', expected: in, notin, =, ==, !=, gt, lt" },
    { name: 'trailing word', selector: 'a=b c', message: "found 'c', expected: ',' or 'end of string'" },
    { name: 'trailing comma', selector: 'a=b,', message: "found '', expected: identifier after ','" },
    { name: 'leading comma', selector: ',a', message: "found ',', expected: !, identifier, or 'end of string'" },
    { name: 'leading operator', selector: '=a', message: "found '=', expected: !, identifier, or 'end of string'" },
    { name: 'in without parenthesis', selector: 'a in b', message: "unable to parse requirement: found 'b' expected: '('" },
    { name: 'in with nothing after', selector: 'a in', message: "unable to parse requirement: found '' expected: '('" },
    { name: 'unclosed set', selector: 'a in (b', message: "unable to parse requirement: found '', expected: ',' or ')'" },
    { name: 'set values without comma', selector: 'a in (b c)', message: "unable to parse requirement: found 'c', expected: ',' or ')'" },
    { name: 'operator opening a set', selector: 'a in (=)', message: "unable to parse requirement: found '=', expected: ',', ')' or identifier" },
    { name: 'operator inside a set', selector: 'a in (b,=)', message: "unable to parse requirement: found '=', expected: ',', or identifier" },
    { name: 'parenthesis after equals', selector: 'a=(b)', message: "unable to parse requirement: found '(', expected: identifier" },
    { name: 'triple equals', selector: 'a===b', message: "unable to parse requirement: found '=', expected: identifier" },
    { name: 'bare not', selector: '!', message: "unable to parse requirement: found '', expected: identifier" },
    { name: 'not with a value', selector: '!a=b', message: "found '=', expected: ',' or 'end of string'" },
    { name: 'NUL between two words', selector: 'a\0b', message: "unable to parse requirement: found 'b', expected: in, notin, =, ==, !=, gt, lt" },
  ])('$name', ({ selector, message }) => {
    let thrown: unknown;
    try {
      parseLabelSelector(selector);
    } catch (e) {
      thrown = e;
    }
    expect(thrown).toBeInstanceOf(StatusError);
    const err = thrown as StatusError;
    expect(err.status).toMatchObject({ code: 400, reason: 'BadRequest', message });
  });
});

describe('parseLabelSelector: fuzzed', () => {
  const token = fc.oneof(requestText(10), fc.constantFrom('a', 'app', 'x.io/k', 'in', 'notin', '(', ')', ',', '=', '==', '!=', '!', '<', '>', ' ', 'gt', 'lt'));
  it('parses or throws a 400, and what parses matches any labels without throwing', () => {
    fc.assert(
      fc.property(fc.array(token, { maxLength: 12 }), fc.dictionary(requestText(8), requestText(8)), (parts, labels) => {
        expectClientError(() => parseLabelSelector(parts.join('')).matches(labels));
        expectClientError(() => parseLabelSelector(parts.join('')).matches({ ['__proto__']: 'x', constructor: 'y' }));
      }),
      { numRuns: 3000 },
    );
  });
});

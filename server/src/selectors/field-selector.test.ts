import { describe, expect, it } from 'vitest';
import { StatusError } from '../status/status-error.ts';
import { expectClientError, fc, requestText } from '../testing/fuzz.ts';
import { escapeFieldValue, parseFieldRequirements, parseFieldSelector } from './field-selector.ts';
import type { FieldRequirement } from './field-selector.ts';

const SUPPORTED = ['metadata.name', 'metadata.namespace', 'spec.color'] as const;

describe('parseFieldSelector: valid selectors', () => {
  it.each<{ name: string; selector: string; requirements: FieldRequirement[]; str: string; yes: Record<string, string>[]; no: Record<string, string>[] }>([
    { name: 'empty string selects everything', selector: '', requirements: [], str: '', yes: [{}, { 'metadata.name': 'x' }], no: [] },
    { name: 'only commas select everything', selector: ',,', requirements: [], str: '', yes: [{}], no: [] },
    { name: 'a term with neither field nor value is dropped', selector: '=', requirements: [], str: '', yes: [{}], no: [] },
    {
      name: 'equals',
      selector: 'metadata.name=foo',
      requirements: [{ field: 'metadata.name', op: '=', value: 'foo' }],
      str: 'metadata.name=foo',
      yes: [{ 'metadata.name': 'foo' }],
      no: [{ 'metadata.name': 'bar' }, {}],
    },
    {
      name: 'double equals reads as equals',
      selector: 'metadata.name==foo',
      requirements: [{ field: 'metadata.name', op: '=', value: 'foo' }],
      str: 'metadata.name=foo',
      yes: [{ 'metadata.name': 'foo' }],
      no: [{}],
    },
    {
      name: 'not equals',
      selector: 'metadata.name!=foo',
      requirements: [{ field: 'metadata.name', op: '!=', value: 'foo' }],
      str: 'metadata.name!=foo',
      yes: [{ 'metadata.name': 'bar' }, {}],
      no: [{ 'metadata.name': 'foo' }],
    },
    {
      name: 'escaped comma and equals in a value',
      selector: 'spec.color=a\\,b\\=c',
      requirements: [{ field: 'spec.color', op: '=', value: 'a,b=c' }],
      str: 'spec.color=a\\,b\\=c',
      yes: [{ 'spec.color': 'a,b=c' }],
      no: [{ 'spec.color': 'a\\,b\\=c' }],
    },
    {
      name: 'escaped backslash',
      selector: 'spec.color=a\\\\b',
      requirements: [{ field: 'spec.color', op: '=', value: 'a\\b' }],
      str: 'spec.color=a\\\\b',
      yes: [{ 'spec.color': 'a\\b' }],
      no: [{ 'spec.color': 'ab' }],
    },
    {
      name: 'terms are sorted and ANDed',
      selector: 'metadata.namespace=ns,metadata.name=foo',
      requirements: [
        { field: 'metadata.name', op: '=', value: 'foo' },
        { field: 'metadata.namespace', op: '=', value: 'ns' },
      ],
      str: 'metadata.name=foo,metadata.namespace=ns',
      yes: [{ 'metadata.name': 'foo', 'metadata.namespace': 'ns' }],
      no: [{ 'metadata.name': 'foo', 'metadata.namespace': 'other' }, { 'metadata.name': 'foo' }],
    },
    {
      name: 'empty value matches a missing field',
      selector: 'spec.color=',
      requirements: [{ field: 'spec.color', op: '=', value: '' }],
      str: 'spec.color=',
      yes: [{}, { 'spec.color': '' }],
      no: [{ 'spec.color': 'red' }],
    },
    {
      name: 'whitespace is part of the value',
      selector: 'spec.color= red ',
      requirements: [{ field: 'spec.color', op: '=', value: ' red ' }],
      str: 'spec.color= red ',
      yes: [{ 'spec.color': ' red ' }],
      no: [{ 'spec.color': 'red' }],
    },
    {
      name: 'bang inside a value',
      selector: 'spec.color!=a!b',
      requirements: [{ field: 'spec.color', op: '!=', value: 'a!b' }],
      str: 'spec.color!=a!b',
      yes: [{ 'spec.color': 'a' }],
      no: [{ 'spec.color': 'a!b' }],
    },
    {
      name: 'trailing comma',
      selector: 'metadata.name=x,',
      requirements: [{ field: 'metadata.name', op: '=', value: 'x' }],
      str: 'metadata.name=x',
      yes: [{ 'metadata.name': 'x' }],
      no: [{}],
    },
    {
      name: 'inherited properties are not fields',
      selector: 'spec.color!=',
      requirements: [{ field: 'spec.color', op: '!=', value: '' }],
      str: 'spec.color!=',
      yes: [{ 'spec.color': 'x' }],
      no: [Object.create({ 'spec.color': 'x' }) as Record<string, string>],
    },
  ])('$name', ({ selector, requirements, str, yes, no }) => {
    const s = parseFieldSelector(selector, SUPPORTED);
    expect(s.requirements).toEqual(requirements);
    expect(s.empty).toBe(requirements.length === 0);
    expect(s.toString()).toBe(str);
    for (const f of yes) expect(s.matches(f), JSON.stringify(f)).toBe(true);
    for (const f of no) expect(s.matches(f), JSON.stringify(f)).toBe(false);
  });

  it('reports the value an equality pins', () => {
    const s = parseFieldSelector('spec.color!=red,metadata.name==foo', SUPPORTED);
    expect(s.requiresExactMatch('metadata.name')).toBe('foo');
    expect(s.requiresExactMatch('spec.color')).toBeUndefined();
  });

  it('parses syntax alone without a list of fields', () => {
    expect(parseFieldRequirements('anything=goes')).toEqual([{ field: 'anything', op: '=', value: 'goes' }]);
  });

  it('escapes what it unescapes', () => {
    expect(escapeFieldValue('a\\b,c=d!')).toBe('a\\\\b\\,c\\=d!');
  });
});

describe('parseFieldSelector: invalid selectors', () => {
  it.each<{ name: string; selector: string; message: string }>([
    { name: 'no operator', selector: 'metadata.name', message: "invalid selector: 'metadata.name'; can't understand 'metadata.name'" },
    { name: 'one bad term among good ones', selector: 'metadata.name=a,b', message: "invalid selector: 'metadata.name=a,b'; can't understand 'b'" },
    { name: 'unescaped equals in a value (Go prints the code point)', selector: 'metadata.name=a=b', message: 'invalid field selector: unescaped character in value: 61' },
    { name: 'equals after double equals', selector: 'metadata.name===b', message: 'invalid field selector: unescaped character in value: 61' },
    { name: 'unknown escape', selector: 'metadata.name=a\\x', message: 'invalid field selector: invalid escape sequence: \\x' },
    { name: 'escaped bang is not an escape upstream', selector: 'metadata.name=a\\!', message: 'invalid field selector: invalid escape sequence: \\!' },
    { name: 'trailing backslash', selector: 'metadata.name=a\\', message: 'invalid field selector: invalid escape sequence: \\' },
    { name: 'unsupported field (CRD wording)', selector: 'spec.size=M', message: 'field label not supported: spec.size' },
    { name: 'unsupported field with not equals', selector: 'status.phase!=x', message: 'field label not supported: status.phase' },
    { name: 'first unsupported field in sorted order', selector: 'z=1,metadata.name=x,y=2', message: 'field label not supported: y' },
    { name: 'empty field with a value', selector: '=x', message: 'field label not supported: ' },
    { name: 'field names are case-sensitive', selector: 'Metadata.Name=x', message: 'field label not supported: Metadata.Name' },
    { name: 'whitespace is part of the field', selector: ' metadata.name=x', message: 'field label not supported:  metadata.name' },
    { name: 'syntax is checked before support', selector: 'nope=1,bad', message: "invalid selector: 'nope=1,bad'; can't understand 'bad'" },
  ])('$name', ({ selector, message }) => {
    let thrown: unknown;
    try {
      parseFieldSelector(selector, SUPPORTED);
    } catch (e) {
      thrown = e;
    }
    expect(thrown).toBeInstanceOf(StatusError);
    expect((thrown as StatusError).status).toMatchObject({ code: 400, reason: 'BadRequest', message });
  });
});

describe('parseFieldSelector: fuzzed', () => {
  const token = fc.oneof(requestText(10), fc.constantFrom('metadata.name', 'status.state', '=', '==', '!=', ',', '\\', '\\,', '\\='));
  it('parses or throws a 400, and what parses matches without throwing', () => {
    fc.assert(
      fc.property(fc.array(token, { maxLength: 10 }), (parts) => {
        expectClientError(() => parseFieldSelector(parts.join(''), ['metadata.name', 'status.state']).matches({ 'metadata.name': 'a', 'status.state': 'b' }));
      }),
      { numRuns: 3000 },
    );
  });
});

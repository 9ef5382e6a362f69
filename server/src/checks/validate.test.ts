import { describe, expect, it } from 'vitest';
import type { CheckSpec } from '../../../api/src/checks.ts';
import { checkProblems, newSecretNames } from './validate.ts';

const prom = (over: Partial<CheckSpec> = {}): CheckSpec => ({ name: 'errors', successCondition: 'result[0] < 0.01', prometheus: { address: 'http://p:9090', query: 'rate(errors{app="{{name}}"}[5m])' }, ...over });

describe("admission of a spec's checks", () => {
  it('accepts checks that parse and use known placeholders', () => {
    expect(checkProblems({ checks: { prod: [prom(), { name: 'ticket', successCondition: 'status == 200', http: { url: 'https://t/{{namespace}}/{{labels.team}}' } }] } })).toEqual([]);
  });
  it('names every problem with its field: a condition that is not CEL, an unknown placeholder, a name used twice', () => {
    const problems = checkProblems({ checks: { prod: [prom({ successCondition: 'result[0] <' }), prom({ prometheus: { address: 'http://p', query: '{{nme}}' } })] } });
    expect(problems).toHaveLength(3);
    expect(problems[0]).toMatch(/^spec\.checks\["prod"\]\[0\]\.successCondition: Invalid value: "result\[0\] <": not a CEL expression/);
    expect(problems[1]).toBe('spec.checks["prod"][1].name: Duplicate value: "errors"');
    expect(problems[2]).toBe('spec.checks["prod"][1].prometheus.query: Invalid value: unknown placeholder {{nme}}: use {{name}}, {{namespace}}, {{labels.KEY}}, {{from}} or {{to}}');
  });
  it('the Secrets a writer must be able to read: those of checks added or changed, not of checks kept as they were', () => {
    const withToken = prom({ prometheus: { address: 'http://p', query: 'x', tokenSecretRef: { name: 'prom-token', key: 'token' }, caSecretRef: { name: 'prom-ca', key: 'ca.crt' } } });
    expect(newSecretNames(undefined, { checks: { prod: [withToken] } })).toEqual(['prom-ca', 'prom-token']);
    expect(newSecretNames({ checks: { prod: [withToken] } }, { checks: { prod: [withToken] } })).toEqual([]);
    // The same check pointed elsewhere sends the token elsewhere: its Secret must be readable again.
    const moved = { ...withToken, prometheus: { ...withToken.prometheus!, address: 'http://evil.example' } };
    expect(newSecretNames({ checks: { prod: [withToken] } }, { checks: { prod: [moved] } })).toEqual(['prom-ca', 'prom-token']);
    // Moved to another state: the same.
    expect(newSecretNames({ checks: { prod: [withToken] } }, { checks: { staging: [withToken] } })).toEqual(['prom-ca', 'prom-token']);
  });
});

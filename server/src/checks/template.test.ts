import { describe, expect, it } from 'vitest';
import { render, unknownPlaceholders } from './template.ts';

const vars = { name: 'checkout', namespace: 'shop', labels: { team: 'payments', odd: 'a"} or vector(1) #\\' }, from: 'staging', to: 'prod' };

describe("a check's placeholders", () => {
  it('fills in the move being checked', () => {
    expect(render('rate(errors{app="{{name}}",namespace="{{ namespace }}",team="{{labels.team}}"}[5m])', vars, 'promql')).toBe('rate(errors{app="checkout",namespace="shop",team="payments"}[5m])');
    expect(render('https://tickets.example/api?object={{namespace}}/{{name}}&to={{to}}&from={{from}}', vars, 'url')).toBe('https://tickets.example/api?object=shop/checkout&to=prod&from=staging');
  });

  it('escapes a value for where it lands: it cannot end the PromQL string or add URL parameters', () => {
    expect(render('x{v="{{labels.odd}}"}', vars, 'promql')).toBe('x{v="a\\"} or vector(1) #\\\\"}');
    expect(render('https://h/?v={{labels.odd}}', vars, 'url')).toBe('https://h/?v=a%22%7D%20or%20vector(1)%20%23%5C');
    expect(render('x{v="{{labels.missing}}"}', vars, 'promql')).toBe('x{v=""}');
  });

  it('an unknown placeholder is an error that lists the known ones', () => {
    expect(unknownPlaceholders('{{name}} {{nme}} {{labels.x}} {{spec.states}}')).toEqual(['nme', 'spec.states']);
    expect(() => render('{{nme}}', vars, 'url')).toThrow('unknown placeholder {{nme}}: use {{name}}, {{namespace}}, {{labels.KEY}}, {{from}} or {{to}}');
  });
});

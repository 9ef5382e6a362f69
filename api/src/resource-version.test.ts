import { describe, expect, it } from 'vitest';
import { compareResourceVersions } from './resource-version.ts';

describe('compareResourceVersions', () => {
  it('compares etcd revisions as numbers, not strings', () => {
    expect(compareResourceVersions('999', '1000')).toBe(-1);
    expect(compareResourceVersions('1000', '999')).toBe(1);
    expect(compareResourceVersions('42', '42')).toBe(0);
    expect(compareResourceVersions('18446744073709551615', '18446744073709551614')).toBe(1);
  });

  it('anything else is opaque: only equality is known', () => {
    expect(compareResourceVersions('abc', 'abc')).toBe(0);
    expect(compareResourceVersions('abc', '12')).toBeUndefined();
    expect(compareResourceVersions('', '12')).toBeUndefined();
  });
});

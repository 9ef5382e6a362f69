import { describe, expect, it } from 'vitest';
import { helmVersion } from './helm.ts';

describe('helmVersion', () => {
  it('is the version cluster/helm-build/go.mod requires', () => {
    expect(helmVersion()).toMatch(/^v4\.\d+\.\d+$/);
    expect(helmVersion('module m\n\nrequire helm.sh/helm/v4 v4.3.2\n')).toBe('v4.3.2');
    expect(helmVersion('module m\n\nrequire (\n\thelm.sh/helm/v4 v4.2.1\n)\n')).toBe('v4.2.1');
    expect(() => helmVersion('module m\n')).toThrow(/does not require helm.sh\/helm\/v4/);
  });
});

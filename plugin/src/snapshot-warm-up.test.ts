import { describe, expect, it } from 'vitest';
import { warmUp } from './snapshot-warm-up.ts';

describe('warmUp', () => {
  // It throws when one of its commands fails (the build of the executable then fails).
  it('runs its commands against the fake cluster, each exiting 0', async () => {
    await expect(warmUp()).resolves.toBeUndefined();
  });
});

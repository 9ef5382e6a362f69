import { describe, expect, it } from 'vitest';
import { CGROUP_V1_LIMIT, CGROUP_V2_MAX, memoryLimit } from './memory.ts';

const files = (f: Record<string, string>) => (path: string) => f[path];

describe("the container's memory limit", () => {
  it('cgroup v2: memory.max in bytes; "max" is no limit', () => {
    expect(memoryLimit(files({ [CGROUP_V2_MAX]: '335544320\n' }))).toEqual({ bytes: 335544320, source: CGROUP_V2_MAX });
    expect(memoryLimit(files({ [CGROUP_V2_MAX]: 'max\n' }))).toBeUndefined();
  });

  it('cgroup v1: memory.limit_in_bytes; the root cgroup\'s 2^63-ish is no limit', () => {
    expect(memoryLimit(files({ [CGROUP_V1_LIMIT]: '335544320\n' }))).toEqual({ bytes: 335544320, source: CGROUP_V1_LIMIT });
    expect(memoryLimit(files({ [CGROUP_V1_LIMIT]: '9223372036854771712\n' }))).toBeUndefined();
  });

  it('neither file (outside a container on cgroup v2, or no cgroup file system): none', () => {
    expect(memoryLimit(files({}))).toBeUndefined();
    expect(memoryLimit(files({ [CGROUP_V1_LIMIT]: 'garbage' }))).toBeUndefined();
  });

  it('on this machine it answers without throwing', () => {
    const limit = memoryLimit();
    if (limit) expect(limit.bytes).toBeGreaterThan(0);
  });
});

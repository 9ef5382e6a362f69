// The status a Freeze gets, and the controller that writes it: only what
// differs, with the resourceVersion read as precondition, a conflict left
// to the next event, and one timer to the earliest window boundary.
import { describe, expect, it } from 'vitest';
import { evaluateFreeze } from '../../../api/src/freeze-schedule.ts';
import type { Freeze, FreezeSpec, FreezeStatus } from '../../../api/src/types.ts';
import { ApiError } from '../../../client/src/errors.ts';
import type { RequestOpts, RestClient } from '../../../client/src/rest-client.ts';
import { memoryLogger } from '../log/logger.ts';
import { FreezeCache } from '../store/freeze-cache.ts';
import { desiredStatus, FreezeStatusController, sameStatus } from './freeze-status.ts';

const NOW = new Date('2026-06-10T12:00:30Z');
const EVALUATED = { type: 'Ready', status: 'True', reason: 'Evaluated', message: 'the backend evaluates this freeze as written', observedGeneration: 3 } as const;

function freeze(name: string, spec: Partial<FreezeSpec>, status?: FreezeStatus): Freeze {
  return { apiVersion: 'example.com/v1', kind: 'Freeze', metadata: { namespace: 'shop', name, resourceVersion: '42', generation: 3 }, spec: { reason: 'r', ...spec }, ...(status ? { status } : {}) };
}

const window = (start: string, end: string) => ({ start, end });
const daily = (schedule: string, duration: string, timeZone?: string) => ({ schedule, duration, ...(timeZone ? { timeZone } : {}) });

describe('desiredStatus', () => {
  it.each([
    {
      name: 'inside a window: active, with the current window',
      spec: window('2026-06-10T00:00:00Z', '2026-06-11T00:00:00Z'),
      want: { active: true, currentWindow: { start: '2026-06-10T00:00:00Z', end: '2026-06-11T00:00:00Z' }, observedGeneration: 3, conditions: [{ ...EVALUATED, lastTransitionTime: '2026-06-10T12:00:30Z' }] },
    },
    {
      name: 'before a window: inactive, with the next window',
      spec: window('2026-07-01T00:00:00Z', '2026-07-02T00:00:00Z'),
      want: { active: false, nextWindow: { start: '2026-07-01T00:00:00Z', end: '2026-07-02T00:00:00Z' }, observedGeneration: 3, conditions: [{ ...EVALUATED, lastTransitionTime: '2026-06-10T12:00:30Z' }] },
    },
    {
      name: 'after a window: inactive, nothing next',
      spec: window('2026-06-01T00:00:00Z', '2026-06-02T00:00:00Z'),
      want: { active: false, observedGeneration: 3, conditions: [{ ...EVALUATED, lastTransitionTime: '2026-06-10T12:00:30Z' }] },
    },
    {
      name: 'a schedule: its next window',
      spec: daily('0 17 * * fri', '2h', 'Europe/Berlin'),
      want: { active: false, nextWindow: { start: '2026-06-12T15:00:00Z', end: '2026-06-12T17:00:00Z' }, observedGeneration: 3, conditions: [{ ...EVALUATED, lastTransitionTime: '2026-06-10T12:00:30Z' }] },
    },
    {
      name: 'a time zone the backend does not know: active without a window, Ready False',
      spec: daily('0 17 * * fri', '2h', 'Mars/Olympus_Mons'),
      want: {
        active: true,
        observedGeneration: 3,
        conditions: [{ type: 'Ready', status: 'False', reason: 'InvalidTimeZone', message: 'unknown time zone "Mars/Olympus_Mons": the time zone data here does not have it; until then the freeze counts as active', observedGeneration: 3, lastTransitionTime: '2026-06-10T12:00:30Z' }],
      },
    },
    {
      name: 'a schedule that never fires: inactive, Ready False',
      spec: daily('0 0 30 2 *', '1h'),
      want: {
        active: false,
        observedGeneration: 3,
        conditions: [{ type: 'Ready', status: 'False', reason: 'ScheduleNeverFires', message: expect.stringContaining('never active'), observedGeneration: 3, lastTransitionTime: '2026-06-10T12:00:30Z' }],
      },
    },
  ])('$name', ({ spec, want }) => {
    const f = freeze('f', spec);
    expect(desiredStatus(f, evaluateFreeze(f.spec, NOW), NOW)).toEqual(want);
  });

  it('keeps the condition\'s lastTransitionTime while its status stays, and moves it when it changes', () => {
    const earlier = { type: 'Ready', status: 'True', reason: 'Evaluated', message: 'm', lastTransitionTime: '2026-01-01T00:00:00Z' } as const;
    const same = freeze('f', window('2026-06-10T00:00:00Z', '2026-06-11T00:00:00Z'), { conditions: [earlier] });
    expect(desiredStatus(same, evaluateFreeze(same.spec, NOW), NOW).conditions?.[0]?.lastTransitionTime).toBe('2026-01-01T00:00:00Z');
    const broken = freeze('f', daily('0 0 * * *', '1h', 'Mars/Olympus_Mons'), { conditions: [earlier] });
    expect(desiredStatus(broken, evaluateFreeze(broken.spec, NOW), NOW).conditions?.[0]?.lastTransitionTime).toBe('2026-06-10T12:00:30Z');
  });

  it('sameStatus ignores the order of fields', () => {
    expect(sameStatus({ active: true, observedGeneration: 1 }, { observedGeneration: 1, active: true })).toBe(true);
    expect(sameStatus({ active: true }, { active: false })).toBe(false);
    expect(sameStatus(undefined, {})).toBe(true);
  });
});

interface Put {
  path: string;
  body: Freeze;
}

/** A RestClient that records PUTs and answers them with `answer`. */
function fakeClient(answer: (p: Put) => unknown = () => ({})): RestClient & { puts: Put[] } {
  const puts: Put[] = [];
  const client = {
    puts,
    async json(method: string, path: string, opts?: RequestOpts) {
      if (method !== 'PUT') throw new Error(`unexpected ${method} ${path}`);
      const put = { path, body: opts?.body as Freeze };
      puts.push(put);
      return answer(put);
    },
  };
  return client as unknown as RestClient & { puts: Put[] };
}

function setup(freezes: Freeze[], answer?: (p: Put) => unknown) {
  const cache = new FreezeCache({ client: {} as RestClient, log: memoryLogger() });
  const client = fakeClient(answer);
  const log = memoryLogger();
  const controller = new FreezeStatusController({ cache, client, log, clock: { now: () => NOW } });
  cache.replace(freezes);
  return { cache, client, log, controller };
}

/** One pass of a started controller over `freezes`, the PUTs answered with `answer`. */
async function onePass(freezes: Freeze[], answer?: (p: Put) => unknown) {
  const s = setup(freezes, answer);
  s.controller.start();
  await s.controller.whenIdle();
  s.controller.stop();
  return s;
}

const failing = (code: number, reason: string, message: string) => (p: Put) => {
  throw new ApiError(code, { code, reason: reason as never, message }, '', p.path);
};

describe('FreezeStatusController', () => {
  it('writes the status of each Freeze whose stored status differs, through freezes/status with its resourceVersion', async () => {
    const current = freeze('current', window('2026-06-10T00:00:00Z', '2026-06-11T00:00:00Z'));
    const upToDate = freeze('up-to-date', window('2026-07-01T00:00:00Z', '2026-07-02T00:00:00Z'));
    upToDate.status = desiredStatus(upToDate, evaluateFreeze(upToDate.spec, NOW), NOW);
    const { client } = await onePass([current, upToDate]);
    expect(client.puts.map((p) => p.path)).toEqual(['/apis/example.com/v1/namespaces/shop/freezes/current/status']);
    expect(client.puts[0]!.body.metadata.resourceVersion).toBe('42');
    expect(client.puts[0]!.body.status).toMatchObject({ active: true, currentWindow: { end: '2026-06-11T00:00:00Z' } });
  });

  it('looks again when a Freeze changes', async () => {
    const { cache, client, controller } = setup([]);
    controller.start();
    await controller.whenIdle();
    expect(client.puts).toEqual([]);
    cache.apply('ADDED', freeze('new', daily('0 17 * * fri', '2h')));
    await controller.whenIdle();
    controller.stop();
    expect(client.puts.map((p) => p.body.metadata.name)).toEqual(['new']);
    expect(client.puts[0]!.body.status?.nextWindow).toEqual({ start: '2026-06-12T17:00:00Z', end: '2026-06-12T19:00:00Z' });
  });

  it('leaves a conflict (another replica wrote first) to the event that follows, without retrying', async () => {
    const { client, log } = await onePass([freeze('f', window('2026-06-10T00:00:00Z', '2026-06-11T00:00:00Z'))], failing(409, 'Conflict', 'the object has been modified'));
    expect(client.puts).toHaveLength(1);
    expect(log.lines.filter((l) => l['level'] === 'warn')).toEqual([]);
  });

  it('logs and retries other failures', async () => {
    const { client, log } = await onePass([freeze('f', window('2026-06-10T00:00:00Z', '2026-06-11T00:00:00Z'))], failing(500, 'InternalError', 'etcd is away'));
    expect(client.puts).toHaveLength(1);
    expect(log.lines).toContainEqual(expect.objectContaining({ level: 'warn', msg: 'could not write a freeze status; retrying', freeze: 'shop/f', attempt: 1, error: 'etcd is away' }));
  });

  it('wakes at the earliest window boundary of any Freeze, and at least hourly', async () => {
    const { controller } = await onePass([
      freeze('ends-tonight', window('2026-06-10T00:00:00Z', '2026-06-11T00:00:00Z')),
      freeze('starts-at-one', window('2026-06-10T13:00:00Z', '2026-06-10T14:00:00Z')),
      freeze('next-month', window('2026-07-01T00:00:00Z', '2026-07-02T00:00:00Z')),
    ]);
    expect(controller.nextWake).toBe(Date.parse('2026-06-10T13:00:00Z'));
    const quiet = await onePass([freeze('next-month', window('2026-07-01T00:00:00Z', '2026-07-02T00:00:00Z'))]);
    expect(quiet.controller.nextWake).toBe(NOW.getTime() + 3_600_000);
  });
});

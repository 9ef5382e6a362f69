/** The time, injected (k8s.io/utils/clock's PassiveClock); tests pass a fixed one. */
export interface Clock {
  now(): Date;
}

export const realClock: Clock = { now: () => new Date() };

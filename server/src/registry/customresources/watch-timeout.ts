// How long a watch lasts. As kube-apiserver's handleWatch: timeoutSeconds
// when given and not 0; otherwise a random 1 to 2 times --min-request-timeout
// (1800 s), so that many clients' re-watches spread out. Node's timers hold
// at most 2^31-1 ms (about 24.8 days) and fire after 1 ms beyond that, so a
// longer timeout is held to that bound (Go's timers have none worth reaching).

/** kube-apiserver's default --min-request-timeout. */
const MIN_REQUEST_TIMEOUT_SECONDS = 1800;
/** The longest delay setTimeout honours. */
export const MAX_TIMER_MS = 2 ** 31 - 1;

export function watchTimeoutMs(timeoutSeconds: number | undefined, random: () => number = Math.random): number {
  const seconds = timeoutSeconds ? timeoutSeconds : MIN_REQUEST_TIMEOUT_SECONDS * (1 + random());
  return Math.min(seconds * 1000, MAX_TIMER_MS);
}

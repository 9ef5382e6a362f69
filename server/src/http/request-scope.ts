// The request a piece of work is done for, as Go's context.Context carries
// it: the filter chain runs each request's handler in a scope holding the
// request's AbortSignal, which its timeout (http/request-timeout.ts) or the
// client's leaving aborts, and the backend's RestClient joins that signal to
// every call it makes to kube-apiserver (contextSignal in config.ts), so a
// handler that times out stops waiting on kube-apiserver and its calls are
// cancelled. Work shared by many requests (a coalesced consistent read) runs
// detached, so that one request's end does not cancel it for the others.
import { AsyncLocalStorage } from 'node:async_hooks';

const scope = new AsyncLocalStorage<AbortSignal>();

/** Runs `fn` for the request whose end `signal` tells. */
export function inRequestScope<T>(signal: AbortSignal, fn: () => T): T {
  return scope.run(signal, fn);
}

/** The signal of the request being served here, if any. */
export function currentRequestSignal(): AbortSignal | undefined {
  return scope.getStore();
}

/** Runs `fn` outside any request: what it starts is not cancelled when the request that happened to start it ends. */
export function detached<T>(fn: () => T): T {
  return scope.exit(fn);
}

// For the plugin's unit tests: the dependencies of `run` with buffers for
// output, a fixed clock, and a fake of our own RestClient interface that
// answers scripted requests and records them (no cluster; what the server
// does is tested against a real one in test/integration/).
import type { IncomingMessage } from 'node:http';
import { Readable } from 'node:stream';
import type { ConnectionFlags, ResolvedConfig } from '../../../client/src/kubeconfig.ts';
import type { RequestOpts, RestClient } from '../../../client/src/rest-client.ts';
import { ApiError } from '../../../client/src/errors.ts';
import type { CustomResource } from '../../../api/src/types.ts';
import type { Deps, InStream } from '../deps.ts';

export const NOW = new Date('2025-06-01T12:00:00Z');

/** A CustomResource in namespace shop on the path [dev, prod], as the server serves it. */
export const customResource = (name: string, resourceVersion: string, state = 'dev'): CustomResource => ({
  apiVersion: 'custom.example.com/v1',
  kind: 'CustomResource',
  metadata: { name, namespace: 'shop', resourceVersion },
  spec: { name, states: ['dev', 'prod'] },
  status: { state, valid: true },
});

/** What connect throws when a test gave no client: the command got as far as connecting. */
class ConnectSentinel extends Error {
  constructor() {
    super('sentinel: connect was called');
  }
}

export interface Harness {
  deps: Deps;
  out: () => string;
  err: () => string;
  /** The flags connect received, one entry per call. */
  connects: ConnectionFlags[];
}

export function harness(opts: { env?: NodeJS.ProcessEnv; client?: RestClient; stdin?: InStream; now?: () => Date } = {}): Harness {
  let out = '';
  let err = '';
  const connects: ConnectionFlags[] = [];
  const deps: Deps = {
    streams: {
      in: opts.stdin ?? { isTTY: false },
      out: { write: (s: string | Uint8Array) => ((out += String(s)), true), isTTY: false },
      err: { write: (s: string | Uint8Array) => ((err += String(s)), true), isTTY: false },
    },
    clock: { now: opts.now ?? (() => NOW) },
    env: opts.env ?? {},
    version: '0.1.0',
    connect: async (flags) => {
      connects.push(structuredClone(flags));
      if (opts.client) return opts.client;
      throw new ConnectSentinel();
    },
  };
  return { deps, out: () => out, err: () => err, connects };
}

/** A terminal whose user types `lines` (or closes it without a word). */
export function terminalInput(...lines: string[]): InStream {
  return Object.assign(Readable.from(lines.map((l) => `${l}\n`)), { isTTY: true });
}

export interface FakeCall {
  method: string;
  path: string;
  opts: RequestOpts | undefined;
}

/** Answers a request: returns the JSON body, or throws (an ApiError for a failed request). */
type FakeRoute = (call: FakeCall) => unknown;

const TEST_CONFIG: ResolvedConfig = { server: 'https://k.example', namespace: 'shop', namespaceExplicit: true, tls: { insecure: false }, auth: {}, timeoutMs: 0 };

/**
 * A RestClient answering `METHOD /path` from `routes` (a value, or a
 * function of the call); any other request fails the test with a clear
 * message. `calls` lists every request in order.
 */
export function fakeClient(routes: Record<string, unknown>, config: ResolvedConfig = TEST_CONFIG): RestClient & { calls: FakeCall[]; closed: number } {
  const calls: FakeCall[] = [];
  const client = {
    config,
    calls,
    closed: 0,
    async json<T>(method: string, path: string, opts?: RequestOpts): Promise<T> {
      const call = { method, path, opts };
      calls.push(call);
      const key = `${method} ${path}`;
      if (!(key in routes)) throw new Error(`unexpected request: ${key}`);
      const route = routes[key];
      return structuredClone(typeof route === 'function' ? await (route as FakeRoute)(call) : route) as T;
    },
    /** The same routes, answered as a raw response: a thrown ApiError becomes its status and Status body. */
    async send(method: string, path: string, opts?: RequestOpts): Promise<IncomingMessage> {
      let code = 200;
      let body: unknown;
      try {
        body = await client.json(method, path, opts);
      } catch (e) {
        if (!(e instanceof ApiError)) throw e;
        code = e.code;
        body = e.status ?? e.text;
      }
      const text = typeof body === 'string' ? body : JSON.stringify(body);
      return Object.assign(Readable.from([Buffer.from(text)]), { statusCode: code, headers: {} }) as unknown as IncomingMessage;
    },
    /** A watch: the route `WATCH /path` returns the stream the test writes events to (or throws). */
    async stream(path: string, opts?: RequestOpts): Promise<IncomingMessage> {
      const call = { method: 'WATCH', path, opts };
      calls.push(call);
      const route = routes[`WATCH ${path}`];
      if (typeof route !== 'function') throw new Error(`unexpected watch: ${path}`);
      const res = (await (route as FakeRoute)(call)) as IncomingMessage;
      // As the real client does: aborting the request ends the stream.
      opts?.signal?.addEventListener('abort', () => res.destroy(Object.assign(new Error('aborted'), { name: 'AbortError' })), { once: true });
      return res;
    },
    close() {
      client.closed++;
    },
  };
  return client as unknown as RestClient & { calls: FakeCall[]; closed: number };
}

/** A failed request as the client reports it: the server's Status in an ApiError. */
export function apiError(code: number, reason: string, message: string, path = '/x', details?: Record<string, unknown>): ApiError {
  return new ApiError(code, { kind: 'Status', code, reason: reason as never, message, ...(details ? { details } : {}) }, '', path);
}

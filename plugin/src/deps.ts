// Everything a command needs from the outside world, injected: streams,
// clock, environment, and how to connect to the cluster. Tests pass their own.
import type { Writable } from 'node:stream';
import type { ConnectionFlags } from '../../client/src/kubeconfig.ts';
import type { RestClient } from '../../client/src/rest-client.ts';
import { PROJECT_VERSION } from '../../api/src/version.ts';

export interface OutStream extends Pick<Writable, 'write'> {
  isTTY?: boolean;
  columns?: number;
  rows?: number;
}

/**
 * Standard input: whether it is a terminal (exec credential plugins and
 * confirmations ask only then) and, to read a confirmation, the stream
 * itself. Tests that never prompt pass `{ isTTY: false }`.
 */
export type InStream = { isTTY?: boolean } & Partial<NodeJS.ReadableStream>;

export interface IOStreams {
  in: InStream;
  out: OutStream;
  err: OutStream;
}

export interface Clock {
  now(): Date;
}

export interface Deps {
  streams: IOStreams;
  clock: Clock;
  env: NodeJS.ProcessEnv;
  /** Resolves the kubeconfig like kubectl and returns a client; loaded lazily so --help stays fast. */
  connect(flags: ConnectionFlags): Promise<RestClient>;
  version: string;
}

export async function defaultConnect(flags: ConnectionFlags, streams: IOStreams, env: NodeJS.ProcessEnv): Promise<RestClient> {
  const [{ resolveConfig }, { newRestClient }] = await Promise.all([import('../../client/src/kubeconfig.ts'), import('../../client/src/rest-client.ts')]);
  const config = resolveConfig(flags, env);
  return newRestClient(config, { userAgent: `kubectl-custom/${PROJECT_VERSION}`, exec: { stdinIsTTY: !!streams.in.isTTY, env }, caIsProcessDefault: true });
}

// Everything a command needs from the outside world, injected: streams,
// clock, environment, and how to connect to the cluster. Tests pass their own.
import type { Writable } from 'node:stream';
import type { ConnectionFlags } from './kube/kubeconfig.ts';
import type { KubeClient } from './kube/client.ts';

export interface OutStream extends Pick<Writable, 'write'> {
  isTTY?: boolean;
  columns?: number;
  rows?: number;
}

export interface IOStreams {
  in: { isTTY?: boolean };
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
  connect(flags: ConnectionFlags): Promise<KubeClient>;
  version: string;
}

export async function defaultConnect(flags: ConnectionFlags, streams: IOStreams, env: NodeJS.ProcessEnv): Promise<KubeClient> {
  const [{ resolveConfig }, { newKubeClient }] = await Promise.all([import('./kube/kubeconfig.ts'), import('./kube/client.ts')]);
  const config = resolveConfig(flags, env);
  return newKubeClient(config, { stdinIsTTY: !!streams.in.isTTY, env });
}

// What every scenario gets: the stack, clients to it, the configuration and
// the report to add its rows to.
import type { Stack } from '../cluster/stack.ts';
import type { BenchConfig } from './config.ts';
import type { BenchClient } from './http-client.ts';
import type { Report } from './report.ts';

export interface Ctx {
  stack: Stack;
  /** The cluster admin, through kube-apiserver (both sides of every comparison). */
  c: BenchClient;
  /** Straight to the backend as kube-apiserver's proxy asks it (breakdowns only). */
  backend: BenchClient;
  cfg: BenchConfig;
  report: Report;
  /** The repository's root. */
  root: string;
  /** The processes whose CPU time is measured. */
  pids: { backend: number; kubeApiserver: number; etcd: number };
}

// The shape of `kubectl custom doctor`'s checks, as linkerd check and
// istioctl analyze shape theirs: each has a stable id (for -o json and
// scripts), a group, a title, and an outcome: ✔ ok, ‼ a warning, × a
// failure with what is wrong and what to do, or skipped with why.
import type { Probe } from './probe.ts';

export type CheckStatus = 'ok' | 'warn' | 'fail' | 'skip';

export interface Outcome {
  status: CheckStatus;
  message: string;
  /** What to do: the exact command where there is one. */
  hint?: string;
}

export type Group = 'pre' | 'installed' | 'certificates' | 'backend-permissions' | 'admission' | 'you' | 'performance';

export const GROUP_TITLES: Record<Group, string> = {
  pre: 'Before installing',
  installed: 'Installed and Available',
  certificates: 'Certificates',
  'backend-permissions': "The backend's own permissions",
  admission: 'Admission',
  you: 'You',
  performance: 'Performance',
};

export interface Check {
  id: string;
  group: Group;
  title: string;
  run(p: Probe): Promise<Outcome>;
}

export interface CheckResult extends Outcome {
  id: string;
  group: Group;
  title: string;
}

export const ok = (message: string): Outcome => ({ status: 'ok', message });
export const warn = (message: string, hint?: string): Outcome => ({ status: 'warn', message, ...(hint ? { hint } : {}) });
export const fail = (message: string, hint?: string): Outcome => ({ status: 'fail', message, ...(hint ? { hint } : {}) });
export const skip = (message: string): Outcome => ({ status: 'skip', message });

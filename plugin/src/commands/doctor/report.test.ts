import { Chalk } from 'chalk';
import { describe, expect, it } from 'vitest';
import type { CheckResult } from './check.ts';
import { renderJson, renderText, summarize, verdict } from './report.ts';

const plain = new Chalk({ level: 0 });
const r = (id: string, group: CheckResult['group'], status: CheckResult['status'], message: string, hint?: string): CheckResult => ({ id, group, title: id, status, message, ...(hint ? { hint } : {}) });

describe('doctor report', () => {
  const results = [
    r('installed.crds', 'installed', 'ok', 'all four'),
    r('installed.apiservice', 'installed', 'fail', 'Available=False (FailedDiscoveryCheck)', 'kubectl custom install-certs'),
    r('certificates.serving', 'certificates', 'warn', 'expires in 3 days', 'renew\nor this'),
    r('certificates.front-proxy', 'certificates', 'skip', 'you may not read it', 'never shown'),
    r('you.identity', 'you', 'ok', 'alice', 'not shown for ok'),
  ];

  it('groups the checks under their titles, marks each, and shows hints only under a warning or a failure', () => {
    expect(renderText(results, plain).split('\n')).toEqual([
      'Installed and Available',
      '-----------------------',
      '✔ installed.crds: all four',
      '× installed.apiservice: Available=False (FailedDiscoveryCheck)',
      '    fix: kubectl custom install-certs',
      '',
      'Certificates',
      '------------',
      '‼ certificates.serving: expires in 3 days',
      '    fix: renew',
      '         or this',
      '— certificates.front-proxy: you may not read it',
      '',
      'You',
      '---',
      '✔ you.identity: alice',
      '',
      '× 1 check failed, 1 warning: fix what is marked × above, then run kubectl custom doctor again',
      '',
    ]);
  });

  it('escapes what the cluster says before it reaches the terminal', () => {
    expect(renderText([r('x', 'you', 'fail', 'bad\x1b[2Jname')], plain)).not.toContain('\x1b[2J');
  });

  it('says what the whole run found', () => {
    expect(verdict(summarize([]))).toBe('✔ every check passed');
    expect(verdict({ ok: 3, warn: 2, fail: 0, skip: 1 })).toBe('‼ no check failed, 2 warnings to look at');
    expect(verdict({ ok: 0, warn: 0, fail: 2, skip: 0 })).toBe('× 2 checks failed: fix what is marked × above, then run kubectl custom doctor again');
  });

  it('-o json: every check with id, group, status, message and hint, and the counts', () => {
    const doc = JSON.parse(renderJson(results)) as { kind: string; checks: Record<string, unknown>[]; summary: unknown };
    expect(doc.kind).toBe('DoctorReport');
    expect(doc.checks).toHaveLength(5);
    expect(doc.checks[1]).toEqual({ id: 'installed.apiservice', group: 'installed', title: 'installed.apiservice', status: 'fail', message: 'Available=False (FailedDiscoveryCheck)', hint: 'kubectl custom install-certs' });
    expect(doc.summary).toEqual({ ok: 2, warn: 1, fail: 1, skip: 1 });
  });
});

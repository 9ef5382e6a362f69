// The story `npm run demo` tells once the stack runs and manifests/samples
// are applied: every gate, met by the people manifests/samples/people.yaml
// names, through the plugin as kubectl runs it, each person with a
// kubeconfig of their own. The steps run once per cluster (they move the
// samples); later runs show where everything stands.
import { spawnSync } from 'node:child_process';
import { delimiter } from 'node:path';
import { styleText } from 'node:util';
import type { ClusterInfo } from './control-plane.ts';
import type { UserName } from './pki.ts';

export interface DemoOptions {
  cluster: Pick<ClusterInfo, 'kubeconfigs' | 'binaries'>;
  /** Folders to put first on PATH: where kubectl-custom is. */
  path: string[];
  /** Where the story is told; stdout by default (in colour on a terminal, as the plugin's own output). */
  write?: (s: string) => void;
  /**
   * A Prometheus the backend can reach, scraping a metrics file the demo
   * writes: the chapter on checks runs only with one (not with the backend
   * in a node, whose pod cannot reach the host's loopback).
   */
  metrics?: { prometheus: string; setErrorRatio(app: string, ratio: number): void };
}

const shellWord = (a: string) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`);

export class Demo {
  private readonly o: DemoOptions;
  private readonly write: (s: string) => void;
  /** Colour the plugin's output as it would colour a terminal: only when telling the story on one. */
  private readonly colour: boolean;

  constructor(o: DemoOptions) {
    this.o = o;
    this.write = o.write ?? ((s) => process.stdout.write(s));
    this.colour = !o.write && process.stdout.isTTY === true && !process.env['NO_COLOR'];
  }

  private out(s = ''): void {
    this.write(s + '\n');
  }

  private heading(s: string): void {
    this.out('\n' + (this.colour ? styleText('bold', s, { validateStream: false }) : s));
  }

  private note(s: string): void {
    this.out(this.colour ? styleText('dim', s, { validateStream: false }) : s);
  }

  private run(user: UserName, args: string[], colour = false) {
    // Output is captured, so the plugin sees no terminal: FORCE_COLOR when the story is told on one, and never otherwise.
    const { FORCE_COLOR: _inherited, ...base } = process.env;
    const env = { ...base, PATH: [...this.o.path, process.env['PATH'] ?? ''].join(delimiter), KUBECONFIG: this.o.cluster.kubeconfigs[user], ...(colour ? { FORCE_COLOR: '1' } : {}) };
    return spawnSync(this.o.cluster.binaries.kubectl, args, { env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  }

  /** `kubectl custom ARGS` as `user`, quietly; its stdout, or undefined when it failed. */
  query(user: UserName, args: string[]): string | undefined {
    const r = this.run(user, ['custom', ...args]);
    return r.status === 0 ? r.stdout : undefined;
  }

  /** `kubectl ARGS` as `user`, quietly; throws with its stderr when it fails. */
  kubectl(user: UserName, args: string[]): string {
    const r = this.run(user, args);
    if (r.status !== 0) throw new Error(`kubectl ${args.join(' ')} failed:\n${r.stderr}`);
    return r.stdout;
  }

  /**
   * Shows `$ kubectl custom ARGS   # as USER: why` and what the plugin prints.
   * `refused`: the step shows a gate at work, so the plugin must fail.
   */
  step(user: UserName, args: string[], why = '', expect: 'ok' | 'refused' = 'ok'): void {
    this.kubectlStep(user, ['custom', ...args], why, expect);
  }

  /** As step, for any kubectl command (the doors that are not the plugin's). */
  kubectlStep(user: UserName, args: string[], why = '', expect: 'ok' | 'refused' = 'ok'): void {
    const comment = `# as ${user}${why ? `: ${why}` : ''}`;
    this.out(`$ kubectl ${args.map(shellWord).join(' ')}   ${this.colour ? styleText('dim', comment, { validateStream: false }) : comment}`);
    const r = this.run(user, args, this.colour);
    this.write(r.stdout + r.stderr);
    const said = `\`kubectl ${args.join(' ')}\` as ${user}`;
    if (expect === 'ok' && r.status !== 0) throw new Error(`the demo expected ${said} to succeed`);
    if (expect === 'refused' && r.status === 0) throw new Error(`the demo expected ${said} to be refused`);
  }

  /** Polls `ok` (every 100 ms, up to `seconds`). */
  waitUntil(what: string, ok: () => boolean, seconds = 20): void {
    for (let i = 0; i < seconds * 10; i++) {
      if (ok()) return;
      spawnSync('sleep', ['0.1']);
    }
    throw new Error(`timed out waiting until ${what}`);
  }

  /** Has the story run on this cluster already? (It moves cart out of dev.) */
  ran(): boolean {
    return this.kubectl('admin', ['get', 'customresources.example.com', '-n', 'shop', 'cart', '-o', 'jsonpath={.status.history}']) !== '';
  }

  story(): void {
    // The backend serves the samples once its caches have them.
    this.waitUntil('the backend serves the samples', () => this.query('admin', ['describe-state', 'cluster-eu-1', '-n', 'platform']) !== undefined);
    // Chapter 5's metric, from the start: Prometheus has long scraped it when the check is added.
    this.o.metrics?.setErrorRatio('checkout', 0.08);

    this.heading('1. A soak: checkout spends an hour in staging before prod');
    this.note('(its spec says so, and so does the cluster\'s GatePolicy for team=payments: manifests/samples)');
    this.step('alice', ['promote', 'checkout', '-n', 'shop', '--reason', 'integration tests green']);
    this.step('alice', ['promote', 'checkout', '-n', 'shop', '--reason', 'ship it', '--dry-run'], 'what would stop it? (every gate at once)', 'refused');

    this.heading('2. A protected state with four eyes: cart into prod needs `enter` and two approvals');
    this.note('(alice is a release manager: she may enter prod and approve; bob and carol may only approve)');
    this.step('alice', ['promote', 'cart', '-n', 'shop', '--reason', 'unit tests green']);
    this.step('bob', ['promote', 'cart', '-n', 'shop', '--reason', 'release 2.4'], 'bob may not enter prod', 'refused');
    this.step('alice', ['approve', 'cart', '-n', 'shop', '--reason', 'release 2.4 reviewed'], 'her own approval will not count for her own promote');
    this.step('bob', ['approve', 'cart', '-n', 'shop', '--reason', 'release notes checked']);
    this.step('alice', ['promote', 'cart', '-n', 'shop', '--reason', 'release 2.4'], 'only bob\'s approval counts: 1 of 2', 'refused');
    this.step('carol', ['approve', 'cart', '-n', 'shop', '--reason', 'load test passed']);
    this.step('alice', ['promote', 'cart', '-n', 'shop', '--reason', 'release 2.4']);
    this.step('alice', ['history', 'cart', '-n', 'shop'], 'the trail names the approvers');

    this.heading('3. A freeze: nothing moves into draining in namespace platform for two hours');
    this.step('admin', ['freeze', '-n', 'platform', '--states', 'draining', '--for', '2h', '--name', 'eu-peak', '--reason', 'EU peak season: every cluster keeps serving']);
    // The backend enforces what its watch of Freezes has seen: wait for it.
    this.waitUntil('the backend sees the freeze', () => /"promoteBlockedBy":\s*\[[^\]]*"freeze"/.test(this.query('admin', ['describe-state', 'cluster-eu-1', '-n', 'platform', '-o', 'json']) ?? ''));
    this.step('admin', ['list', '-n', 'platform']);
    this.step('admin', ['promote', 'cluster-eu-1', '-n', 'platform', '--reason', 'moving workloads to eu-2'], 'a freeze holds cluster admins too', 'refused');
    this.note('The freeze stays active: it ends by itself in two hours. Rollbacks pass it, `promote --override` breaks it on the record,');
    this.note('and `kubectl custom unfreeze eu-peak -n platform` lifts it now.');

    this.heading('4. Every door: no way into prod round its gates');
    this.note('(rollbacks into prod need `enter` too; creating, editing spec or labels, deleting and re-creating are judged on the same gates)');
    this.step('alice', ['set-state', 'cart', 'staging', '-n', 'shop', '--reason', 'incident 4711: roll back'], 'a rollback passes soak, approvals and freezes');
    this.kubectlStep('bob', ['patch', 'customresources.example.com', 'cart', '-n', 'shop', '--type=merge', '-p', '{"spec":{"states":["dev","prod","staging"]}}'], 'put prod before staging, then "roll back" into it?', 'refused');
    if (this.o.metrics) this.checks(this.o.metrics);
  }

  /** The check's run as describe-state reports it: its phase and the newest measurement's. */
  private checkRun(): { phase?: string; last?: string } {
    const doc = JSON.parse(this.query('admin', ['describe-state', 'checkout', '-n', 'shop', '-o', 'json']) ?? '{}') as { checks?: { gate: string; check?: { phase: string; last?: { phase: string } } }[] };
    const c = doc.checks?.find((x) => x.gate === 'checks')?.check;
    return { ...(c?.phase ? { phase: c.phase } : {}), ...(c?.last ? { last: c.last.phase } : {}) };
  }

  private checks(metrics: NonNullable<DemoOptions['metrics']>): void {
    this.heading("5. A check: checkout enters prod only while its error rate in staging is below 1%");
    this.note(`(a Prometheus on ${metrics.prometheus} scrapes checkout's error ratio; the backend measures it while checkout is in staging)`);
    const check = { name: 'error-rate', prometheus: { address: metrics.prometheus, query: 'shop_error_ratio{app="{{name}}"}' }, successCondition: 'result[0] < 0.01', count: 3, intervalSeconds: 2 };
    this.kubectlStep('admin', ['patch', 'customresources.example.com', 'checkout', '-n', 'shop', '--type=merge', '-p', JSON.stringify({ spec: { checks: { prod: [check] } } })], 'the team adds a check (removing or changing one later needs override)');
    this.waitUntil('the backend has measured the error rate', () => this.checkRun().last === 'Failed', 60);
    this.step('alice', ['check', 'checkout', '-n', 'shop'], 'the error rate now: 8%', 'refused');
    metrics.setErrorRatio('checkout', 0.002);
    this.note('The error rate drops to 0.2%. A run of three measurements, two seconds apart, must pass:');
    this.waitUntil('the check has passed', () => this.checkRun().phase === 'Successful', 90);
    this.step('alice', ['check', 'checkout', '-n', 'shop']);
    this.step('alice', ['describe-state', 'checkout', '-n', 'shop'], 'the check has passed; the hour of soak still holds the promote');
  }
}

// 1. The CLI against kubectl: `kubectl custom list` against `kubectl get` of
// the CRD (100 objects), and the executable's start (`--help`) against a Go
// binary's (`kubectl version --client`); with the breakdown that explains
// them: kubectl finding and starting a plugin, and the runtime's own start.
// And the choice of runtime, measured: the shipped executable (Bun,
// dist/kubectl-custom) against the same plugin as a Node SEA with its
// start-up snapshot (dist/build/kubectl-custom-node-sea) on `--help`,
// `list`, `describe-state`, and size.
import { execFile } from 'node:child_process';
import { statSync } from 'node:fs';
import { delimiter, dirname, join } from 'node:path';
import type { Ctx } from '../context.ts';
import { ms } from '../report.ts';
import { interleave, summarize, type Summary } from '../stats.ts';

function run(cmd: string, args: string[], env: NodeJS.ProcessEnv): Promise<string> {
  return new Promise((resolve, reject) => execFile(cmd, args, { env, maxBuffer: 64 << 20 }, (err, stdout) => (err ? reject(err) : resolve(stdout))));
}

/** Where the Node SEA build of the plugin is made for this comparison (not on kubectl's PATH). */
export function nodeSeaExecutable(root: string): string {
  return join(root, 'dist/build/kubectl-custom-node-sea');
}

export async function scenarioCli(ctx: Ctx, ns: string, objects: number): Promise<void> {
  const { stack, report, cfg, root } = ctx;
  const kubectl = stack.cluster.binaries.kubectl;
  const exe = join(root, 'dist/kubectl-custom');
  const sea = nodeSeaExecutable(root);
  const env = { ...process.env, PATH: [join(root, 'dist'), dirname(kubectl), process.env['PATH'] ?? ''].join(delimiter), KUBECONFIG: stack.cluster.kubeconfigs.admin, NO_COLOR: '1' };
  // Both must list every object (a table: one line per object and a header).
  for (const [what, out] of [['kubectl custom list', await run(kubectl, ['custom', 'list', '-n', ns], env)], ['kubectl get', await run(kubectl, ['get', 'customresources.example.com', '-n', ns], env)]] as const) {
    const rows = out.split('\n').filter((l) => /\bobj-\d+\b/.test(l)).length;
    if (rows !== objects) throw new Error(`${what} -n ${ns} printed ${rows} objects, not ${objects}:\n${out.slice(0, 500)}`);
  }
  const list = await interleave(cfg.cliRuns, {
    plugin: () => run(kubectl, ['custom', 'list', '-n', ns], env),
    kubectl: () => run(kubectl, ['get', 'customresources.example.com', '-n', ns], env),
    alone: () => run(exe, ['list', '-n', ns], env),
    seaList: () => run(sea, ['list', '-n', ns], env),
  });
  const start = await interleave(cfg.cliRuns, {
    help: () => run(exe, ['--help'], env),
    version: () => run(kubectl, ['version', '--client'], env),
    node: () => run(process.execPath, ['-e', '0'], env),
    pluginHelp: () => run(kubectl, ['custom', '--help'], env),
    seaHelp: () => run(sea, ['--help'], env),
  });
  const describe = await interleave(cfg.cliRuns, {
    bun: () => run(exe, ['describe-state', 'obj-0', '-n', ns], env),
    sea: () => run(sea, ['describe-state', 'obj-0', '-n', ns], env),
  });
  const s = {
    plugin: summarize(list.plugin), kubectl: summarize(list.kubectl), alone: summarize(list.alone),
    help: summarize(start.help), version: summarize(start.version), node: summarize(start.node), pluginHelp: summarize(start.pluginHelp),
    seaList: summarize(list.seaList), seaHelp: summarize(start.seaHelp), describe: summarize(describe.bun), seaDescribe: summarize(describe.sea),
  };
  const p = (k: keyof typeof s) => s[k].p50;
  // kubectl finding and starting a plugin: the same command with and without kubectl in front.
  const lookup = p('plugin') - p('alone');
  const nodeFloor = (p('node') + Math.max(0, lookup)) / p('kubectl');
  report.add({
    scenario: '1 CLI', measure: `list ${objects} objects (wall time)`,
    a: { name: 'kubectl custom list', summary: s.plugin }, b: { name: 'kubectl get customresources.example.com', summary: s.kubectl },
    target: '≤ 1.3×', pass: p('plugin') / p('kubectl') <= 1.3,
    cause: `kubectl custom list takes ${ms(p('plugin'))} ms against kubectl get's ${ms(p('kubectl'))} ms (+${ms(p('plugin') - p('kubectl'))} ms). Of that, kubectl finding and starting the plugin costs ${ms(lookup)} ms (kubectl custom list − kubectl-custom list alone, ${ms(p('alone'))} ms), and Node's own start is ${ms(p('node'))} ms (node -e 0) against ${ms(p('version'))} ms for a Go binary's (kubectl version --client). For comparison, a Node plugin that did nothing would take about ${ms(p('node') + Math.max(0, lookup))} ms (Node's start plus the plugin lookup), ${nodeFloor.toFixed(2)}× kubectl get.`,
  });
  report.add({
    scenario: '1 CLI', measure: 'start-up: `--help` of the executable alone against a Go binary\'s start (wall time)',
    a: { name: 'kubectl-custom --help', summary: s.help }, b: { name: 'kubectl version --client', summary: s.version },
    target: '≤ 1.0×', pass: p('help') / p('version') <= 1.0,
    cause: `kubectl-custom --help takes ${ms(p('help'))} ms against ${ms(p('version'))} ms for kubectl version --client; Node's own start (node -e 0) takes ${ms(p('node'))} ms, ${(p('node') / p('version')).toFixed(2)}× the Go binary's, and the same plugin as a Node SEA ${ms(p('seaHelp'))} ms.`,
  });
  runtimeRows(ctx, s, exe, sea);
  report.add({
    scenario: '1 CLI', measure: 'breakdown: kubectl finding and starting the plugin (list)',
    a: { name: 'kubectl custom list', summary: s.plugin }, b: { name: 'kubectl-custom list (no kubectl in front)', summary: s.alone },
    note: `+${ms(lookup)} ms`,
  });
  report.add({
    scenario: '1 CLI', measure: 'breakdown: kubectl finding and starting the plugin (--help)',
    a: { name: 'kubectl custom --help', summary: s.pluginHelp }, b: { name: 'kubectl-custom --help', summary: s.help },
    note: `+${ms(p('pluginHelp') - p('help'))} ms`,
  });
  report.add({
    scenario: '1 CLI', measure: 'breakdown: Node\'s own start against a Go binary\'s',
    a: { name: 'node -e 0', summary: s.node }, b: { name: 'kubectl version --client', summary: s.version },
  });
  report.note('1 CLI', `each command is a fresh process run ${cfg.cliRuns} times (after 3 warm-up rounds), the commands of a group interleaved in rotating order; kubectl is the one built with the control plane, the plugin dist/kubectl-custom found on PATH, both with the same kubeconfig (client certificate).`);
}

/** The runtime chosen by measurement: the shipped Bun executable against the Node SEA, command by command, and their sizes. */
function runtimeRows(ctx: Ctx, s: Record<'help' | 'seaHelp' | 'alone' | 'seaList' | 'describe' | 'seaDescribe', Summary>, exe: string, sea: string): void {
  const rows = [
    ['--help', s.help, s.seaHelp],
    ['list (100 objects)', s.alone, s.seaList],
    ['describe-state', s.describe, s.seaDescribe],
  ] as const;
  for (const [what, bun, node] of rows) {
    ctx.report.add({
      scenario: '1 CLI', measure: `runtime: \`kubectl-custom ${what}\`, Bun executable (shipped) against Node SEA with start-up snapshot`,
      a: { name: 'Bun (bun build --compile --bytecode)', summary: bun }, b: { name: 'Node 24 SEA (useSnapshot)', summary: node },
      target: '≤ 1.0×', pass: bun.p50 <= node.p50,
      cause: `the runtime that ships is the one that starts faster: ${ms(bun.p50)} ms against ${ms(node.p50)} ms.`,
    });
  }
  const mb = (f: string) => statSync(f).size / 1e6;
  ctx.report.note('1 CLI', `executable size: Bun ${mb(exe).toFixed(0)} MB, Node SEA ${mb(sea).toFixed(0)} MB (linux/amd64, uncompressed).`);
}

// What a run of `npm run bench` found: rows of A against B with their ratio
// and target (or info rows without one), the measured cause of every target
// missed, and notes on how things were measured; written as
// bench/results/<date>.json and the table of bench/RESULTS.md.
import { cpus, hostname, loadavg, release, totalmem } from 'node:os';
import type { Summary } from './stats.ts';

export interface Side {
  name: string;
  summary?: Summary;
  value?: number;
  /** The unit of `value` (ms, MiB, changes/s, …). */
  unit?: string;
  /** Shown instead of a number (counts, completeness). */
  text?: string;
}

export interface Row {
  scenario: string;
  measure: string;
  a: Side;
  b?: Side;
  /** Which figure of the summaries is compared (p50 unless said). */
  stat?: 'p50' | 'p99';
  ratio?: number;
  /** Absent for an info row. */
  target?: string;
  pass?: boolean;
  note?: string;
  /** For a missed target: the measured cause and the floor it runs into. */
  cause?: string;
}

export interface Machine {
  host: string;
  cpu: string;
  cores: number;
  memoryGiB: number;
  kernel: string;
  node: string;
  kubernetes: string;
  /** 1, 5 and 15 minute load averages when the run started and when it ended. */
  loadAtStart: number[];
  loadAtEnd?: number[];
  date: string;
  seconds?: number;
}

export function machine(kubernetes: string): Machine {
  return {
    host: hostname(),
    cpu: cpus()[0]?.model ?? 'unknown',
    cores: cpus().length,
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    kernel: release(),
    node: process.version,
    kubernetes,
    loadAtStart: loadavg().map((x) => Number(x.toFixed(2))),
    date: new Date().toISOString(),
  };
}

export const log = (s: string) => process.stderr.write(`[bench] ${s}\n`);

export const ms = (x: number) => (x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x.toFixed(2));

function ratio(a: number, b: number): number {
  return b === 0 ? NaN : a / b;
}

function fmtSide(s: Side, stat: 'p50' | 'p99'): string {
  if (s.text !== undefined) return `${s.name}: ${s.text}`;
  if (s.summary) {
    const other = stat === 'p50' ? 'p99' : 'p50';
    return `${s.name}: **${stat} ${ms(s.summary[stat])} ms** (${other} ${ms(s.summary[other])} ms, n=${s.summary.n})`;
  }
  const v = s.value;
  return `${s.name}: **${v === undefined || Number.isNaN(v) ? '–' : v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2)}${s.unit ? ` ${s.unit}` : ''}**`;
}

const resultOf = (r: Row) => (r.target === undefined ? 'info' : r.pass ? 'pass' : '**missed**');

export class Report {
  readonly rows: Row[] = [];
  /** How each scenario was measured, with figures from this run. */
  readonly notes: { scenario: string; text: string }[] = [];
  readonly data: Record<string, unknown> = {};

  add(r: Row): Row {
    const stat = r.stat ?? 'p50';
    if (r.ratio === undefined && r.b) {
      const a = r.a.summary ? r.a.summary[stat] : r.a.value;
      const b = r.b.summary ? r.b.summary[stat] : r.b.value;
      if (a !== undefined && b !== undefined) r.ratio = ratio(a, b);
    }
    this.rows.push(r);
    log(`${r.scenario} — ${r.measure}: ${fmtSide(r.a, stat).replaceAll('**', '')}${r.b ? `; ${fmtSide(r.b, stat).replaceAll('**', '')}` : ''}${r.ratio !== undefined ? `; ratio ${r.ratio.toFixed(2)}` : ''} → ${resultOf(r).replaceAll('*', '')}${r.target ? ` (${r.target})` : ''}`);
    if (r.pass === false && r.cause) log(`  cause: ${r.cause}`);
    return r;
  }

  note(scenario: string, text: string): void {
    this.notes.push({ scenario, text });
  }

  markdown(m: Machine, reduced: string[], jsonFile: string): string {
    // In scenario order (the run's order differs: object counts grow as it goes), stable within a scenario.
    const order = (r: Row) => Number.parseInt(r.scenario, 10) || 0;
    const rows = [...this.rows].sort((x, y) => order(x) - order(y)).map((r) => {
      const stat = r.stat ?? 'p50';
      const cells = [r.scenario, r.measure, fmtSide(r.a, stat), r.b ? fmtSide(r.b, stat) : '', r.ratio !== undefined && !Number.isNaN(r.ratio) ? `${r.ratio.toFixed(2)}×` : '', r.target ?? '–', `${resultOf(r)}${r.note ? ` (${r.note})` : ''}`];
      return `| ${cells.map((c) => c.replaceAll('|', '\\|')).join(' | ')} |`;
    });
    const missed = [...this.rows].sort((x, y) => order(x) - order(y)).filter((r) => r.pass === false);
    const load = (l?: number[]) => (l ? l.join(' / ') : '?');
    return `# Benchmark results

Run with \`npm run bench\` on ${m.date} (${m.seconds ?? '?'} s) on \`${m.host}\`: ${m.cores} × ${m.cpu}, ${m.memoryGiB} GiB, Linux ${m.kernel}, Node ${m.node}, Kubernetes ${m.kubernetes}. Load average (1 / 5 / 15 min) ${load(m.loadAtStart)} at the start, ${load(m.loadAtEnd)} at the end.
${reduced.length ? `\n**Reduced run** (${reduced.join(', ')}): sizes or scenarios differ from the real ones; not a result to quote.\n` : ''}
Every comparison ran in this run, A and B interleaved (the order rotating), on the same objects with the same clients; A/B is the ratio of the figure in bold. Rows without a target are information.

| scenario | measure | A | B | A/B | target | result |
|---|---|---|---|---|---|---|
${rows.join('\n')}

## Targets missed
${missed.length ? missed.map((r) => `- **${r.scenario}, ${r.measure}** (${r.ratio !== undefined ? `${r.ratio.toFixed(2)}×` : 'see row'}, target ${r.target}): ${r.cause ?? 'no cause measured'}`).join('\n') : '\nNone.'}

## How it was measured
${[...this.notes].sort((x, y) => Number.parseInt(x.scenario, 10) - Number.parseInt(y.scenario, 10)).map((n) => `- **${n.scenario}**: ${n.text}`).join('\n')}

Raw data: \`${jsonFile}\`.
`;
  }
}

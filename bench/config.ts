// The sizes and durations of `npm run bench`. The defaults are the real ones
// (issue 15); BENCH_* environment variables shrink them for quick runs while
// developing, and the results say so when any is set.
export const SCENARIOS = ['cli', 'get', 'list', 'writes', 'memory', 'fresh', 'watch', 'notify'] as const;
export type ScenarioName = (typeof SCENARIOS)[number];

export interface BenchConfig {
  /** Multiplies the object counts of the list, memory and fresh-read scenarios (5,000 / 6,000 / 20,000 objects). */
  scale: number;
  cliRuns: number;
  getRuns: number;
  listRuns: number;
  writeClients: number;
  /** Objects per write client (each client changes only its own). */
  writeObjectsPerClient: number;
  /** Write slices per side, alternating promote and PATCH. */
  writeSlices: number;
  watchers: number;
  watchRate: number;
  watchSeconds: number;
  /** Phases per side (aggregated, CRD, aggregated, CRD, …). */
  watchPhases: number;
  freshRuns: number;
  /** Objects per side of the notifications scenario (each promoted 30 times). */
  notifyObjects: number;
  only: Set<ScenarioName>;
  /** The BENCH_* settings that differ from the defaults (empty for a full run). */
  overrides: string[];
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): BenchConfig {
  const overrides: string[] = [];
  const num = (name: string, def: number, integer = true): number => {
    const v = env[name];
    if (v === undefined || v === '') return def;
    const n = Number(v);
    if (!Number.isFinite(n) || n <= 0 || (integer && !Number.isInteger(n))) throw new Error(`${name}=${v}: expected a positive ${integer ? 'integer' : 'number'}`);
    if (n !== def) overrides.push(`${name}=${v}`);
    return n;
  };
  const onlyText = env['BENCH_ONLY'];
  let only = new Set<ScenarioName>(SCENARIOS);
  if (onlyText) {
    const names = onlyText.split(',').map((s) => s.trim()).filter(Boolean);
    const unknown = names.filter((n) => !(SCENARIOS as readonly string[]).includes(n));
    if (unknown.length) throw new Error(`BENCH_ONLY: unknown scenario ${unknown.join(', ')} (known: ${SCENARIOS.join(', ')})`);
    only = new Set(names as ScenarioName[]);
    overrides.push(`BENCH_ONLY=${onlyText}`);
  }
  return {
    scale: num('BENCH_SCALE', 1, false),
    cliRuns: num('BENCH_CLI_RUNS', 25),
    getRuns: num('BENCH_GET_RUNS', 1000),
    listRuns: num('BENCH_LIST_RUNS', 15),
    writeClients: num('BENCH_WRITE_CLIENTS', 32),
    writeObjectsPerClient: num('BENCH_WRITE_OBJECTS_PER_CLIENT', 2),
    writeSlices: num('BENCH_WRITE_SLICES', 3),
    watchers: num('BENCH_WATCHERS', 200),
    watchRate: num('BENCH_WATCH_RATE', 50),
    watchSeconds: num('BENCH_WATCH_SECONDS', 10),
    watchPhases: num('BENCH_WATCH_PHASES', 2),
    freshRuns: num('BENCH_FRESH_RUNS', 20),
    notifyObjects: num('BENCH_NOTIFY_OBJECTS', 20),
    only,
    overrides,
  };
}

// kubectl custom freeze: its command line.
import { boolArg, stringArg, type CommandSpec } from '../command-spec.ts';

export const freezeCommand: CommandSpec = {
  name: 'freeze',
  describe: 'Create a Freeze: no forward move into its states (all, or --states) of the objects it selects (all, or -l), from now --until a time or --for a while, or on a --schedule',
  positionals: [],
  flags: [
    { name: 'all-namespaces', short: 'A', type: 'boolean', describe: 'Freeze every namespace (the Freeze goes in custom-system)' },
    { name: 'states', type: 'string', describe: 'The states moves into which are frozen, comma-separated (default: every state)' },
    { name: 'selector', short: 'l', type: 'string', describe: 'Only objects with these labels, e.g. -l team=payments,tier!=batch (=, ==, !=, in, notin, exists, !)' },
    { name: 'until', type: 'string', describe: 'Frozen from now until this time, RFC 3339 with its offset: 2026-01-02T09:00:00+01:00, 2026-01-02T08:00:00Z' },
    { name: 'for', type: 'string', describe: 'Frozen from now for this long: 2h, 90m, 1h30m' },
    { name: 'schedule', type: 'string', describe: 'Frozen on a schedule: when a cron expression fires (5 fields, e.g. "0 17 * * fri"), for --duration' },
    { name: 'duration', type: 'string', describe: 'With --schedule: how long each window lasts (2h, 64h)' },
    { name: 'time-zone', type: 'string', describe: 'With --schedule: the IANA time zone it is read in (default UTC), e.g. Europe/Berlin', complete: { lookup: 'timeZones' } },
    { name: 'reason', type: 'string', describe: 'Why nothing may move (required): everyone the freeze stops reads it' },
    { name: 'name', type: 'string', describe: 'The Freeze\'s name (default: freeze-<date>-<random>)' },
  ],
  examples: [
    ['kubectl custom freeze -n shop --states prod --for 2h --reason "incident 4711"', 'Nothing moves into prod in namespace shop for two hours'],
    ['kubectl custom freeze -A --until 2027-01-04T08:00:00+01:00 --reason "holidays"', 'Nothing moves anywhere until 4 January'],
    ['kubectl custom freeze -A --states prod --schedule "0 17 * * fri" --duration 64h --time-zone Europe/Berlin --reason "no Friday deploys"', 'Every weekend, from Friday 17:00 Berlin time until Monday 09:00'],
  ],
  async run(ctx, a) {
    const { runFreeze } = await import('./freeze.ts');
    const opt = (name: string) => stringArg(a, name);
    await runFreeze(ctx, {
      allNamespaces: boolArg(a, 'all-namespaces'),
      states: opt('states'),
      selector: opt('selector'),
      until: opt('until'),
      for: opt('for'),
      schedule: opt('schedule'),
      duration: opt('duration'),
      timeZone: opt('time-zone'),
      reason: opt('reason'),
      name: opt('name'),
    });
  },
};

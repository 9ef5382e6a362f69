// kubectl custom check: its command line.
import { stringArg, type CommandSpec } from '../command-spec.ts';
import { DOCUMENT_FORMATS } from '../shared/document-output.ts';

export const checkCommand: CommandSpec = {
  name: 'check',
  describe: 'Measure the checks of the next move now (each once, not recorded); exits 0 only when every check passed',
  positionals: [{ name: 'name', describe: 'Object name', complete: { lookup: 'names' } }],
  flags: [{ name: 'output', short: 'o', type: 'string', describe: 'json or yaml (the exit code still says whether every check passed)', complete: { values: DOCUMENT_FORMATS } }],
  examples: [
    ['kubectl custom check checkout -n shop', 'Is checkout healthy enough for its next state? (promote decides from the runs the backend records: kubectl custom describe-state shows them)'],
    ['kubectl custom check checkout -n shop -o json', 'The measurements as data, with each value whole'],
  ],
  async run(ctx, a) {
    const { runCheck } = await import('./check.ts');
    const output = stringArg(a, 'output');
    await runCheck(ctx, { name: String(a['name']), ...(output !== undefined ? { output } : {}) });
  },
};

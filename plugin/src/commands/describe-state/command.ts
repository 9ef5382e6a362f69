// kubectl custom describe-state: its command line.
import type { CommandSpec } from '../command-spec.ts';
import { DOCUMENT_FORMATS } from '../shared/document-output.ts';

export const describeStateCommand: CommandSpec = {
  name: 'describe-state',
  describe: 'Show the path, the current position, the gates, what you may do and the history',
  positionals: [{ name: 'name', describe: 'Object name', complete: { lookup: 'names' } }],
  flags: [{ name: 'output', short: 'o', type: 'string', describe: 'json or yaml', complete: { values: DOCUMENT_FORMATS } }],
  examples: [['kubectl custom describe-state checkout -n shop', '']],
  async run(ctx, a) {
    const { runDescribeState } = await import('./describe-state.ts');
    await runDescribeState(ctx, String(a['name']), a['output'] as string | undefined);
  },
};

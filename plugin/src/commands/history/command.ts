// kubectl custom history: its command line.
import { boolArg, stringArg, type CommandSpec } from '../command-spec.ts';
import { DOCUMENT_FORMATS } from '../shared/document-output.ts';

export const historyCommand: CommandSpec = {
  name: 'history',
  describe: "Show an object's whole trail (archived entries too), and its earlier lives; --verify checks each life's hash chain",
  positionals: [{ name: 'name', describe: 'Object name (also of a deleted object)', complete: { lookup: 'names' } }],
  flags: [
    { name: 'verify', type: 'boolean', describe: "Recompute each life's hash chain and check that a deleted object's life ends with its deletion: one line per life; exits non-zero when one is broken or cut" },
    { name: 'against', type: 'string', describe: 'Also compare each life with the trail a notification receiver kept (a file of its CloudEvents, one JSON per line) and report the first seq where they differ: catches a rewritten archive that --verify alone cannot (implies --verify)' },
    { name: 'output', short: 'o', type: 'string', describe: 'json or yaml', complete: { values: DOCUMENT_FORMATS } },
  ],
  examples: [
    ['kubectl custom history checkout -n shop', 'Every change, oldest first, for this object and earlier ones of the same name'],
    ['kubectl custom history checkout -n shop --verify', 'Check that no entry was edited, removed or reordered, and no deleted life lost its end'],
    ['kubectl custom history checkout -n shop --verify --against events.jsonl', 'Also check the trail against the CloudEvents a webhook receiver stored'],
  ],
  async run(ctx, a) {
    const { runHistory } = await import('./history.ts');
    const output = stringArg(a, 'output');
    const against = stringArg(a, 'against');
    await runHistory(ctx, { name: String(a['name']), verify: boolArg(a, 'verify'), ...(against !== undefined ? { against } : {}), ...(output !== undefined ? { output } : {}) });
  },
};

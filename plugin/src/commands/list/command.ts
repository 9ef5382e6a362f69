// kubectl custom list: its command line.
import { boolArg, stringArg, type CommandSpec } from '../command-spec.ts';

const OUTPUTS = ['wide', 'json', 'yaml', 'name'] as const;

export const listCommand: CommandSpec = {
  name: 'list',
  aliases: ['ls'],
  describe: 'List objects and where they stand',
  positionals: [],
  flags: [
    { name: 'all-namespaces', short: 'A', type: 'boolean', describe: 'List across all namespaces' },
    { name: 'selector', short: 'l', type: 'string', describe: 'Label selector, e.g. -l team=payments' },
    { name: 'output', short: 'o', type: 'string', describe: 'wide, json, yaml or name', complete: { values: OUTPUTS } },
    { name: 'watch', short: 'w', type: 'boolean', describe: 'After listing, keep the table current' },
    { name: 'no-headers', type: 'boolean', describe: 'Omit the header row' },
  ],
  examples: [
    ['kubectl custom list -n shop', 'Objects in namespace shop'],
    ['kubectl custom list -A -o wide', 'Everything, with the path and gates'],
    ['kubectl custom list -l team=payments -w', "Watch one team's objects"],
  ],
  async run(ctx, a) {
    const { parseListOutput, runList } = await import('./list.ts');
    const selector = stringArg(a, 'selector');
    await runList(ctx, {
      allNamespaces: boolArg(a, 'all-namespaces'),
      ...(selector !== undefined ? { selector } : {}),
      output: parseListOutput(a['output'] as string | undefined),
      watch: boolArg(a, 'watch'),
      noHeaders: boolArg(a, 'no-headers'),
    });
  },
};

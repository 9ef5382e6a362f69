// kubectl custom unfreeze: its command line.
import { boolArg, type CommandSpec } from '../command-spec.ts';

export const unfreezeCommand: CommandSpec = {
  name: 'unfreeze',
  describe: 'Delete a Freeze: the moves it stopped are allowed again (unless another freeze holds them)',
  positionals: [{ name: 'name', describe: 'The Freeze to delete', complete: { lookup: 'freezes' } }],
  flags: [{ name: 'all-namespaces', short: 'A', type: 'boolean', describe: 'The Freeze is a cluster-wide one (in custom-system)' }],
  examples: [
    ['kubectl custom unfreeze freeze-20261124-x7k2p -n shop', 'End a freeze of namespace shop'],
    ['kubectl custom unfreeze holidays -A', 'End a cluster-wide freeze'],
  ],
  async run(ctx, a) {
    const { runUnfreeze } = await import('./unfreeze.ts');
    await runUnfreeze(ctx, { name: String(a['name']), allNamespaces: boolArg(a, 'all-namespaces') });
  },
};

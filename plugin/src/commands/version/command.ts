// kubectl custom version: its command line.
import { boolArg, type CommandSpec } from '../command-spec.ts';

export const versionCommand: CommandSpec = {
  name: 'version',
  describe: 'Print the plugin and backend versions',
  positionals: [],
  flags: [{ name: 'client', type: 'boolean', describe: 'Only the plugin version; do not contact the server' }],
  async run(ctx, a) {
    const { runVersion } = await import('./version.ts');
    await runVersion(ctx, boolArg(a, 'client'));
  },
};

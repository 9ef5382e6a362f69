// kubectl custom uninstall: its command line.
import { boolArg, stringArg, type CommandSpec } from '../command-spec.ts';

const DEFAULT_TIMEOUT = '5m';

export const uninstallCommand: CommandSpec = {
  name: 'uninstall',
  describe: 'Remove kubectl-custom from the cluster: every object (each archived by the backend first), then the backend, its APIService, CRDs, RBAC and namespace',
  positionals: [],
  flags: [
    { name: 'yes', type: 'boolean', describe: 'Do not ask for confirmation (needed when standard input is not a terminal)' },
    { name: 'keep-history', type: 'boolean', describe: 'Keep the archived history: the statehistories.example.com CRD, its segments and the custom-system namespace' },
    { name: 'timeout', type: 'string', describe: `How long to wait for the backend to archive and release every object (default ${DEFAULT_TIMEOUT})` },
  ],
  examples: [
    ['kubectl custom uninstall', 'Asks first, then removes everything'],
    ['kubectl custom uninstall --yes --keep-history', 'Without asking; the archived history stays in custom-system'],
  ],
  async run(ctx, a) {
    const { runUninstall } = await import('./uninstall.ts');
    await runUninstall(ctx, { yes: boolArg(a, 'yes'), keepHistory: boolArg(a, 'keep-history'), timeout: stringArg(a, 'timeout') ?? DEFAULT_TIMEOUT });
  },
};

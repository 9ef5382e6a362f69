// kubectl custom dashboard: its command line.
import { boolArg, stringArg, type CommandSpec } from '../command-spec.ts';

export const dashboardCommand: CommandSpec = {
  name: 'dashboard',
  describe: 'Serve a local web page of where everything stands, live, with your own credentials',
  positionals: [],
  flags: [
    { name: 'address', type: 'string', describe: 'The address to listen on (default 127.0.0.1; anything but loopback lets others on the network try the URL)' },
    { name: 'port', type: 'string', describe: 'The port to listen on (default: any free port)' },
    { name: 'no-open', type: 'boolean', describe: 'Do not open a browser; only print the URL' },
    { name: 'all-namespaces', short: 'A', type: 'boolean', describe: 'Show every namespace (needs list and watch cluster-wide)' },
  ],
  examples: [
    ['kubectl custom dashboard -n shop', 'Open the page for namespace shop in the browser'],
    ['kubectl custom dashboard -A --no-open --port 8080', 'Every namespace, on a fixed port; open the printed URL yourself'],
  ],
  async run(ctx, a) {
    const { parseDashboardOptions, runDashboard } = await import('./dashboard.ts');
    await runDashboard(ctx, parseDashboardOptions({ address: stringArg(a, 'address'), port: stringArg(a, 'port'), noOpen: boolArg(a, 'no-open'), allNamespaces: boolArg(a, 'all-namespaces') }));
  },
};

// kubectl custom install-certs: its command line.
import { boolArg, type CommandSpec } from '../command-spec.ts';

export const installCertsCommand: CommandSpec = {
  name: 'install-certs',
  describe: "Make the backend's serving certificate and set the APIService caBundle (clusters without cert-manager)",
  positionals: [],
  flags: [
    { name: 'renew', type: 'boolean', describe: 'Make a new CA and certificate even if the current one is valid' },
    { name: 'dry-run', type: 'boolean', describe: 'Check on the server, change nothing' },
  ],
  examples: [['kubectl apply -k manifests/base && kubectl custom install-certs', 'Install the backend in a cluster without cert-manager']],
  async run(ctx, a) {
    const { runInstallCerts } = await import('./install-certs.ts');
    await runInstallCerts(ctx, { renew: boolArg(a, 'renew'), dryRun: boolArg(a, 'dry-run') });
  },
};

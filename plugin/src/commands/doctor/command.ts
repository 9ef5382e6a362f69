// kubectl custom doctor: its command line.
import { boolArg, type CommandSpec, stringArg } from '../command-spec.ts';

export const doctorCommand: CommandSpec = {
  name: 'doctor',
  describe: 'Check why kubectl custom does not work: installation, certificates, permissions, admission, performance',
  positionals: [],
  flags: [
    { name: 'pre', type: 'boolean', describe: 'Check the cluster before installing the backend' },
    { name: 'output', short: 'o', type: 'string', describe: 'Output format: json', complete: { values: ['json'] } },
    { name: 'wait', type: 'string', describe: 'Run the checks again until they pass or this long has passed (e.g. 2m)' },
  ],
  examples: [
    ['kubectl custom doctor', 'check the installation and your access in the current namespace'],
    ['kubectl custom doctor --pre', 'check a cluster before installing'],
    ['kubectl custom doctor --wait 2m', 'wait until the backend is Available (after kubectl apply -k)'],
  ],
  async run(ctx, a) {
    const { runDoctor } = await import('./doctor.ts');
    await runDoctor(ctx, { pre: boolArg(a, 'pre'), output: stringArg(a, 'output'), wait: stringArg(a, 'wait') });
  },
};

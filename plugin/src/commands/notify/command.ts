// kubectl custom notify: its command line.
import type { CommandSpec } from '../command-spec.ts';

export const notifyCommand: CommandSpec = {
  name: 'notify',
  describe: 'Send a test event to each sink of a NotificationPolicy, from the backend, and show what each answered',
  positionals: [
    { name: 'action', describe: 'test', choices: ['test'] },
    { name: 'policy', describe: 'The NotificationPolicy', complete: { lookup: 'notificationPolicies' } },
  ],
  flags: [],
  examples: [['kubectl custom notify test releases -n shop', 'Send a test event to every sink of the policy releases']],
  async run(ctx, a) {
    const { runNotifyTest } = await import('./notify.ts');
    await runNotifyTest(ctx, { policy: String(a['policy']) });
  },
};

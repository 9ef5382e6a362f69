// kubectl-custom: the kubectl plugin. The only place that exits the process.
//
// The shipped executable runs it on Bun's runtime (scripts/build-plugin.ts).
// In the Node SEA that the bench compares it with (scripts/node-sea.ts) this
// file is evaluated ahead of time into a V8 startup snapshot, so yargs and
// the command tree are already in memory when the program starts; nothing
// here may touch the process's streams or environment before start() runs.
import v8 from 'node:v8';
import { defaultConnect, type Deps } from './deps.ts';
import { run } from './root-command.ts';
import { PROJECT_VERSION } from '../../api/src/version.ts';

function start(): void {
  const streams = { in: process.stdin, out: process.stdout, err: process.stderr };
  const deps: Deps = {
    streams,
    clock: { now: () => new Date() },
    env: process.env,
    connect: (flags) => defaultConnect(flags, streams, process.env),
    version: PROJECT_VERSION,
  };
  process.stdout.on('error', (e: NodeJS.ErrnoException) => {
    // `kubectl custom list | head`: a closed pipe is not an error worth a stack trace.
    if (e.code === 'EPIPE') process.exit(0);
  });
  run(process.argv.slice(2), deps).then(
    (code) => {
      process.exitCode = code;
      // Watches and keep-alive sockets are closed by now; exit without waiting for stray timers.
      process.stdout.write('', () => process.exit(code));
    },
    (err: unknown) => {
      process.stderr.write(`error: ${err instanceof Error ? err.message : String(err)}\n`);
      process.exit(1);
    },
  );
}

if (v8.startupSnapshot?.isBuildingSnapshot()) {
  // Evaluate the lazily imported verbs, printers and the kubeconfig loader
  // (not the HTTPS client: node:https cannot be in a snapshot)
  // now, so they are in the snapshot too: free at start-up in the executable,
  // while `node plugin/src/main.ts` still loads only what a verb needs.
  // Not uninstall: it reads the terminal with node:readline, which Node does
  // not vouch for in a snapshot, and it is run once, not in a hurry.
  // Then the common commands run once (snapshot-warm-up.ts), so that their
  // functions are in the snapshot compiled.
  void Promise.all([
    import('./commands/list/list.ts'),
    import('./commands/describe-state/describe-state.ts'),
    import('./commands/history/history.ts'),
    import('./commands/set-state/set-state.ts'),
    import('./commands/promote/promote.ts'),
    import('./commands/approve/approve.ts'),
    import('./commands/version/version.ts'),
    import('./commands/completion/completion.ts'),
    import('./output/color.ts'),
    import('../../client/src/kubeconfig.ts'),
  ])
    .then(() => import('./snapshot-warm-up.ts'))
    .then(({ warmUp }) => warmUp());
  v8.startupSnapshot.setDeserializeMainFunction(start);
} else {
  start();
}

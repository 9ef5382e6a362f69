// kubectl-custom: the kubectl plugin. The only place that exits the process.
import { defaultConnect, type Deps } from './deps.ts';
import { run } from './root-command.ts';

export const PLUGIN_VERSION = '0.1.0';

const streams = { in: process.stdin, out: process.stdout, err: process.stderr };
const deps: Deps = {
  streams,
  clock: { now: () => new Date() },
  env: process.env,
  connect: (flags) => defaultConnect(flags, streams, process.env),
  version: PLUGIN_VERSION,
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

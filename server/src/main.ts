// kubectl-custom backend: the aggregated API server for custom.example.com/v1.
// The only place that exits the process.
import { complete } from './config.ts';
import { OptionsError, parseOptions, USAGE } from './options.ts';
import { newServer } from './server.ts';

async function main(): Promise<number> {
  let opts;
  try {
    opts = parseOptions(process.argv.slice(2));
  } catch (err) {
    if (err instanceof OptionsError) {
      process.stderr.write(`error: ${err.message}\n\n${USAGE}`);
      return 2;
    }
    throw err;
  }
  if (opts === 'help') {
    process.stdout.write(USAGE);
    return 0;
  }
  // Only when node runs with --expose-gc (the memory benchmark): SIGUSR2
  // collects garbage, so the heap it then reads is what the cache holds.
  const gc = (globalThis as { gc?: () => void }).gc;
  if (typeof gc === 'function') process.on('SIGUSR2', () => gc());
  const cfg = await complete(opts);
  // The components that run beside the server, in start order: the watches first, then the
  // controllers that read them. They stop in the opposite order, after the server has drained.
  const components: { start(): void; stop(): void | Promise<void> }[] = [
    cfg.authnSettings,
    cfg.cache,
    cfg.policies,
    cfg.freezes,
    cfg.historyFinalizer,
    cfg.freezeStatus,
    cfg.checkRunner,
    cfg.notifications,
    cfg.policyCheck,
    cfg.servingCertificate,
  ];
  for (const c of components) c.start();
  // As k8s.io/apiserver runs its request-header controller once before
  // serving: a request served before the settings are known would be
  // refused as unauthenticated.
  await cfg.authnSettings.whenSynced();
  const running = await newServer(cfg).listen();
  await new Promise<void>((resolve) => {
    const stop = (signal: string) => {
      cfg.log.info('signal received', { signal });
      resolve();
    };
    process.once('SIGTERM', () => stop('SIGTERM'));
    process.once('SIGINT', () => stop('SIGINT'));
  });
  await running.shutdown();
  for (const c of [...components].reverse()) await c.stop();
  cfg.client.close();
  return 0;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`${JSON.stringify({ ts: new Date().toISOString(), level: 'error', msg: 'fatal', error: err instanceof Error ? err.message : String(err) })}\n`);
    process.exit(1);
  },
);

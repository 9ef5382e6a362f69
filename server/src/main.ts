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
  cfg.authnSettings.start();
  cfg.cache.start();
  cfg.policies.start();
  cfg.freezes.start();
  cfg.historyFinalizer.start();
  cfg.freezeStatus.start();
  cfg.policyCheck.start();
  cfg.servingCertificate.start();
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
  cfg.historyFinalizer.stop();
  cfg.freezeStatus.stop();
  cfg.policyCheck.stop();
  cfg.servingCertificate.stop();
  await Promise.all([cfg.cache.stop(), cfg.policies.stop(), cfg.freezes.stop(), cfg.authnSettings.stop()]);
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

// Command-line options of the backend, in the stages sample-apiserver uses:
// parse → complete (defaults that need the environment) → validate.
import { existsSync } from 'node:fs';
import { parseArgs } from 'node:util';
import type { Level } from './log/logger.ts';

export interface ServerOptions {
  securePort: number;
  bindAddress: string;
  tlsCertFile?: string;
  tlsPrivateKeyFile?: string;
  certDir: string;
  /** DNS names for the self-signed certificate made when no --tls-cert-file is given. */
  selfSignedDnsNames: string[];
  kubeconfig?: string;
  /** Seconds readyz fails before the server stops accepting connections. */
  shutdownDelaySeconds: number;
  /** Seconds in-flight requests get to finish after that. */
  shutdownTimeoutSeconds: number;
  watchBookmarkIntervalSeconds: number;
  /** Non-mutating and mutating requests at a time (0: no limit), as kube-apiserver's flags of the same names. */
  maxRequestsInflight: number;
  maxMutatingRequestsInflight: number;
  /** How often the backend looks whether the admission policies are installed. */
  policyCheckIntervalSeconds: number;
  logLevel: Level;
}

export const USAGE = `Usage: kubectl-custom-backend [flags]

The aggregated API server for custom.example.com/v1.

Flags:
  --secure-port int                   port to serve HTTPS on (default 8443)
  --bind-address string               address to listen on (default 0.0.0.0)
  --tls-cert-file string              serving certificate (PEM); with --tls-private-key-file
  --tls-private-key-file string       serving key (PEM)
  --cert-dir string                   where a self-signed pair is written when no certificate is given
                                      (default apiserver.local.config/certificates)
  --self-signed-dns-names strings     DNS names for that self-signed certificate (default localhost)
  --kubeconfig string                 kubeconfig to reach kube-apiserver; in-cluster config when empty
  --shutdown-delay-duration seconds   how long /readyz fails before the listener closes on SIGTERM (default 0)
  --shutdown-timeout seconds          how long in-flight requests may take after that (default 60)
  --watch-bookmark-interval seconds   bookmark cadence for watches that ask for them (default 60)
  --policy-check-interval seconds     how often to check that the admission policies are installed (default 60)
  --max-requests-inflight int         non-mutating requests served at a time, watches not counted (default 400; 0: no limit)
  --max-mutating-requests-inflight int  mutating requests served at a time (default 200; 0: no limit)
  --v string                          log level: debug, info, warn, error (default info)
  -h, --help                          show this help
`;

export class OptionsError extends Error {}

function num(name: string, v: string | undefined, dflt: number): number {
  if (v === undefined) return dflt;
  const n = Number(v);
  if (!Number.isFinite(n) || n < 0) throw new OptionsError(`--${name}: ${JSON.stringify(v)} is not a non-negative number`);
  return n;
}

export function parseOptions(argv: string[]): ServerOptions | 'help' {
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        'secure-port': { type: 'string' },
        'bind-address': { type: 'string' },
        'tls-cert-file': { type: 'string' },
        'tls-private-key-file': { type: 'string' },
        'cert-dir': { type: 'string' },
        'self-signed-dns-names': { type: 'string' },
        kubeconfig: { type: 'string' },
        'shutdown-delay-duration': { type: 'string' },
        'shutdown-timeout': { type: 'string' },
        'watch-bookmark-interval': { type: 'string' },
        'policy-check-interval': { type: 'string' },
        'max-requests-inflight': { type: 'string' },
        'max-mutating-requests-inflight': { type: 'string' },
        v: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (err) {
    throw new OptionsError((err as Error).message);
  }
  if (values['help']) return 'help';
  const s = (k: string) => values[k] as string | undefined;
  const level = (s('v') ?? 'info') as Level;
  const opts: ServerOptions = {
    securePort: num('secure-port', s('secure-port'), 8443),
    bindAddress: s('bind-address') ?? '0.0.0.0',
    certDir: s('cert-dir') ?? 'apiserver.local.config/certificates',
    selfSignedDnsNames: (s('self-signed-dns-names') ?? 'localhost').split(',').map((x) => x.trim()).filter(Boolean),
    shutdownDelaySeconds: num('shutdown-delay-duration', s('shutdown-delay-duration'), 0),
    shutdownTimeoutSeconds: num('shutdown-timeout', s('shutdown-timeout'), 60),
    watchBookmarkIntervalSeconds: num('watch-bookmark-interval', s('watch-bookmark-interval'), 60),
    policyCheckIntervalSeconds: num('policy-check-interval', s('policy-check-interval'), 60),
    maxRequestsInflight: num('max-requests-inflight', s('max-requests-inflight'), 400),
    maxMutatingRequestsInflight: num('max-mutating-requests-inflight', s('max-mutating-requests-inflight'), 200),
    logLevel: level,
    ...(s('tls-cert-file') ? { tlsCertFile: s('tls-cert-file') } : {}),
    ...(s('tls-private-key-file') ? { tlsPrivateKeyFile: s('tls-private-key-file') } : {}),
    ...(s('kubeconfig') ? { kubeconfig: s('kubeconfig') } : {}),
  };
  validateOptions(opts);
  return opts;
}

function validateOptions(o: ServerOptions): void {
  const errs: string[] = [];
  if (!Number.isInteger(o.securePort) || o.securePort < 1 || o.securePort > 65535) errs.push(`--secure-port ${o.securePort} must be 1-65535`);
  if (!!o.tlsCertFile !== !!o.tlsPrivateKeyFile) errs.push('--tls-cert-file and --tls-private-key-file go together');
  for (const f of [o.tlsCertFile, o.tlsPrivateKeyFile, o.kubeconfig]) if (f && !existsSync(f)) errs.push(`${f}: no such file`);
  if (!['debug', 'info', 'warn', 'error'].includes(o.logLevel)) errs.push(`--v ${o.logLevel}: use debug, info, warn or error`);
  if (!o.kubeconfig && !process.env['KUBERNETES_SERVICE_HOST']) errs.push('--kubeconfig is required outside a cluster (KUBERNETES_SERVICE_HOST is not set)');
  if (errs.length) throw new OptionsError(errs.join('; '));
}

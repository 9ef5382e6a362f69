// kubectl's own connection flags, which every verb takes (kubectl passes
// none to plugins), and the options that are not a verb's.
import type { ConnectionFlags } from '../../../../client/src/kubeconfig.ts';
import { stringArg, type FlagSpec, type ParsedArgs } from '../command-spec.ts';

export const GLOBAL_FLAGS: readonly FlagSpec[] = [
  { name: 'kubeconfig', type: 'string', describe: 'Path to the kubeconfig file to use (else KUBECONFIG, else ~/.kube/config)' },
  { name: 'context', type: 'string', describe: 'The name of the kubeconfig context to use' },
  { name: 'cluster', type: 'string', describe: 'The name of the kubeconfig cluster to use' },
  { name: 'user', type: 'string', describe: 'The name of the kubeconfig user to use' },
  { name: 'namespace', short: 'n', type: 'string', describe: 'If present, the namespace scope for this request', complete: { lookup: 'namespaces' } },
  { name: 'as', type: 'string', describe: 'Username to impersonate for the operation' },
  { name: 'as-group', type: 'string', repeated: true, describe: 'Group to impersonate for the operation; repeat for more' },
  { name: 'request-timeout', type: 'string', describe: 'How long to wait for a single server request (e.g. 1s, 2m); 0 waits forever' },
  { name: 'server', short: 's', type: 'string', describe: 'The address and port of the Kubernetes API server' },
  { name: 'token', type: 'string', describe: 'Bearer token for authentication to the API server' },
  { name: 'insecure-skip-tls-verify', type: 'boolean', describe: 'Do not check the server certificate (insecure)' },
  { name: 'no-color', type: 'boolean', describe: 'Never colour the output (also: NO_COLOR=1)' },
];

const CONNECTION: readonly [flag: string, key: keyof ConnectionFlags][] = [
  ['kubeconfig', 'kubeconfig'],
  ['context', 'context'],
  ['cluster', 'cluster'],
  ['user', 'user'],
  ['namespace', 'namespace'],
  ['server', 'server'],
  ['token', 'token'],
  ['as', 'as'],
  ['request-timeout', 'requestTimeout'],
];

/** The kubeconfig selection and overrides the command line asks for. */
export function connectionFlags(a: ParsedArgs): ConnectionFlags {
  const f: ConnectionFlags = {};
  for (const [flag, key] of CONNECTION) {
    const v = stringArg(a, flag);
    if (v !== undefined) (f as Record<string, string>)[key] = v;
  }
  // --as-group repeats: one group per flag.
  const raw = a['as-group'];
  const groups = (Array.isArray(raw) ? raw : raw === undefined ? [] : [raw]).map(String).filter(Boolean);
  if (groups.length) f.asGroups = groups;
  if (a['insecure-skip-tls-verify'] === true) f.insecureSkipTlsVerify = true;
  return f;
}

// Runs the common commands once while the executable's start-up snapshot
// is built (main.ts), against a fake cluster and into discarded streams.
// V8 keeps the bytecode of every function that ran in the snapshot, so at
// start yargs' parser and help layout, the YAML parser that reads the
// kubeconfig and the table printer are not compiled again: a function that
// runs for the first time is parsed and compiled then, which cost
// `kubectl custom --help` and `list` tens of milliseconds at each start.
//
// Nothing here may keep state: each command gets its own parser, streams
// and client, and all of them are dropped when the promise settles.
import type { IncomingMessage } from 'node:http';
import type { Deps, OutStream } from './deps.ts';
import { run } from './root-command.ts';
import { parseKubeconfig, type ResolvedConfig } from '../../client/src/kubeconfig.ts';
import type { RestClient } from '../../client/src/rest-client.ts';

// Shaped like a real one: base64 data is most of a kubeconfig's bytes.
const DATA = 'LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCk1JSUJsVENDQVR1Z0F3SUJBZ0lRT3FGWXJXQ3BSV3hnUVRXSnNXdGVXekFLQmdncWhrak9QUVFEQWpBWU1SWXcK'.repeat(8);
const KUBECONFIG = `apiVersion: v1
kind: Config
clusters:
  - name: warm-up
    cluster:
      server: https://127.0.0.1:6443
      certificate-authority-data: ${DATA}
users:
  - name: warm-up
    user:
      client-certificate-data: ${DATA}
      client-key-data: ${DATA}
contexts:
  - name: warm-up
    context:
      cluster: warm-up
      user: warm-up
      namespace: "default"
current-context: warm-up
preferences: {}
`;

const COLUMNS = ['Name', 'Display Name', 'State', 'Next', 'In State', 'Last Changed By', 'Age', 'Path', 'Soak Left', 'Protected', 'Approvals', 'Frozen By'];
const TABLE = {
  kind: 'Table',
  apiVersion: 'meta.k8s.io/v1',
  metadata: { resourceVersion: '1' },
  columnDefinitions: COLUMNS.map((name, i) => ({ name, type: 'string', format: i === 0 ? 'name' : '', description: name, priority: i < 7 ? 0 : 1 })),
  rows: Array.from({ length: 20 }, (_, i) => ({
    cells: [`object-${i}`, `Object ${i}`, 'staging', i % 2 ? 'prod (frozen)' : 'prod', '5m', 'system:serviceaccount:ci:deployer', '3d', 'dev → [staging] → prod', '0s', 'prod', '0/1', '<none>'],
    object: { metadata: { name: `object-${i}`, namespace: 'default' } },
  })),
};

function fakeClient(): RestClient {
  const unused = () => Promise.reject(new Error('not during the warm-up'));
  return {
    config: { server: 'https://127.0.0.1:6443', namespace: 'default', namespaceExplicit: false, tls: { insecure: false }, auth: {}, timeoutMs: 0 } satisfies ResolvedConfig,
    send: unused as RestClient['send'],
    json: <T>() => Promise.resolve(structuredClone(TABLE) as T),
    stream: unused as () => Promise<IncomingMessage>,
    close: () => {},
  };
}

function discardingDeps(): Deps {
  const sink: OutStream = { write: () => true, isTTY: false };
  return {
    streams: { in: { isTTY: false }, out: sink, err: sink },
    clock: { now: () => new Date(0) },
    env: {},
    connect: () => Promise.resolve(fakeClient()),
    version: '0.0.0',
  };
}

export async function warmUp(): Promise<void> {
  parseKubeconfig(KUBECONFIG, 'warm-up');
  for (const argv of [['--help'], ['list', '--help'], ['list', '-n', 'default'], ['list', '-A', '-o', 'wide', '--no-color'], ['version', '--client']]) {
    // A command that fails here would warm up less than it should: say so at build time.
    const code = await run(argv, discardingDeps());
    if (code !== 0) throw new Error(`the start-up snapshot's warm-up: kubectl custom ${argv.join(' ')} exited ${code}`);
  }
}

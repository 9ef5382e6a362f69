// What every verb gets once the command line is parsed.
import type { ChalkInstance } from 'chalk';
import type { Deps } from '../deps.ts';
import type { RestClient } from '../../../client/src/rest-client.ts';
import type { ConnectionFlags } from '../../../client/src/kubeconfig.ts';

export interface CommandContext {
  deps: Deps;
  chalk: ChalkInstance;
  flags: ConnectionFlags;
  /** Connects on first use (so --help and completion of verbs never load a kubeconfig). */
  client(): Promise<RestClient>;
}

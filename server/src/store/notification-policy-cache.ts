// The NotificationPolicies of every namespace (issue 22), kept by a watch
// (client/src/reflector.ts) for the delivery controller. Emits 'change' with
// a policy's key (namespace/name) when one is added, changed or deleted, and
// 'synced' after the first list. The backend only reads policies and writes
// their status: its own status writes come back here as changes too.
import { EventEmitter } from 'node:events';
import { NOTIFICATION_POLICY_RESOURCE, STORAGE_GROUP, STORAGE_PATH } from '../../../api/src/names.ts';
import type { NotificationPolicy } from '../../../api/src/types.ts';
import { Reflector, type ReflectorStore } from '../../../client/src/reflector.ts';
import type { RestClient } from '../../../client/src/rest-client.ts';
import type { Logger } from '../log/logger.ts';
import type { CacheReport } from './cache-report.ts';

export const policyKey = (namespace: string, name: string) => `${namespace}/${name}`;

/** The store, fed by the reflector (or a test): no I/O. */
export class NotificationPolicyStore extends EventEmitter implements ReflectorStore<NotificationPolicy> {
  private readonly byKey = new Map<string, NotificationPolicy>();
  private loaded = false;
  private readonly log: Logger | undefined;

  constructor(log?: Logger) {
    super();
    this.log = log;
  }

  get synced(): boolean {
    return this.loaded;
  }

  get size(): number {
    return this.byKey.size;
  }

  keys(): string[] {
    return [...this.byKey.keys()];
  }

  get(key: string): NotificationPolicy | undefined {
    return this.byKey.get(key);
  }

  replace(items: NotificationPolicy[], resourceVersion: string): void {
    const before = new Set(this.byKey.keys());
    this.byKey.clear();
    for (const p of items) this.put(p);
    const first = !this.loaded;
    this.loaded = true;
    this.log?.info('notification policies listed', { count: items.length, resourceVersion });
    if (first) {
      this.emit('synced');
      return;
    }
    for (const k of new Set([...before, ...this.byKey.keys()])) this.emit('change', k);
  }

  apply(type: 'ADDED' | 'MODIFIED' | 'DELETED', policy: NotificationPolicy): void {
    const k = policyKey(policy.metadata.namespace, policy.metadata.name);
    if (type === 'DELETED') this.byKey.delete(k);
    else this.put(policy);
    this.emit('change', k);
  }

  private put(policy: NotificationPolicy): void {
    delete policy.metadata['managedFields'];
    this.byKey.set(policyKey(policy.metadata.namespace, policy.metadata.name), policy);
  }
}

/** The store, fed by a reflector over notificationpolicies.example.com in all namespaces. */
export class NotificationPolicyCache {
  readonly store: NotificationPolicyStore;
  private readonly reflector: Reflector<NotificationPolicy>;

  constructor(opts: { client: RestClient; log: Logger }) {
    this.store = new NotificationPolicyStore(opts.log);
    this.reflector = new Reflector<NotificationPolicy>({
      client: opts.client,
      path: `${STORAGE_PATH}/${NOTIFICATION_POLICY_RESOURCE}`,
      description: 'notificationpolicies.example.com',
      log: opts.log,
      store: this.store,
    });
  }

  get synced(): boolean {
    return this.store.synced;
  }

  get report(): CacheReport {
    return { resource: `${NOTIFICATION_POLICY_RESOURCE}.${STORAGE_GROUP}`, synced: this.store.synced, objects: this.store.size, progress: this.reflector.progress };
  }

  start(): void {
    this.reflector.start();
  }

  stop(): Promise<void> {
    return this.reflector.stop();
  }
}

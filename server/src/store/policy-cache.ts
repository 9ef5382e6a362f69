// The GatePolicies of every namespace, kept up to date by a watch
// (client/src/reflector.ts: list, watch, re-list after 410), for the gate
// engine to read without a request to kube-apiserver per move. The backend
// only reads policies: its RBAC has get/list/watch on them and nothing more.
//
// Until the first list has arrived the cache knows no policy, and a move
// decided then would miss their gates: /readyz fails until `synced`
// (server.ts), and the gate engine must not decide before it either.
import { GATE_POLICY_RESOURCE, STORAGE_GROUP, STORAGE_PATH, SYSTEM_NAMESPACE } from '../../../api/src/names.ts';
import type { GatePolicy } from '../../../api/src/types.ts';
import { Reflector, type ReflectorStore } from '../../../client/src/reflector.ts';
import type { RestClient } from '../../../client/src/rest-client.ts';
import type { Logger } from '../log/logger.ts';
import type { CacheReport } from './cache-report.ts';
import { CachePosition, ConsistentCollection, objectKey, type ConsistentTarget } from './consistent-collection.ts';

/** What the gate engine reads policies from. */
export interface PolicySource {
  /** The first list has arrived: policiesFor answers for the whole cluster. */
  readonly synced: boolean;
  /**
   * The policies that apply to an object in `namespace`: those in that
   * namespace and those in custom-system, in namespace/name order. Treat
   * them as read-only: they are the cache's own.
   */
  policiesFor(namespace: string): readonly GatePolicy[];
}

/** The cache's contents, fed by the reflector (or a test): no I/O. */
export class PolicyStore implements PolicySource, ReflectorStore<GatePolicy>, ConsistentTarget<GatePolicy> {
  private readonly byNamespace = new Map<string, Map<string, GatePolicy>>();
  private readonly position = new CachePosition();
  /** policiesFor's answers, until the next change. */
  private readonly answers = new Map<string, readonly GatePolicy[]>();
  private loaded = false;
  private readonly log: Logger | undefined;

  constructor(log?: Logger) {
    this.log = log;
  }

  get synced(): boolean {
    return this.loaded;
  }

  /** How many policies the cache holds. */
  get size(): number {
    let n = 0;
    for (const m of this.byNamespace.values()) n += m.size;
    return n;
  }

  /** The resourceVersion of the last list, event or bookmark (or consistent read taken). */
  get resourceVersion(): number {
    return this.position.resourceVersion;
  }

  versions(): Map<string, string | undefined> {
    const m = new Map<string, string | undefined>();
    for (const ns of this.byNamespace.values()) for (const p of ns.values()) m.set(objectKey(p), p.metadata.resourceVersion);
    return m;
  }

  /** A consistent list newer than the cache (consistent-collection.ts): the contents from now on. */
  adopt(items: GatePolicy[], rv: number): void {
    this.position.adopted(rv);
    this.fill(items);
    this.log?.info('gate policies read fresh from kube-apiserver (the watch had not brought them yet)', { count: items.length, resourceVersion: rv });
  }

  bookmark(resourceVersion: string): void {
    this.position.advance(Number(resourceVersion));
  }

  replace(items: GatePolicy[], resourceVersion: string): void {
    // A list answered before a consistent read the cache has since taken is older than what it holds.
    if (!this.position.listed(Number(resourceVersion))) return;
    this.fill(items);
    this.log?.info('gate policies listed', { count: items.length, resourceVersion });
  }

  private fill(items: GatePolicy[]): void {
    this.byNamespace.clear();
    this.answers.clear();
    for (const p of items) this.put(p);
    this.loaded = true;
  }

  apply(type: 'ADDED' | 'MODIFIED' | 'DELETED', policy: GatePolicy): void {
    // Already in a consistent read the cache took: the watch is catching up with it.
    if (!this.position.event(Number(policy.metadata.resourceVersion))) return;
    const { namespace, name } = policy.metadata;
    this.answers.clear();
    if (type === 'DELETED') {
      const m = this.byNamespace.get(namespace);
      m?.delete(name);
      if (m?.size === 0) this.byNamespace.delete(namespace);
    } else {
      this.put(policy);
    }
    // Policies change rarely and each change moves gates: worth a line each.
    this.log?.info(`gate policy ${type.toLowerCase()}`, { policy: `${namespace}/${name}`, resourceVersion: policy.metadata.resourceVersion });
  }

  policiesFor(namespace: string): readonly GatePolicy[] {
    let answer = this.answers.get(namespace);
    if (!answer) {
      const namespaces = [...new Set([SYSTEM_NAMESPACE, namespace])].sort();
      answer = namespaces.flatMap((ns) => [...(this.byNamespace.get(ns)?.values() ?? [])].sort((a, b) => (a.metadata.name < b.metadata.name ? -1 : 1)));
      this.answers.set(namespace, answer);
    }
    return answer;
  }

  private put(policy: GatePolicy): void {
    delete policy.metadata['managedFields'];
    const { namespace, name } = policy.metadata;
    let m = this.byNamespace.get(namespace);
    if (!m) this.byNamespace.set(namespace, (m = new Map()));
    m.set(name, policy);
  }
}

/** The store, fed by a reflector over gatepolicies.example.com in all namespaces. */
export class PolicyCache implements PolicySource {
  readonly store: PolicyStore;
  private readonly reflector: Reflector<GatePolicy>;
  private readonly consistent: ConsistentCollection<GatePolicy>;

  constructor(opts: { client: RestClient; log: Logger }) {
    this.store = new PolicyStore(opts.log);
    this.reflector = new Reflector<GatePolicy>({
      client: opts.client,
      path: `${STORAGE_PATH}/${GATE_POLICY_RESOURCE}`,
      description: 'gatepolicies.example.com',
      log: opts.log,
      store: this.store,
    });
    this.consistent = new ConsistentCollection({ client: opts.client, path: `${STORAGE_PATH}/${GATE_POLICY_RESOURCE}`, target: this.store, description: 'GatePolicies' });
  }

  /** Resolves once the cache holds every GatePolicy write acknowledged before the call (a consistent read of kube-apiserver). */
  fresh(): Promise<void> {
    return this.consistent.fresh();
  }

  get synced(): boolean {
    return this.store.synced;
  }

  policiesFor(namespace: string): readonly GatePolicy[] {
    return this.store.policiesFor(namespace);
  }

  get report(): CacheReport {
    return { resource: `${GATE_POLICY_RESOURCE}.${STORAGE_GROUP}`, synced: this.store.synced, objects: this.store.size, progress: this.reflector.progress };
  }

  start(): void {
    this.reflector.start();
  }

  stop(): Promise<void> {
    return this.reflector.stop();
  }
}

// The whole filter chain in-process, for tests: newServer with a real
// authenticator (front-proxy CA made here), a real watch cache fed by a fake
// kube-apiserver client, and seams for the authorizer, the token reviewer
// and the subresource handlers. Requests go over real TLS on loopback.
import { X509Certificate } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { Agent, request } from 'node:https';
import { PassThrough } from 'node:stream';
import { afterAll, beforeAll } from 'vitest';
import type { StoredObject } from '../../../api/src/types.ts';
import { issueCertificate, newCertificateAuthority, selfSignedServingCertificate, type KeyPairPem } from '../../../client/src/certificates.ts';
import type { RequestOpts, RestClient } from '../../../client/src/rest-client.ts';
import type { ResolvedConfig } from '../../../client/src/kubeconfig.ts';
import { GateAdmission } from '../admission/gate-admission.ts';
import { Authenticator } from '../auth/authenticator.ts';
import type { Attributes, Authorizer, Decision } from '../auth/delegated-authz.ts';
import type { TokenReviewer } from '../auth/token-review.ts';
import type { UserInfo } from '../auth/user.ts';
import { realClock } from '../clock.ts';
import type { ServerConfig } from '../config.ts';
import { staticServingCertificate } from '../http/serving-certificate.ts';
import { buildOpenApi } from '../discovery/openapi-handler.ts';
import { memoryLogger } from '../log/logger.ts';
import { newMetrics } from '../metrics/metrics.ts';
import { memoryStatus } from '../metrics/memory.ts';
import type { SubresourceHandler } from '../registry/customresources/handlers.ts';
import { CustomResourceStorage } from '../registry/customresources/storage.ts';
import { newServer, type RunningServer } from '../server.ts';
import { CrdWatchCache } from '../store/crd-watch-cache.ts';
import { SPEC_ONLY } from '../state/gate-sources.ts';
import { frontProxySettings } from './front-proxy.ts';

/** kube-apiserver as the watch cache sees it: one list, then watch streams the test writes events into. */
export class FakeKube implements RestClient {
  readonly config = { server: 'https://kube.invalid' } as ResolvedConfig;
  private readonly streams = new Set<PassThrough>();
  private readonly items: StoredObject[];
  rv = 10;

  constructor(items: StoredObject[]) {
    this.items = [...items];
  }

  async json<T>(method: string): Promise<T> {
    if (method !== 'GET') throw new Error(`FakeKube: ${method} is not served`);
    return { metadata: { resourceVersion: String(this.rv) }, items: this.items } as T;
  }

  async stream(_path: string, opts?: RequestOpts): Promise<IncomingMessage> {
    const s = new PassThrough();
    this.streams.add(s);
    s.on('close', () => this.streams.delete(s));
    opts?.signal?.addEventListener('abort', () => s.destroy());
    return s as unknown as IncomingMessage;
  }

  send(): Promise<IncomingMessage> {
    return Promise.reject(new Error('FakeKube: send is not served'));
  }

  /**
   * The watches end with 410 Expired (a gap the watch cannot bridge) and the
   * next list answers `items` at a newer resourceVersion, as after a compaction.
   */
  expireWatches(items: StoredObject[]): void {
    this.rv += 10;
    this.items.splice(0, this.items.length, ...items);
    for (const s of this.streams) s.write(JSON.stringify({ type: 'ERROR', object: { kind: 'Status', apiVersion: 'v1', status: 'Failure', code: 410, reason: 'Expired', message: 'too old resource version' } }) + '\n');
  }

  /** A watch event on every open stream. */
  emit(type: 'ADDED' | 'MODIFIED' | 'DELETED', obj: StoredObject): void {
    this.rv++;
    const object = { ...obj, metadata: { ...obj.metadata, resourceVersion: String(this.rv) } };
    for (const s of this.streams) s.write(JSON.stringify({ type, object }) + '\n');
  }

  close(): void {}
}

export function storedObject(namespace: string, name: string, states = ['a', 'b']): StoredObject {
  return {
    apiVersion: 'example.com/v1',
    kind: 'CustomResource',
    metadata: { name, namespace, uid: `uid-${name}`, resourceVersion: '5', generation: 1, creationTimestamp: '2025-01-01T00:00:00Z' },
    spec: { name, states },
  };
}

/** Allows everything unless told otherwise; records what it was asked. */
export class FakeAuthorizer implements Authorizer {
  readonly asked: { user: UserInfo; attrs: Attributes }[] = [];
  decide: (user: UserInfo, attrs: Attributes) => Promise<Decision> = async () => ({ allowed: true });

  authorize(user: UserInfo, attrs: Attributes): Promise<Decision> {
    this.asked.push({ user, attrs });
    return this.decide(user, attrs);
  }
}

export interface InProcessOptions {
  /** What the admission-policy check reports (Warning headers on discovery). */
  warnings?: readonly string[];
  subresources?: Record<string, SubresourceHandler>;
  tokens?: TokenReviewer;
  objects?: StoredObject[];
  config?: Partial<ServerConfig>;
}

export interface Response {
  status: number;
  headers: IncomingMessage['headers'];
  body: string;
}

export interface RequestOptions {
  method?: string;
  path: string;
  headers?: Record<string, string | string[]>;
  body?: string | Buffer;
  /** Client certificate: the front proxy's by default; 'none' for an anonymous TLS client. */
  as?: 'proxy' | 'none' | KeyPairPem;
}

export interface InProcess {
  port: number;
  kube: FakeKube;
  authorizer: FakeAuthorizer;
  cfg: ServerConfig;
  log: ReturnType<typeof memoryLogger>;
  proxyCert: KeyPairPem;
  /** A request as the front proxy (X-Remote-User: admin unless headers say otherwise). */
  request(o: RequestOptions): Promise<Response>;
  /** Opens a request and hands back the response as soon as its headers arrive. */
  open(o: RequestOptions): Promise<IncomingMessage>;
  close(): Promise<void>;
}

let pki: Promise<{ serving: KeyPairPem & { ca: string }; proxy: KeyPairPem; proxyCa: string }> | undefined;

/** One PKI per test process: key generation is the slow part. */
function testPki() {
  pki ??= (async () => {
    const serving = await selfSignedServingCertificate('in-process', ['localhost'], ['127.0.0.1']);
    const proxyCA = await newCertificateAuthority('front-proxy-ca');
    const proxy = await issueCertificate(proxyCA, { commonName: 'front-proxy-client', usage: 'client' });
    return { serving, proxy, proxyCa: proxyCA.cert };
  })();
  return pki;
}

async function synced(cache: CrdWatchCache): Promise<void> {
  while (!cache.ready) await new Promise((r) => setImmediate(r));
}

export async function startInProcess(o: InProcessOptions = {}): Promise<InProcess> {
  const { serving, proxy, proxyCa } = await testPki();
  const log = memoryLogger();
  const kube = new FakeKube(o.objects ?? [storedObject('shop', 'one')]);
  const cache = new CrdWatchCache({ client: kube, log });
  cache.start();
  await synced(cache);
  const authorizer = new FakeAuthorizer();
  const settings = frontProxySettings([new X509Certificate(proxyCa)]);
  const storage = new CustomResourceStorage(cache, realClock);
  const cfg: ServerConfig = {
    servingCertificate: staticServingCertificate({ cert: serving.cert + serving.ca, key: serving.key }),
    port: 0,
    bindAddress: '127.0.0.1',
    log,
    metrics: newMetrics(),
    authenticator: new Authenticator({ settings: () => settings, tokens: o.tokens ?? { review: async () => undefined } }),
    authorizer,
    authnSettings: { hasSynced: true },
    cache,
    policyCheck: { warnings: o.warnings ?? [] },
    policies: { synced: true, policiesFor: () => [] },
    freezes: { synced: true, activeFor: () => [], inForceFor: () => [] },
    admission: new GateAdmission({ gates: SPEC_ONLY, authorizer, clock: realClock, log, ready: () => true, recordDeletion: async () => {}, dropApprovals: async () => {} }),
    resources: { storage, watch: { log, bookmarkIntervalMs: 60_000 }, subresources: o.subresources ?? {} },
    openapi: buildOpenApi(),
    version: { gitVersion: 'v0.0.0-test' },
    shutdownDelayMs: 0,
    shutdownTimeoutMs: 1_000,
    requestTimeoutMs: 60_000,
    replica: { name: 'in-process', startTime: new Date(), caches: [cache], memory: () => memoryStatus(undefined) },
    ...o.config,
  };
  const running: RunningServer = await newServer(cfg).listen();
  // Keep-alive, as kube-apiserver's proxy connects: a response must not outlive its request on a reused connection.
  const agent = new Agent({ keepAlive: true, maxSockets: 16 });
  const open = (r: RequestOptions) => openRequest(running.port, serving.ca, proxy, agent, r);
  return {
    port: running.port,
    kube,
    authorizer,
    cfg,
    log,
    proxyCert: proxy,
    open,
    request: async (r) => {
      const res = await open(r);
      let body = '';
      res.setEncoding('utf8');
      for await (const c of res as AsyncIterable<string>) body += c;
      return { status: res.statusCode ?? 0, headers: res.headers, body };
    },
    async close() {
      agent.destroy();
      await running.shutdown();
      await cache.stop();
    },
  };
}

/** A server of this describe block's own: started before its tests, closed after. */
export function useInProcess(o: InProcessOptions = {}): () => InProcess {
  let s: InProcess | undefined;
  beforeAll(async () => {
    s = await startInProcess(o);
  });
  afterAll(() => s?.close());
  return () => {
    if (!s) throw new Error('useInProcess: the server is not started yet (call it inside a test)');
    return s;
  };
}

/** Reads a watch response until an event names `name` ('event') or the server ends it ('ended'). */
export function watchOutcome(res: IncomingMessage, name: string): Promise<'event' | 'ended'> {
  res.setEncoding('utf8');
  let text = '';
  return new Promise((resolve) => {
    res.on('end', () => resolve('ended'));
    res.on('data', (d: string) => {
      text += d;
      if (text.includes(`"name":"${name}"`)) resolve('event');
    });
  });
}

function openRequest(port: number, ca: string, proxy: KeyPairPem, agent: Agent, r: RequestOptions): Promise<IncomingMessage> {
  const cert = r.as === 'none' ? undefined : r.as === undefined || r.as === 'proxy' ? proxy : r.as;
  const identity = r.as === undefined || r.as === 'proxy' ? { 'X-Remote-User': 'admin', 'X-Remote-Group': 'system:masters' } : {};
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        method: r.method ?? 'GET',
        path: r.path,
        ca,
        servername: 'localhost',
        // Framed by its length: Node's client sends a DELETE's or OPTIONS' body unframed otherwise.
        headers: { ...identity, ...(r.body !== undefined ? { 'Content-Length': String(Buffer.byteLength(r.body)) } : {}), ...r.headers },
        ...(cert ? { cert: cert.cert, key: cert.key, agent } : { agent: false }),
      },
      resolve,
    );
    req.on('error', reject);
    req.end(r.body);
  });
}

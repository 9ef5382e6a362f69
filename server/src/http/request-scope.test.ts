// A request that times out cancels its calls to kube-apiserver (issue 23), as
// k8s.io/apiserver cancels the handler's context: the whole filter chain
// in-process, a handler that calls a peer which never answers through the
// backend's RestClient (with the request's signal joined, as config.ts makes
// it), and the peer watching its side of the call end. Work started detached
// (shared by many requests) is not cancelled.
import type { IncomingMessage } from 'node:http';
import { createServer, type Server } from 'node:https';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { issueCertificate, newCertificateAuthority } from '../../../client/src/certificates.ts';
import { newRestClient, type RestClient } from '../../../client/src/rest-client.ts';
import { useInProcess } from '../testing/in-process-server.ts';
import { currentRequestSignal, detached } from './request-scope.ts';

let peer: Server;
let client: RestClient;
/** Resolves when the caller's connection of /hang closes: the call was cancelled (an answered call keeps its keep-alive connection). */
let hangClosed!: () => void;
const hangGone = new Promise<void>((r) => (hangClosed = r));
let detachedAnswer: Promise<unknown> | undefined;

beforeAll(async () => {
  const authority = await newCertificateAuthority('peer-ca');
  const serving = await issueCertificate(authority, { commonName: 'localhost', usage: 'server', dnsNames: ['localhost'], ipAddresses: ['127.0.0.1'] });
  peer = createServer({ cert: serving.cert, key: serving.key }, (req: IncomingMessage, res) => {
    // /hang never answers; /late answers once /hang has been cancelled.
    if (req.url === '/hang') req.socket.once('close', () => hangClosed());
    else void hangGone.then(() => res.end('{"late":true}'));
  });
  await new Promise<void>((r) => peer.listen(0, '127.0.0.1', r));
  const port = (peer.address() as { port: number }).port;
  client = newRestClient(
    { server: `https://127.0.0.1:${port}`, namespace: 'default', namespaceExplicit: false, tls: { ca: Buffer.from(authority.cert), insecure: false }, auth: { token: 't' }, timeoutMs: 0 },
    { userAgent: 'test', exec: { stdinIsTTY: false, env: {} }, contextSignal: currentRequestSignal },
  );
});

afterAll(() => {
  client?.close();
  peer?.closeAllConnections();
  return new Promise<void>((r) => peer.close(() => r()));
});

describe('a request that times out', () => {
  const s = useInProcess({
    config: { requestTimeoutMs: 300 },
    subresources: {
      state: {
        verbs: ['get'],
        handle: async () => {
          detachedAnswer = detached(() => client.json('GET', '/late'));
          await client.json('GET', '/hang');
        },
      },
    },
  });

  it('is answered 504 and its call to kube-apiserver is cancelled; a call it started detached is not', async () => {
    const r = await s().request({ path: '/apis/custom.example.com/v1/namespaces/shop/customresources/one/state' });
    expect(r.status, r.body).toBe(504);
    // The peer sees the handler's call end: the backend cancelled it (it would otherwise wait for ever).
    await hangGone;
    expect(await detachedAnswer).toEqual({ late: true });
  });
});

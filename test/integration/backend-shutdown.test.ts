// Graceful shutdown on SIGTERM, as k8s.io/apiserver does it: /readyz fails
// first (so load balancers and the aggregator stop sending), requests are
// still served during the delay, open watches are ended, and the process
// exits cleanly.
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { startBackend } from '../../cluster/backend.ts';
import { isAlive } from '../../cluster/processes.ts';
import { asUser, direct, frontProxyCert } from './backend-client.ts';
import { cluster, eventually } from './harness.ts';

describe('SIGTERM', () => {
  it('fails readyz first, keeps serving during the shutdown delay, ends watches, exits 0', async () => {
    const b = await startBackend({ cluster: cluster(), dir: join(cluster().dir, 'shutdown-backend'), register: false, extraArgs: ['--shutdown-delay-duration=2', '--shutdown-timeout=5'] });
    const req = (path: string) => direct({ path, cert: frontProxyCert(), headers: asUser('root', ['system:masters']), timeoutMs: 10_000 }, b.port, b.caFile);
    expect((await direct({ path: '/readyz' }, b.port, b.caFile)).status).toBe(200);
    // An open watch.
    const watch = req('/apis/custom.example.com/v1/customresources?watch=1&timeoutSeconds=60');
    await new Promise((r) => setTimeout(r, 300));
    const exited = new Promise<number | null>((resolve) => b.proc.child!.once('exit', (code) => resolve(code)));
    process.kill(b.pid, 'SIGTERM');
    await eventually('readyz fails', async () => (await direct({ path: '/readyz' }, b.port, b.caFile)).status === 500, 2_000);
    const verbose = await direct({ path: '/readyz?verbose' }, b.port, b.caFile);
    expect(verbose.body).toContain('[-]shutdown failed');
    // Still serving during the delay.
    expect((await req('/apis/custom.example.com/v1')).status).toBe(200);
    // The watch is ended (200, stream closed), and the process exits cleanly.
    expect((await watch).status).toBe(200);
    expect(await exited).toBe(0);
    expect(isAlive(b.pid)).toBe(false);
  });
});

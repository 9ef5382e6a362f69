// Serving without a given certificate: the backend makes a self-signed pair
// in --cert-dir (as k8s.io/apiserver's MaybeDefaultWithSelfSignedCerts does),
// reuses it on the next start, and serves with it.
import { X509Certificate } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { freePort, startProcess, stopProcess, waitFor } from '../../cluster/processes.ts';
import { backend, direct } from './backend-client.ts';

const MAIN = fileURLToPath(new URL('../../server/src/main.ts', import.meta.url));

describe('--cert-dir', () => {
  it('generates a self-signed serving certificate, serves with it, and keeps it across restarts', async () => {
    const certDir = mkdtempSync(join(tmpdir(), 'backend-certs-'));
    const port = await freePort();
    const args = [MAIN, `--secure-port=${port}`, '--bind-address=127.0.0.1', `--cert-dir=${certDir}`, '--self-signed-dns-names=localhost,kubectl-custom-backend.custom-system.svc', `--kubeconfig=${backend().kubeconfig}`];
    const start = () => startProcess({ name: 'backend', command: process.execPath, args, logFile: join(certDir, 'backend.log') });
    let p = start();
    const ready = async () => (await direct({ path: '/readyz' }, port, join(certDir, 'ca.crt')).catch(() => ({ status: 0 }))).status === 200;
    await waitFor('readyz with the generated certificate', p, async () => existsSync(join(certDir, 'ca.crt')) && ready(), 60_000);
    const cert = new X509Certificate(readFileSync(join(certDir, 'apiserver.crt')));
    expect(cert.checkHost('kubectl-custom-backend.custom-system.svc')).toBe('kubectl-custom-backend.custom-system.svc');
    expect(cert.checkIP('127.0.0.1')).toBe('127.0.0.1');
    await stopProcess(p.pid);
    p = start();
    await waitFor('readyz after a restart', p, ready, 60_000);
    expect(new X509Certificate(readFileSync(join(certDir, 'apiserver.crt'))).fingerprint256).toBe(cert.fingerprint256);
    await stopProcess(p.pid);
  });
});

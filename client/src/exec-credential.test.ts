import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError } from './errors.ts';
import { execInfo, runExecCredential, type ExecIO } from './exec-credential.ts';
import type { ExecConfig } from './kubeconfig.ts';
import { fakePlatform } from './testing/fake-platform.ts';

const V1 = 'client.authentication.k8s.io/v1';
const V1BETA1 = 'client.authentication.k8s.io/v1beta1';

let tmp: string;
const script = (name: string) => join(tmp, name);

// Each script prints an ExecCredential of the apiVersion in $1 (default v1).
const SCRIPTS: Record<string, string> = {
  // The token carries what the plugin saw: base64 of KUBERNETES_EXEC_INFO, and $GREETING.
  'token.sh': `#!/bin/sh
info=$(printf '%s' "$KUBERNETES_EXEC_INFO" | base64 | tr -d '\\n')
printf '{"apiVersion":"%s","kind":"ExecCredential","status":{"token":"%s.%s","expirationTimestamp":"2030-01-02T03:04:05Z"}}\\n' "\${1:-${V1}}" "$info" "\${GREETING:-none}"
`,
  'cert.sh': `#!/bin/sh
printf '{"apiVersion":"%s","kind":"ExecCredential","status":{"clientCertificateData":"-----BEGIN CERTIFICATE-----\\\\nCERT\\\\n-----END CERTIFICATE-----\\\\n","clientKeyData":"-----BEGIN PRIVATE KEY-----\\\\nKEY\\\\n-----END PRIVATE KEY-----\\\\n"}}' "\${1:-${V1}}"
`,
  'prompt.sh': `#!/bin/sh
echo "exec-credential.test.ts: a prompt on stderr, as a login plugin would print (expected)" >&2
printf '{"apiVersion":"${V1}","kind":"ExecCredential","status":{"token":"after-prompt"}}'
`,
  'fail.sh': `#!/bin/sh
exit 3
`,
  'garbage.sh': `#!/bin/sh
echo 'not json'
`,
  'empty-status.sh': `#!/bin/sh
printf '{"apiVersion":"${V1}","kind":"ExecCredential","status":{}}'
`,
  'wrong-kind.sh': `#!/bin/sh
printf '{"apiVersion":"${V1}","kind":"Secret","status":{"token":"x"}}'
`,
};

beforeAll(() => {
  tmp = mkdtempSync(join(tmpdir(), 'exec-credential-test-'));
  for (const [name, text] of Object.entries(SCRIPTS)) {
    writeFileSync(script(name), text);
    chmodSync(script(name), 0o755);
  }
});

afterAll(() => {
  rmSync(tmp, { recursive: true, force: true });
});

const io = (over: Partial<ExecIO> = {}): ExecIO => ({ stdinIsTTY: false, env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin' }, ...over });
const exec = (over: Partial<ExecConfig> = {}): ExecConfig => ({ apiVersion: V1, command: script('token.sh'), interactiveMode: 'IfAvailable', ...over });

/** The KUBERNETES_EXEC_INFO and $GREETING that token.sh saw, decoded from its token. */
function seen(token: string | undefined): { info: { apiVersion: string; kind: string; spec: { interactive: boolean; cluster?: Record<string, unknown> } }; greeting: string } {
  const [info, greeting] = (token ?? '').split('.');
  return { info: JSON.parse(Buffer.from(info ?? '', 'base64').toString('utf8')) as never, greeting: greeting ?? '' };
}

async function rejection(p: Promise<unknown>): Promise<ConfigError> {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(ConfigError);
  return e as ConfigError;
}

describe('runExecCredential: results', () => {
  it('returns the token and its expiry', async () => {
    const r = await runExecCredential(exec(), io());
    expect(r.token).toMatch(/^[A-Za-z0-9+/=]+\.none$/);
    expect(r.expiresAt?.toISOString()).toBe('2030-01-02T03:04:05.000Z');
    expect(r.clientCert).toBeUndefined();
  });

  it.each([
    { name: 'v1', apiVersion: V1 },
    { name: 'v1beta1', apiVersion: V1BETA1 },
  ])('returns a client certificate and key ($name)', async ({ apiVersion }) => {
    const r = await runExecCredential(exec({ apiVersion, command: script('cert.sh'), args: [apiVersion] }), io());
    expect(r.clientCert?.toString()).toBe('-----BEGIN CERTIFICATE-----\nCERT\n-----END CERTIFICATE-----\n');
    expect(r.clientKey?.toString()).toBe('-----BEGIN PRIVATE KEY-----\nKEY\n-----END PRIVATE KEY-----\n');
    expect(r.token).toBeUndefined();
    expect(r.expiresAt).toBeUndefined();
  });

  it('still succeeds when the plugin prints a prompt on stderr', async () => {
    expect(await runExecCredential(exec({ command: script('prompt.sh') }), io())).toEqual({ token: 'after-prompt' });
  });

  it('passes the env entries of the config, over the inherited environment', async () => {
    const r = await runExecCredential(exec({ env: [{ name: 'GREETING', value: 'hello' }] }), io({ env: { PATH: process.env['PATH'] ?? '', GREETING: 'inherited' } }));
    expect(seen(r.token).greeting).toBe('hello');
  });

  it('passes the inherited environment', async () => {
    const r = await runExecCredential(exec(), io({ env: { PATH: process.env['PATH'] ?? '', GREETING: 'inherited' } }));
    expect(seen(r.token).greeting).toBe('inherited');
  });
});

describe('runExecCredential: KUBERNETES_EXEC_INFO', () => {
  it.each<{ name: string; exec: Partial<ExecConfig>; tty: boolean; interactive: boolean }>([
    { name: 'IfAvailable without a terminal', exec: { interactiveMode: 'IfAvailable' }, tty: false, interactive: false },
    { name: 'Never without a terminal', exec: { interactiveMode: 'Never' }, tty: false, interactive: false },
    { name: 'IfAvailable on a terminal', exec: { interactiveMode: 'IfAvailable' }, tty: true, interactive: true },
    { name: 'Always on a terminal', exec: { interactiveMode: 'Always' }, tty: true, interactive: true },
    { name: 'Never on a terminal', exec: { interactiveMode: 'Never' }, tty: true, interactive: false },
    { name: 'v1beta1 without interactiveMode (IfAvailable)', exec: { apiVersion: V1BETA1, interactiveMode: undefined, args: [V1BETA1] }, tty: false, interactive: false },
  ])('$name: interactive $interactive', async ({ exec: over, tty, interactive }) => {
    const e = exec(over);
    const r = await runExecCredential(e, io({ stdinIsTTY: tty }));
    const { info } = seen(r.token);
    expect(info).toEqual({ apiVersion: e.apiVersion, kind: 'ExecCredential', spec: { interactive } });
  });

  it('carries spec.cluster only with provideClusterInfo, with the config', async () => {
    const cluster = { server: 'https://k.example:6443', 'certificate-authority-data': 'Q0E=' };
    const without = seen((await runExecCredential(exec(), io(), cluster)).token).info;
    expect(without.spec).toEqual({ interactive: false });
    const withInfo = seen((await runExecCredential(exec({ provideClusterInfo: true, config: { audience: 'k8s' } }), io(), cluster)).token).info;
    expect(withInfo.spec).toEqual({ interactive: false, cluster: { ...cluster, config: { audience: 'k8s' } } });
  });

  it('is client-go\'s even when the kubeconfig\'s env names it (it is set last)', async () => {
    const r = await runExecCredential(exec({ env: [{ name: 'KUBERNETES_EXEC_INFO', value: 'forged' }] }), io());
    expect(seen(r.token).info.kind).toBe('ExecCredential');
  });

  it('execInfo says interactive on a terminal when the mode allows it', () => {
    expect(JSON.parse(execInfo(exec({ interactiveMode: 'Always' }), true, undefined))).toEqual({ apiVersion: V1, kind: 'ExecCredential', spec: { interactive: true } });
  });
});

describe('runExecCredential: errors', () => {
  it('v1 without interactiveMode is a ConfigError', async () => {
    const e = await rejection(runExecCredential(exec({ interactiveMode: undefined }), io()));
    expect(e.message).toContain('interactiveMode must be specified');
  });

  it('interactiveMode Always without a terminal is a ConfigError', async () => {
    const e = await rejection(runExecCredential(exec({ interactiveMode: 'Always' }), io({ stdinIsTTY: false })));
    expect(e.message).toContain('interactive terminal');
  });

  it('an unknown apiVersion in the kubeconfig is a ConfigError', async () => {
    const e = await rejection(runExecCredential(exec({ apiVersion: 'client.authentication.k8s.io/v1alpha1' }), io()));
    expect(e.message).toContain('invalid apiVersion');
  });

  it('a non-zero exit is a ConfigError with the exit code', async () => {
    const e = await rejection(runExecCredential(exec({ command: script('fail.sh') }), io()));
    expect(e.message).toContain('exit code 3');
    expect(e.message).toContain(script('fail.sh'));
  });

  it('a missing executable is "not found", with the install hint', async () => {
    const missing = script('no-such-plugin');
    const e = await rejection(runExecCredential(exec({ command: missing, installHint: '  Install it with: brew install no-such-plugin\n' }), io()));
    expect(e.message).toBe(`getting credentials: exec: executable ${missing} not found\n\nInstall it with: brew install no-such-plugin`);
  });

  it('a missing executable without a hint is just "not found"', async () => {
    const e = await rejection(runExecCredential(exec({ command: 'kubectl-custom-test-no-such-plugin' }), io()));
    expect(e.message).toBe('getting credentials: exec: executable kubectl-custom-test-no-such-plugin not found');
  });

  it('output of another apiVersion is an error naming both', async () => {
    const e = await rejection(runExecCredential(exec({ args: [V1BETA1] }), io()));
    expect(e.message).toContain(`configured to use API version ${V1}`);
    expect(e.message).toContain(`plugin returned version ${V1BETA1}`);
  });

  it.each([
    { name: 'not JSON', command: 'garbage.sh', want: 'did not print an ExecCredential in JSON' },
    { name: 'neither token nor certificate', command: 'empty-status.sh', want: 'neither a token nor a client certificate' },
    { name: 'another kind', command: 'wrong-kind.sh', want: 'plugin returned version' },
  ])('bad output: $name', async ({ command, want }) => {
    const e = await rejection(runExecCredential(exec({ command: script(command) }), io()));
    expect(e.message).toContain(want);
  });
});

// Windows: found as kubectl.exe finds it (the lookup and the cmd.exe line have their own tests);
// these stop before spawning, which this machine cannot do for a Windows program.
describe('runExecCredential on Windows', () => {
  const win = fakePlatform('win32', { files: { 'C:\\sdk\\gcloud.cmd': '', 'D:\\work\\gcloud.exe': '' }, cwd: 'D:\\work' });
  const winIO = (env: NodeJS.ProcessEnv): ExecIO => ({ stdinIsTTY: false, env, platform: win });

  it('a command not on %PATH% is "not found", with the install hint', async () => {
    const e = await rejection(runExecCredential(exec({ command: 'aws', installHint: 'Install the AWS CLI' }), winIO({ Path: 'C:\\sdk' })));
    expect(e.message).toBe('getting credentials: exec: executable aws not found\n\nInstall the AWS CLI');
  });

  it('one only in the current directory is refused as kubectl refuses it', async () => {
    const e = await rejection(runExecCredential(exec({ command: 'gcloud' }), winIO({ Path: 'C:\\elsewhere' })));
    expect(e.message).toBe('getting credentials: exec: executable gcloud not found (only in the current directory, which kubectl does not run plugins from)');
  });

  it('a .cmd given an argument with a line break is refused before cmd.exe could run a second command', async () => {
    const e = await rejection(runExecCredential(exec({ command: 'C:\\sdk\\gcloud.cmd', args: ['x\r\ncalc'] }), winIO({})));
    expect(e.message).toBe('getting credentials: exec: batch file arguments are invalid: an argument holds a line break');
  });
});

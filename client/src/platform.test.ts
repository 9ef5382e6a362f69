import { describe, expect, it } from 'vitest';
import { getEnv, hostPlatform, isAbs, resolveAgainst, setEnv, splitList } from './platform.ts';
import { fakePlatform } from './testing/fake-platform.ts';

const WIN = { os: 'win32' } as const;
const LINUX = { os: 'linux' } as const;

describe('splitList (filepath.SplitList)', () => {
  it.each([
    ['', []],
    ['/a/config', ['/a/config']],
    ['/a/config:/b/config', ['/a/config', '/b/config']],
    ['/a::/b', ['/a', '', '/b']],
    // A Windows path on Unix is cut at its drive colon, as Go cuts it.
    ['C:\\a', ['C', '\\a']],
  ])('Unix: %j', (list, want) => {
    expect(splitList(list, LINUX)).toEqual(want);
  });

  it.each([
    ['', []],
    ['C:\\Users\\me\\.kube\\config', ['C:\\Users\\me\\.kube\\config']],
    ['C:\\a\\config;D:\\b\\config', ['C:\\a\\config', 'D:\\b\\config']],
    ['C:\\a;;D:\\b;', ['C:\\a', '', 'D:\\b', '']],
    // Quotes hold a ";" inside a path and are dropped.
    ['"C:\\odd;name\\config";D:\\b', ['C:\\odd;name\\config', 'D:\\b']],
    ['C:\\"Program Files"\\k;x', ['C:\\Program Files\\k', 'x']],
    // Colons are not separators on Windows.
    ['C:/a/config', ['C:/a/config']],
  ])('Windows: %j', (list, want) => {
    expect(splitList(list, WIN)).toEqual(want);
  });
});

describe('isAbs (filepath.IsAbs)', () => {
  it.each([
    ['C:\\Users\\me', true],
    ['c:/users/me', true],
    ['\\\\server\\share\\config', true],
    ['//server/share/config', true],
    ['\\\\?\\C:\\long\\path', true],
    // The current drive's root, and a drive's current directory: relative for Go.
    ['\\Users\\me', false],
    ['/Users/me', false],
    ['C:relative', false],
    ['certs\\ca.crt', false],
    ['', false],
  ])('Windows: %j → %s', (p, want) => {
    expect(isAbs(p, WIN)).toBe(want);
  });

  it.each([
    ['/etc/kube', true],
    ['certs/ca.crt', false],
    ['C:\\Users', false],
  ])('Unix: %j → %s', (p, want) => {
    expect(isAbs(p, LINUX)).toBe(want);
  });
});

describe('resolveAgainst (clientcmd.ResolvePaths)', () => {
  const win = fakePlatform('win32');
  const linux = fakePlatform('linux');
  it.each([
    ['certs\\ca.crt', 'C:\\Users\\me\\.kube\\certs\\ca.crt'],
    ['certs/ca.crt', 'C:\\Users\\me\\.kube\\certs\\ca.crt'],
    ['..\\shared\\ca.crt', 'C:\\Users\\me\\shared\\ca.crt'],
    ['\\pki\\ca.crt', 'C:\\Users\\me\\.kube\\pki\\ca.crt'],
    ['D:\\pki\\ca.crt', 'D:\\pki\\ca.crt'],
    ['\\\\fs\\pki\\ca.crt', '\\\\fs\\pki\\ca.crt'],
  ])('Windows: %j in C:\\Users\\me\\.kube', (p, want) => {
    expect(resolveAgainst('C:\\Users\\me\\.kube', p, win)).toBe(want);
  });

  it('Unix', () => {
    expect(resolveAgainst('/home/me/.kube', 'certs/ca.crt', linux)).toBe('/home/me/.kube/certs/ca.crt');
    expect(resolveAgainst('/home/me/.kube', '/etc/ca.crt', linux)).toBe('/etc/ca.crt');
  });
});

describe('environment names', () => {
  it('are case-insensitive on Windows only', () => {
    const env = { Path: 'C:\\Windows', PATHEXT: '.EXE' };
    expect(getEnv(env, 'PATH', WIN)).toBe('C:\\Windows');
    expect(getEnv(env, 'PathExt', WIN)).toBe('.EXE');
    expect(getEnv(env, 'PATH', LINUX)).toBeUndefined();
  });

  it('setting one on Windows replaces an inherited name that differs in case', () => {
    const env: NodeJS.ProcessEnv = { Path: 'C:\\Windows', Other: 'x' };
    setEnv(env, 'PATH', 'C:\\tools', WIN);
    expect(env).toEqual({ PATH: 'C:\\tools', Other: 'x' });
    const unix: NodeJS.ProcessEnv = { Path: 'a' };
    setEnv(unix, 'PATH', 'b', LINUX);
    expect(unix).toEqual({ Path: 'a', PATH: 'b' });
  });
});

describe('hostPlatform', () => {
  it('is this machine', () => {
    const p = hostPlatform();
    expect(p.os).toBe(process.platform);
    expect(p.cwd()).toBe(process.cwd());
    expect(p.stat(process.cwd())?.isDirectory).toBe(true);
    expect(p.stat('/no/such/file')).toBeUndefined();
  });
});

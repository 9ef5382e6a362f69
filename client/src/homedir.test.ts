import { describe, expect, it } from 'vitest';
import { homeDir } from './homedir.ts';
import { fakePlatform, type FakeFiles } from './testing/fake-platform.ts';

// The Windows cases of client-go's homedir_test.go, with the files in memory.
const ENV = { HOME: 'C:\\home', HOMEDRIVE: 'C:', HOMEPATH: '\\homepath', USERPROFILE: 'C:\\Users\\me' };
const win = (fs: FakeFiles) => fakePlatform('win32', fs);

describe('homeDir on Windows (client-go homedir.HomeDir)', () => {
  it.each<{ name: string; fs: FakeFiles; want: string }>([
    { name: 'USERPROFILE by default: the only one that exists', fs: { dirs: { 'C:\\Users\\me': 0o777 } }, want: 'C:\\Users\\me' },
    { name: 'HOME first when it is a writable folder', fs: { dirs: { 'C:\\home': 0o777, 'C:\\Users\\me': 0o777 } }, want: 'C:\\home' },
    { name: 'USERPROFILE before HOMEDRIVE+HOMEPATH when neither has a kubeconfig', fs: { dirs: { 'C:\\homepath': 0o777, 'C:\\Users\\me': 0o777 } }, want: 'C:\\Users\\me' },
    { name: 'HOMEDRIVE+HOMEPATH before USERPROFILE when both have one', fs: { files: { 'C:\\homepath\\.kube\\config': '', 'C:\\Users\\me\\.kube\\config': '' } }, want: 'C:\\homepath' },
    { name: 'the one with .kube\\config over a writable HOME', fs: { dirs: { 'C:\\home': 0o777 }, files: { 'C:\\Users\\me\\.kube\\config': '' } }, want: 'C:\\Users\\me' },
    { name: 'a writable folder over a read-only one', fs: { dirs: { 'C:\\home': 0o555, 'C:\\Users\\me': 0o777 } }, want: 'C:\\Users\\me' },
    { name: 'the first existing when none is writable', fs: { dirs: { 'C:\\homepath': 0o555, 'C:\\Users\\me': 0o555 } }, want: 'C:\\Users\\me' },
    { name: 'the first set when none exists', fs: {}, want: 'C:\\home' },
  ])('$name', ({ fs, want }) => {
    expect(homeDir(ENV, win(fs))).toBe(want);
  });

  it('HOMEDRIVE+HOMEPATH only when both are set', () => {
    expect(homeDir({ HOMEPATH: '\\homepath' }, win({ files: { 'C:\\homepath\\.kube\\config': '' } }))).toBe('C:\\Users\\fallback');
    expect(homeDir({ HOMEDRIVE: 'D:', HOMEPATH: '\\me' }, win({}))).toBe('D:\\me');
  });

  it('falls back to os.homedir() when nothing is set', () => {
    expect(homeDir({}, fakePlatform('win32', { homedir: 'C:\\fallback' }))).toBe('C:\\fallback');
  });
});

describe('homeDir on Unix', () => {
  it('is $HOME, whatever Windows variables say', () => {
    expect(homeDir({ HOME: '/home/me', USERPROFILE: 'C:\\Users\\me' }, fakePlatform('linux', { files: { '/other/.kube/config': '' } }))).toBe('/home/me');
    expect(homeDir({}, fakePlatform('darwin', { homedir: '/Users/me' }))).toBe('/Users/me');
  });
});

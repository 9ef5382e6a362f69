import { describe, expect, it } from 'vitest';
import { LookPathError, lookPath, pathExts } from './look-path.ts';
import { fakePlatform } from './testing/fake-platform.ts';

// The cases of Go's lp_windows_test.go that kubectl's exec plugins meet.
const FILES = {
  'C:\\Program Files\\Google\\Cloud SDK\\bin\\gcloud.cmd': '',
  'C:\\Program Files\\Google\\Cloud SDK\\bin\\gke-gcloud-auth-plugin.exe': '',
  'C:\\tools\\kubelogin.exe': '',
  'C:\\tools\\kubelogin.bat': '',
  'C:\\tools\\both.bat': '',
  'C:\\tools\\both.exe': '',
  'C:\\tools\\script.ps1': '',
  'C:\\tools\\weird.bat.exe': '',
  'C:\\tools\\noext': '',
  'C:\\tools\\dir.exe\\inside': '',
  'D:\\work\\evil.exe': '',
  'D:\\work\\bin\\local.cmd': '',
};
const PATH = 'C:\\Windows\\System32;"C:\\Program Files\\Google\\Cloud SDK\\bin";;C:\\tools';
const win = () => fakePlatform('win32', { files: FILES, cwd: 'D:\\work' });
const look = (file: string, env: NodeJS.ProcessEnv = { Path: PATH }) => lookPath(file, env, win());
function refused(file: string, env?: NodeJS.ProcessEnv): LookPathError {
  try {
    look(file, env);
  } catch (e) {
    expect(e).toBeInstanceOf(LookPathError);
    return e as LookPathError;
  }
  throw new Error(`${file} was found`);
}

describe('pathExts', () => {
  it('is PATHEXT, lower case, each with its dot; Go\'s four when unset', () => {
    expect(pathExts({ PATHEXT: '.COM;.EXE;.BAT;.CMD;.VBS;.JS;.WSF;.MSC;PY;' }, win())).toEqual(['.com', '.exe', '.bat', '.cmd', '.vbs', '.js', '.wsf', '.msc', '.py']);
    expect(pathExts({}, win())).toEqual(['.com', '.exe', '.bat', '.cmd']);
    expect(pathExts({ PathExt: '.EXE' }, win())).toEqual(['.exe']);
  });
});

describe('lookPath on Windows (exec.LookPath)', () => {
  it.each([
    ['gcloud', 'C:\\Program Files\\Google\\Cloud SDK\\bin\\gcloud.cmd'],
    ['gke-gcloud-auth-plugin', 'C:\\Program Files\\Google\\Cloud SDK\\bin\\gke-gcloud-auth-plugin.exe'],
    ['GKE-GCLOUD-AUTH-PLUGIN.EXE', 'C:\\Program Files\\Google\\Cloud SDK\\bin\\GKE-GCLOUD-AUTH-PLUGIN.EXE'],
    // PATHEXT's order: .exe before .bat.
    ['kubelogin', 'C:\\tools\\kubelogin.exe'],
    ['kubelogin.bat', 'C:\\tools\\kubelogin.bat'],
    ['both', 'C:\\tools\\both.exe'],
    // A name with an extension that is not there is tried with PATHEXT's too.
    ['weird.bat', 'C:\\tools\\weird.bat.exe'],
    // Names with a separator are paths: PATH is not searched.
    ['C:\\tools\\kubelogin', 'C:\\tools\\kubelogin.exe'],
    ['C:/tools/kubelogin.exe', 'C:\\tools\\kubelogin.exe'],
    ['bin\\local', 'D:\\work\\bin\\local.cmd'],
    ['./bin/local.cmd', 'D:\\work\\bin\\local.cmd'],
  ])('%s → %s', (file, want) => {
    expect(look(file)).toBe(want);
  });

  it('follows PATHEXT: without .exe in it, kubelogin is the .bat', () => {
    expect(look('kubelogin', { PATH, PATHEXT: '.BAT;.CMD' })).toBe('C:\\tools\\kubelogin.bat');
  });

  it.each([
    ['not-there'],
    // A file without an extension is found only by its full name: Go tries the extensions.
    ['noext'],
    // A folder is not an executable.
    ['dir'],
    ['C:\\tools\\missing.exe'],
  ])('%s is not found', (file) => {
    const e = refused(file);
    expect(e.inCurrentDirectory).toBe(false);
    expect(e.message).toBe(`executable file ${file} not found in %PATH%`);
  });

  it('finds a .ps1 when PATHEXT names it (and leaves running it to spawn, which fails as CreateProcess does)', () => {
    expect(look('script', { PATH, PATHEXT: '.EXE;.PS1' })).toBe('C:\\tools\\script.ps1');
  });

  it('refuses one in the current directory (Go 1.19 ErrDot), even when PATH has another', () => {
    expect(refused('evil').inCurrentDirectory).toBe(true);
    expect(refused('evil', { PATH: `${PATH};C:\\tools` }).inCurrentDirectory).toBe(true);
    const withOther = fakePlatform('win32', { files: { ...FILES, 'C:\\tools\\evil.exe': '' }, cwd: 'D:\\work' });
    expect(() => lookPath('evil', { PATH }, withOther)).toThrow(LookPathError);
  });

  it('takes PATH\'s when the current directory is that very folder', () => {
    const inTools = fakePlatform('win32', { files: FILES, cwd: 'C:\\tools' });
    expect(lookPath('kubelogin', { PATH }, inTools)).toBe('C:\\tools\\kubelogin.exe');
  });

  it('skips the current directory under NoDefaultCurrentDirectoryInExePath', () => {
    const withOther = fakePlatform('win32', { files: { ...FILES, 'C:\\tools\\evil.exe': '' }, cwd: 'D:\\work' });
    expect(lookPath('evil', { PATH, NoDefaultCurrentDirectoryInExePath: '' }, withOther)).toBe('C:\\tools\\evil.exe');
    expect(() => lookPath('evil', { PATH, NoDefaultCurrentDirectoryInExePath: '' }, win())).toThrow('not found');
  });

  it('refuses one found through a relative PATH entry', () => {
    expect(refused('local', { PATH: 'bin;C:\\tools', NoDefaultCurrentDirectoryInExePath: '1' }).inCurrentDirectory).toBe(true);
  });
});

import { describe, expect, it } from 'vitest';
import { BatchArgumentError, batchCommandLine, spawnPlan } from './exec-command.ts';
import { LookPathError } from './look-path.ts';
import { fakePlatform } from './testing/fake-platform.ts';

const GCLOUD = 'C:\\Program Files\\Google\\Cloud SDK\\bin\\gcloud.cmd';
const win = () => fakePlatform('win32', { files: { [GCLOUD]: '', 'C:\\tools\\kubelogin.exe': '' }, cwd: 'D:\\work' });
const ENV = { Path: 'C:\\Program Files\\Google\\Cloud SDK\\bin;C:\\tools', ComSpec: 'C:\\WINDOWS\\system32\\cmd.exe' };

describe('batchCommandLine (Rust std make_bat_command_line)', () => {
  // Each argument as Rust quotes it; what a batch file reads back with %~1 is the argument.
  it.each([
    ['two', 'two'],
    ['C:\\path\\file', 'C:\\path\\file'],
    ['-a.b/c:d@e', '-a.b/c:d@e'],
    // cmd.exe splits a batch file's %1 at "=", "," and ";" too.
    ['--flag=x', '"--flag=x"'],
    ['a,b;c', '"a,b;c"'],
    ['one a', '"one a"'],
    ['a&b', '"a&b"'],
    ['a|b', '"a|b"'],
    ['a^b', '"a^b"'],
    ['(x)', '"(x)"'],
    ['<in>out', '"<in>out"'],
    ['50%', '"50%%cd:~,%"'],
    ['%OS%', '"%%cd:~,%OS%%cd:~,%"'],
    ['', '""'],
    ['C:\\dir\\', '"C:\\dir\\\\"'],
    ['say "hi"', '"say ""hi"""'],
    ['a\\"b', '"a\\\\""b"'],
    ['a!b', '"a!b"'],
    ['tab\there', '"tab\there"'],
    ['café', 'café'],
    ['模型', '模型'],
  ])('%j → %s', (arg, quoted) => {
    expect(batchCommandLine('C:\\x.cmd', [arg])).toBe(`""C:\\x.cmd" ${quoted}"`);
  });

  it('quotes the script and the whole line, which /c takes off', () => {
    expect(batchCommandLine('C:\\bin\\sf.cmd', ['a&b', 'say "hi"', '100%', 'plain', ''])).toBe('""C:\\bin\\sf.cmd" "a&b" "say ""hi""" "100%%cd:~,%" plain """');
    expect(batchCommandLine(GCLOUD, [])).toBe(`""${GCLOUD}""`);
  });

  it.each([
    ['a line feed', ['first\nsecond']],
    ['a carriage return', ['a\rb']],
    ['a NUL', ['a\0b']],
  ])('refuses an argument with %s (cmd.exe would end the command there)', (_, args) => {
    expect(() => batchCommandLine('C:\\x.cmd', args)).toThrow(BatchArgumentError);
  });

  it('refuses a script name that no Windows file has', () => {
    expect(() => batchCommandLine('C:\\a"b.cmd', [])).toThrow(BatchArgumentError);
    expect(() => batchCommandLine('C:\\dir\\', [])).toThrow(BatchArgumentError);
  });
});

describe('spawnPlan', () => {
  it('on Unix spawns the command as it is (Node searches PATH as execvp)', () => {
    expect(spawnPlan('kubelogin', ['get-token'], { PATH: '/usr/bin' }, fakePlatform('linux'))).toEqual({ file: 'kubelogin', args: ['get-token'] });
  });

  it('on Windows spawns the .exe that PATH and PATHEXT find', () => {
    expect(spawnPlan('kubelogin', ['get-token', '--login', 'az cli'], ENV, win())).toEqual({ file: 'C:\\tools\\kubelogin.exe', args: ['get-token', '--login', 'az cli'] });
  });

  it('on Windows runs a .cmd through %ComSpec% with a command line built here', () => {
    expect(spawnPlan('gcloud', ['config', 'config-helper', '--format=json', '&calc'], ENV, win())).toEqual({
      file: 'C:\\WINDOWS\\system32\\cmd.exe',
      args: ['/e:ON', '/v:OFF', '/d', '/c', `""${GCLOUD}" config config-helper "--format=json" "&calc""`],
      verbatim: true,
    });
  });

  it('takes cmd.exe from %SystemRoot% when ComSpec is not an absolute path', () => {
    expect(spawnPlan('gcloud', [], { Path: ENV.Path, ComSpec: 'cmd.exe', SystemRoot: 'D:\\Win' }, win()).file).toBe('D:\\Win\\System32\\cmd.exe');
    expect(spawnPlan('gcloud', [], { Path: ENV.Path }, win()).file).toBe('C:\\Windows\\System32\\cmd.exe');
  });

  it('on Windows throws LookPathError for a command PATH does not have', () => {
    expect(() => spawnPlan('aws', [], ENV, win())).toThrow(LookPathError);
  });
});

// How an exec credential plugin is started on each platform. On Unix:
// spawn(command, args), as before. On Windows, as kubectl.exe runs it:
// found by exec.LookPath's rules (look-path.ts), then a .exe or .com run
// directly (Node quotes its arguments as Go's os/exec does, for the
// program's C runtime to split), and a .bat or .cmd (gcloud.cmd, a wrapper
// script) run through cmd.exe, which Windows itself does for Go's
// CreateProcess. Node refuses to spawn those without a shell since
// CVE-2024-27980, and a shell would read the arguments' & | < > ^ % as
// commands ("BatBadBut"): the command line is built here as Rust's standard
// library builds it since its fix for the same flaw (make_bat_command_line
// in library/std/src/sys/args/windows.rs): the script and each argument
// quoted so that cmd.exe reads none of its metacharacters, "%" kept from
// expanding variables, delayed expansion (!) off, AutoRun skipped (/d),
// and an argument holding a line break refused, since cmd.exe would end
// the command there.
import { isAbs, isWindows, getEnv, type Platform } from './platform.ts';
import { lookPath } from './look-path.ts';

export interface SpawnPlan {
  file: string;
  args: string[];
  /** Node's windowsVerbatimArguments: the arguments are the command line as it is (cmd.exe's, built here). */
  verbatim?: boolean;
}

export class BatchArgumentError extends Error {}

/** Characters an argument may hold unquoted (Rust's list); every other ASCII symbol, space and control character is quoted. */
const UNQUOTED = /^[A-Za-z0-9#$*+\-./:?@\\_\u0080-\uffff]*$/;
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;

/** One argument of a batch file's command line (Rust's append_bat_arg). */
function batchArg(arg: string): string {
  if (arg.includes('\0')) throw new BatchArgumentError('an argument holds a NUL character');
  const quote = arg === '' || arg.endsWith('\\') || !UNQUOTED.test(arg) || CONTROL.test(arg);
  let out = '';
  let backslashes = 0;
  for (const ch of arg) {
    if (ch === '\\') backslashes++;
    else {
      // Backslashes before a quote are doubled and the quote doubled, as cmd.exe and the C runtime both read it.
      if (ch === '"') out += '\\'.repeat(backslashes) + '"';
      // "%%cd:~,%" expands to nothing (an empty slice of %cd%), so what follows cannot be read as %NAME%.
      else if (ch === '%') out += '%%cd:~,';
      backslashes = 0;
    }
    out += ch;
  }
  return quote ? `"${out}${'\\'.repeat(backslashes)}"` : out;
}

/** What follows cmd.exe's /c for running `script` with `args`: the whole in one more pair of quotes, which /c takes off. */
export function batchCommandLine(script: string, args: readonly string[]): string {
  if (script.includes('"') || script.endsWith('\\')) throw new BatchArgumentError('Windows file names may not contain `"` or end with `\\`');
  if (args.some((a) => a.includes('\r') || a.includes('\n'))) throw new BatchArgumentError('an argument holds a line break');
  return `""${script}"${args.map((a) => ` ${batchArg(a)}`).join('')}"`;
}

/** cmd.exe: %ComSpec% when it is an absolute path, else the one in %SystemRoot%\System32 (never a cmd.exe in the working directory). */
function commandInterpreter(env: NodeJS.ProcessEnv, platform: Platform): string {
  const comspec = getEnv(env, 'ComSpec', platform);
  if (comspec && isAbs(comspec, platform)) return comspec;
  return platform.path.join(getEnv(env, 'SystemRoot', platform) || 'C:\\Windows', 'System32', 'cmd.exe');
}

/** How to spawn `command` with `args`; throws LookPathError (not found) or BatchArgumentError on Windows. */
export function spawnPlan(command: string, args: readonly string[], env: NodeJS.ProcessEnv, platform: Platform): SpawnPlan {
  if (!isWindows(platform)) return { file: command, args: [...args] };
  const found = lookPath(command, env, platform);
  if (!/\.(bat|cmd)$/i.test(found)) return { file: found, args: [...args] };
  return { file: commandInterpreter(env, platform), args: ['/e:ON', '/v:OFF', '/d', '/c', batchCommandLine(found, args)], verbatim: true };
}

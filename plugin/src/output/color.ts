// Colour only on a terminal, and never with NO_COLOR (https://no-color.org)
// or --no-color. FORCE_COLOR forces it on (for a pager that understands it).
// The same rules on Windows, which needs nothing of its own: a console
// (cmd, PowerShell, Windows Terminal) is a terminal that takes these ANSI
// colours (Windows 10+ natively, older consoles through libuv's
// translation), TERM is usually unset there, and where stdout is a pipe
// (Git Bash's mintty, a redirect) there is no colour, as Go's isatty makes
// kubectl see no terminal there either. The terminal's width (help
// wrapping, root-command.ts) is Node's stdout.columns, which on Windows is
// the console's window width as kubectl's term.GetSize reads it.
import { Chalk, type ChalkInstance } from 'chalk';
import type { OutStream } from '../deps.ts';
import { escapeTerminal } from './escape.ts';

export function colorEnabled(stream: OutStream, env: NodeJS.ProcessEnv, noColorFlag: boolean): boolean {
  if (noColorFlag) return false;
  if (env['NO_COLOR'] !== undefined && env['NO_COLOR'] !== '') return false;
  const force = env['FORCE_COLOR'];
  if (force === '0' || force === 'false') return false;
  if (force !== undefined) return true;
  if (env['TERM'] === 'dumb') return false;
  return !!stream.isTTY;
}

export function newChalk(enabled: boolean): ChalkInstance {
  return new Chalk({ level: enabled ? 1 : 0 });
}

export interface StatePalette {
  /** A state name from the server, escaped for the terminal and coloured by where it sits on its path. */
  state(name: string, path: string[] | undefined, protectedStates?: string[]): string;
}

export function statePalette(c: ChalkInstance): StatePalette {
  return {
    state(name, path, protectedStates) {
      const text = escapeTerminal(name);
      if (!path) return text;
      const i = path.indexOf(name);
      if (i < 0) return c.red(text);
      if (protectedStates?.includes(name)) return c.magenta(text);
      if (i === path.length - 1) return c.green(text);
      if (i === 0) return c.cyan(text);
      return c.yellow(text);
    },
  };
}

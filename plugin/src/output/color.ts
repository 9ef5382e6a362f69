// Colour only on a terminal, and never with NO_COLOR (https://no-color.org)
// or --no-color. FORCE_COLOR forces it on (for a pager that understands it).
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

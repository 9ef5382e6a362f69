// Colour only on a terminal, and never with NO_COLOR (https://no-color.org)
// or --no-color. FORCE_COLOR forces it on (for a pager that understands it).
import { Chalk, type ChalkInstance } from 'chalk';
import type { OutStream } from '../deps.ts';

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
  /** Colours a state name by where it sits on its path. */
  state(name: string, path: string[] | undefined, protectedStates?: string[]): string;
}

export function statePalette(c: ChalkInstance): StatePalette {
  return {
    state(name, path, protectedStates) {
      if (!path) return name;
      const i = path.indexOf(name);
      if (i < 0) return c.red(name);
      if (protectedStates?.includes(name)) return c.magenta(name);
      if (i === path.length - 1) return c.green(name);
      if (i === 0) return c.cyan(name);
      return c.yellow(name);
    },
  };
}

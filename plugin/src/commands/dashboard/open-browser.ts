// Opening the user's browser on the dashboard's URL, as `xdg-open` would
// be run by hand; nothing is tried where no browser can show it (Linux
// without DISPLAY or WAYLAND_DISPLAY: a server or an SSH session).
import { spawn } from 'node:child_process';

/** The program and arguments that open `url`, or undefined when there is no display to open it on. */
export function browserCommand(url: string, platform: NodeJS.Platform, env: NodeJS.ProcessEnv): [string, string[]] | undefined {
  switch (platform) {
    case 'darwin':
      return ['open', [url]];
    case 'win32':
      // start's first quoted argument is the window title.
      return ['cmd', ['/c', 'start', '""', url.replace(/&/g, '^&')]];
    default:
      if (!env['DISPLAY'] && !env['WAYLAND_DISPLAY']) return undefined;
      return ['xdg-open', [url]];
  }
}

/** Starts the browser and forgets it; resolves false when it could not be started. */
export function openBrowser(command: [string, string[]]): Promise<boolean> {
  return new Promise((resolve) => {
    const child = spawn(command[0], command[1], { stdio: 'ignore', detached: true });
    child.once('error', () => resolve(false));
    child.once('spawn', () => {
      child.unref();
      resolve(true);
    });
  });
}

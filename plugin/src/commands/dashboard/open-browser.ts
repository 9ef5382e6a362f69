// Opening the user's browser on the dashboard's URL, as `xdg-open` would
// be run by hand; nothing is tried where no browser can show it (Linux
// without DISPLAY or WAYLAND_DISPLAY: a server or an SSH session). On
// Windows as Go's github.com/pkg/browser (minikube dashboard, kubelogin)
// does it: rundll32 url.dll,FileProtocolHandler URL, which hands the URL to
// the default browser without a shell (`cmd /c start` would read the
// URL's & and ^ as its own), rundll32 from %SystemRoot%\System32 rather
// than wherever the search would find one (the working directory first).
import { spawn } from 'node:child_process';
import { win32 } from 'node:path';
import { getEnv } from '../../../../client/src/platform.ts';

/** The program and arguments that open `url`, or undefined when there is no display to open it on. */
export function browserCommand(url: string, platform: NodeJS.Platform, env: NodeJS.ProcessEnv): [string, string[]] | undefined {
  switch (platform) {
    case 'darwin':
      return ['open', [url]];
    case 'win32':
      return [win32.join(getEnv(env, 'SystemRoot', { os: platform }) || 'C:\\Windows', 'System32', 'rundll32.exe'), ['url.dll,FileProtocolHandler', url]];
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

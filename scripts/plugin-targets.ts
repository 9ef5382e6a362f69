// The platforms the plugin ships for, named as krew and Go name them
// (GOOS/GOARCH, krew's `os`/`arch` selector labels), and what differs on
// each: the runtime's name for it, the executable's file name, kubectl's
// completion hook.
export type Os = 'darwin' | 'linux' | 'windows';
export type Arch = 'amd64' | 'arm64';

export interface Target {
  os: Os;
  arch: Arch;
}

/** Every release target, in the order the krew manifest lists them. */
export const TARGETS: Target[] = [
  { os: 'darwin', arch: 'amd64' },
  { os: 'darwin', arch: 'arm64' },
  { os: 'linux', arch: 'amd64' },
  { os: 'linux', arch: 'arm64' },
  { os: 'windows', arch: 'amd64' },
  { os: 'windows', arch: 'arm64' },
];

export function targetName(t: Target): string {
  return `${t.os}/${t.arch}`;
}

/** `linux/arm64` → the target; throws with the list of known ones otherwise. */
export function parseTarget(s: string): Target {
  const t = TARGETS.find((x) => targetName(x) === s);
  if (!t) throw new Error(`unknown target ${JSON.stringify(s)}: use one of ${TARGETS.map(targetName).join(', ')}`);
  return t;
}

/** The platform this process runs on, as a target. */
export function hostTarget(platform: NodeJS.Platform = process.platform, arch: string = process.arch): Target {
  const os: Os | undefined = platform === 'win32' ? 'windows' : platform === 'darwin' || platform === 'linux' ? platform : undefined;
  const a: Arch | undefined = arch === 'x64' ? 'amd64' : arch === 'arm64' ? 'arm64' : undefined;
  if (!os || !a) throw new Error(`the plugin is not built for ${platform}/${arch}: pick a target with --target (${TARGETS.map(targetName).join(', ')})`);
  return { os, arch: a };
}

/** kubectl finds plugins by file name; on Windows through PATHEXT, so the executable ends in .exe. */
export function executableName(t: Target): string {
  return t.os === 'windows' ? 'kubectl-custom.exe' : 'kubectl-custom';
}

/**
 * kubectl completes `kubectl custom …` by running `kubectl_complete-custom`
 * from PATH (kubectl's plugin completion): a shell script on Unix, a batch
 * file on Windows (found through PATHEXT, as Go's exec.LookPath does).
 */
export function completionHook(t: Target): { name: string; text: string } {
  if (t.os === 'windows') {
    // %~dp0: the folder of this file, so cmd runs the executable beside it, not one in the current folder.
    return { name: 'kubectl_complete-custom.cmd', text: '@echo off\r\nrem kubectl calls this to complete `kubectl custom ...` (kubectl plugin completion).\r\n"%~dp0kubectl-custom.exe" __complete %*\r\n' };
  }
  return { name: 'kubectl_complete-custom', text: '#!/bin/sh\n# kubectl calls this to complete `kubectl custom …` (kubectl plugin completion).\nexec kubectl-custom __complete "$@"\n' };
}

/** `bun build --compile --target=…` for a target. */
export function bunTarget(t: Target): string {
  return `bun-${t.os}-${t.arch === 'amd64' ? 'x64' : 'arm64'}`;
}

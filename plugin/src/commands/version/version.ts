// kubectl custom version: this plugin's version and the backend's (sent by
// the backend in a response header, through kube-apiserver).
import { GROUP_PATH } from '../../../../api/src/names.ts';
import { VERSION_HEADER } from '../../../../api/src/version.ts';
import { parseWarnings } from '../../../../client/src/warnings.ts';
import { escapeTerminal } from '../../output/escape.ts';
import type { CommandContext } from '../context.ts';

export async function runVersion(ctx: CommandContext, clientOnly: boolean): Promise<void> {
  const { out } = ctx.deps.streams;
  out.write(`Client Version: v${ctx.deps.version}\n`);
  if (clientOnly) return;
  const client = await ctx.client();
  const discovery = await client.stream(GROUP_PATH);
  discovery.resume();
  const kube = await client.json<{ gitVersion: string }>('GET', '/version');
  out.write(`Server Version: ${escapeTerminal(String(discovery.headers[VERSION_HEADER] ?? 'unknown'))} (custom.example.com/v1)\n`);
  out.write(`Kubernetes Version: ${escapeTerminal(kube.gitVersion)}\n`);
  // The backend warns here when the installation is incomplete (e.g. the admission policies are missing).
  for (const w of parseWarnings(discovery.headers['warning'])) ctx.deps.streams.err.write(`Warning: ${escapeTerminal(w)}\n`);
}

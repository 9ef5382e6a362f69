// kubectl custom notify test POLICY: asks the backend to send a test event
// (type com.example.custom.test) to each sink of the NotificationPolicy, as
// its deliveries would (the same Secrets, signature and network), and
// prints one line per sink. Exits non-zero when a sink failed. Needs create
// on notificationpolicies/test in custom.example.com (kubectl-custom-admin).
import { GROUP_PATH, NOTIFICATION_POLICY_RESOURCE } from '../../../../api/src/names.ts';
import type { NotificationTestResult } from '../../../../api/src/types.ts';
import { escapeTerminal } from '../../output/escape.ts';
import type { CommandContext } from '../context.ts';

export interface NotifyTestOptions {
  policy: string;
}

export function notifyTestPath(namespace: string, policy: string): string {
  return `${GROUP_PATH}/namespaces/${encodeURIComponent(namespace)}/${NOTIFICATION_POLICY_RESOURCE}/${encodeURIComponent(policy)}/test`;
}

/** One line per sink, kubectl's borderless table. */
export function renderTestResult(r: NotificationTestResult): string {
  const rows = [['SINK', 'RESULT', 'DETAIL'], ...r.sinks.map((s) => [s.name, s.ok ? 'sent' : 'failed', s.message])].map((row) => row.map((c) => escapeTerminal(c)));
  const widths = [0, 1].map((i) => Math.max(...rows.map((row) => row[i]!.length)));
  return rows.map((row) => `${row[0]!.padEnd(widths[0]! + 3)}${row[1]!.padEnd(widths[1]! + 3)}${row[2]}`.trimEnd()).join('\n') + '\n';
}

export async function runNotifyTest(ctx: CommandContext, opts: NotifyTestOptions): Promise<void> {
  const client = await ctx.client();
  const namespace = client.config.namespace;
  const result = await client.json<NotificationTestResult>('POST', notifyTestPath(namespace, opts.policy), { body: {} });
  ctx.deps.streams.out.write(renderTestResult(result));
  const failed = result.sinks.filter((s) => !s.ok);
  if (failed.length) throw new Error(`${failed.length} of ${result.sinks.length} sinks of NotificationPolicy ${escapeTerminal(namespace)}/${escapeTerminal(opts.policy)} did not take the test event: ${failed.map((s) => escapeTerminal(s.name)).join(', ')}`);
}

// A notification for people, as a Slack incoming webhook takes it: one line
// of text (also what Slack shows in a notification) and the same in a
// section block, saying who did what to which object, from → to, why, and
// how to look closer. Everything that comes from users is escaped as Slack
// asks (&, <, >), so a reason cannot ping a channel or forge a link.
import type { CloudEvent } from './cloudevent.ts';
import type { FreezeCloudEvent } from './freeze-events.ts';
import type { CheckCloudEvent } from './check-events.ts';

const VERBS: Record<CloudEvent['data']['event'], string> = {
  promoted: 'promoted',
  'rolled-back': 'rolled back',
  overridden: 'overrode the gates of',
  'approval-needed': 'needs an approval for',
  approved: 'approved the move of',
  refused: 'was refused moving',
  frozen: 'froze',
  unfrozen: 'unfroze',
  'check-failed': 'saw a check fail for',
  deleted: 'deleted',
};

/** Why a refused change was refused (the server's message), for a refused event. */
function refusal(e: CloudEvent): string {
  const r = (e.data as { refusal?: { message: string } }).refusal;
  return r ? ` — ${escape(r.message)}` : '';
}

function escape(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** A Freeze starting or stopping: what it holds, until when, why. */
function freezeMessage(e: FreezeCloudEvent): { text: string; blocks: unknown[] } {
  const f = e.data.freeze;
  const what = f.states?.length ? f.states.map(escape).join(', ') : 'every state';
  const until = e.data.event === 'frozen' && f.window?.end ? ` until ${escape(f.window.end)}` : '';
  const text = e.data.event === 'frozen'
    ? `Freeze ${escape(f.namespace)}/${escape(f.name)} holds moves into ${what}${until}${f.reason ? `: “${escape(f.reason)}”` : ''}`
    : `Freeze ${escape(f.namespace)}/${escape(f.name)} no longer holds moves into ${what}`;
  return { text, blocks: [{ type: 'section', text: { type: 'mrkdwn', text } }, { type: 'context', elements: [{ type: 'mrkdwn', text: `\`kubectl get freezes -n ${escape(f.namespace)}\` · ${escape(e.time)}` }] }] };
}

/** A check that failed: which, of which move, what it measured. */
function checkMessage(e: CheckCloudEvent): { text: string; blocks: unknown[] } {
  const { object, check } = e.data;
  const said = check.message ?? (check.value !== undefined ? `measured ${check.value}` : '');
  const text = `check ${escape(check.name)} of ${escape(object.namespace)}/${escape(object.name)} (${escape(check.from)} → ${escape(check.to)}) ${check.phase === 'Error' ? 'could not measure' : 'failed'}${said ? `: ${escape(said)}` : ''}`;
  const look = `kubectl custom describe-state ${escape(object.name)} -n ${escape(object.namespace)}`;
  return { text, blocks: [{ type: 'section', text: { type: 'mrkdwn', text } }, { type: 'context', elements: [{ type: 'mrkdwn', text: `\`${look}\` · ${escape(e.time)}` }] }] };
}

export function slackMessage(e: CloudEvent | FreezeCloudEvent | CheckCloudEvent): { text: string; blocks: unknown[] } {
  if ('freeze' in e.data) return freezeMessage(e as FreezeCloudEvent);
  if ('check' in e.data) return checkMessage(e as CheckCloudEvent);
  const { entry, object, event } = (e as CloudEvent).data;
  // A deletion has a state it was in and none it goes to.
  const move = entry.to ? ` ${escape(entry.from ?? '?')} → ${escape(entry.to)}` : entry.from ? ` (in ${escape(entry.from)})` : '';
  const reason = entry.reason ? `: “${escape(entry.reason)}”` : '';
  const look = `kubectl custom describe-state ${escape(object.name)} -n ${escape(object.namespace)}`;
  // Not something a person did, but what the move they made now waits for.
  const text = event === 'approval-needed'
    ? `${escape(object.namespace)}/${escape(object.name)} is in ${escape(entry.to ?? '?')} and its next move needs approvals (\`kubectl custom approve ${escape(object.name)} -n ${escape(object.namespace)}\`)`
    : `${escape(entry.user)} ${VERBS[event]} ${escape(object.namespace)}/${escape(object.name)}${move}${reason}${refusal(e as CloudEvent)}`;
  return {
    text,
    blocks: [
      { type: 'section', text: { type: 'mrkdwn', text } },
      { type: 'context', elements: [{ type: 'mrkdwn', text: `\`${look}\` · ${escape(entry.time)}` }] },
    ],
  };
}

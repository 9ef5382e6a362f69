// One object in detail: describe-state for people — the path, every gate of
// the next move with where it comes from (a check's gate with its run: the
// result, the last value and when, the next run), the approvals, what the user may
// do (describe-state's `allowed`), the buttons that do it (disabled, with
// the reason in words, where the user may not), the newest history, and the
// whole trail on request.
import type { CustomResourceHistory, HistoryEntry } from '../../../../api/src/types.ts';
import { humanDuration } from '../../../../api/src/human-duration.ts';
import { recordedChecksWords, type ActionView, type CheckRunView, type DetailView } from '../view-model.ts';
import { h, srOnly } from './dom.ts';
import { renderSteps } from './object-list.ts';

export type ActionKind = 'promote' | 'set-state' | 'approve';

export interface DetailHandlers {
  action(kind: ActionKind): void;
  trail(): void;
  close(): void;
}

function actionButton(id: string, label: string, a: ActionView, onClick: () => void): HTMLElement[] {
  const whyId = `${id}-why`;
  const button = h('button', { type: 'button', id, class: 'action', disabled: !a.enabled, ...(a.why ? { 'aria-describedby': whyId } : {}) }, label);
  button.addEventListener('click', onClick);
  return [button, a.why ? h('span', { id: whyId, class: 'why' }, a.why) : h('span', { class: 'why' })];
}

const PHASE_STYLES = new Set(['Running', 'Successful', 'Failed', 'Inconclusive', 'Error']);

/** Under a check's gate: its result in words (not only colour), what it measured and when it measures next, and why it failed. */
function checkRun(k: CheckRunView): HTMLElement {
  return h(
    'div',
    { class: 'check-run' },
    h('span', { class: `check-result ${PHASE_STYLES.has(k.phase) ? k.phase.toLowerCase() : 'other'}` }, k.result),
    ' ',
    h('span', k.value !== undefined ? { title: k.value } : {}, k.summary),
    k.message ? h('span', { class: 'check-message' }, `: ${k.message}`) : null,
  );
}

function ago(time: string, now: number): string {
  const t = Date.parse(time);
  return Number.isFinite(t) ? `${humanDuration(now - t)} ago` : time;
}

function historyTable(entries: readonly HistoryEntry[], caption: string, now: number): HTMLTableElement {
  return h(
    'table',
    { class: 'history' },
    h('caption', {}, caption),
    h('thead', {}, h('tr', {}, ['Seq', 'When', 'Action', 'Move', 'By', 'Reason'].map((c) => h('th', { scope: 'col' }, c)))),
    h(
      'tbody',
      {},
      entries.map((e) =>
        h(
          'tr',
          {},
          h('td', {}, e.seq !== undefined ? String(e.seq) : ''),
          h('td', {}, h('time', { datetime: e.time, title: e.time }, ago(e.time, now))),
          h('td', {}, e.action + (e.overrode?.length ? ` (${e.overrode.join(', ')})` : ''), e.checks?.length ? h('div', { class: 'checks' }, recordedChecksWords(e.checks)) : null),
          h('td', {}, e.from || e.to ? `${e.from ?? ''} → ${e.to ?? ''}` : ''),
          h('td', {}, e.user + (e.approvers?.length ? ` (approved by ${e.approvers.join(', ')})` : '')),
          h('td', {}, e.reason ?? ''),
        ),
      ),
    ),
  );
}

export function renderTrail(t: CustomResourceHistory, now: number): HTMLElement {
  return h(
    'div',
    { class: 'trail' },
    t.lives.map((life, i) => historyTable(life.entries, `${life.live ? 'Current life' : `Earlier life ${i}`} (uid ${life.uid}): ${life.entries.length} ${life.entries.length === 1 ? 'entry' : 'entries'}, oldest first`, now)),
  );
}

export function renderDetail(v: DetailView, displayName: string, now: number, handlers: DetailHandlers): HTMLElement {
  const close = h('button', { type: 'button', class: 'close', 'aria-label': 'Close the details' }, 'Close');
  close.addEventListener('click', handlers.close);
  const trail = h('button', { type: 'button', id: 'show-trail', class: 'link' }, 'Show the whole trail');
  trail.addEventListener('click', handlers.trail);
  const gates = v.gates.length
    ? h(
        'ul',
        { class: 'gates' },
        v.gates.map((g) => h('li', { class: g.met ? 'met' : 'unmet' }, h('span', { class: 'mark', 'aria-hidden': 'true' }, g.met ? '✓ ' : '✗ '), srOnly(g.met ? 'met: ' : 'not met: '), h('strong', {}, g.gate), `: ${g.text}`, g.sources ? h('span', { class: 'source' }, ` (from ${g.sources})`) : null, g.check ? checkRun(g.check) : null)),
      )
    : h('p', {}, v.nextState ? `No gates on the move into ${v.nextState}.` : 'No next state.');
  return h(
    'div',
    { class: 'detail-body' },
    h('div', { class: 'detail-head' }, h('h2', { id: 'detail-title', tabindex: '-1' }, v.title, h('span', { class: 'display-name' }, displayName)), close),
    renderSteps(v.steps, 'Path'),
    h('p', {}, `In ${v.state}${v.timeInState ? ` for ${v.timeInState}` : ''}`, v.nextState ? `; next: ${v.nextState}` : '; at the last state'),
    v.problem ? h('p', { class: 'error' }, v.problem) : null,
    h('h3', {}, v.nextState ? `Gates of the move into ${v.nextState}` : 'Gates'),
    gates,
    v.approvals.length ? h('p', {}, `Approvals given: ${v.approvals.join(', ')}`) : null,
    h('h3', {}, 'You may'),
    h('ul', { class: 'may' }, v.may.map((m) => h('li', {}, `${m.label}: `, h('strong', {}, m.yes ? 'yes' : 'no')))),
    h(
      'div',
      { class: 'actions', role: 'group', 'aria-label': 'Actions' },
      h('div', {}, actionButton('do-promote', v.promote.override ? `Promote to ${v.nextState ?? ''} (override)` : `Promote${v.nextState ? ` to ${v.nextState}` : ''}`, v.promote, () => handlers.action('promote'))),
      h('div', {}, actionButton('do-set-state', 'Set state…', v.setState, () => handlers.action('set-state'))),
      h('div', {}, actionButton('do-approve', `Approve${v.approve.to ? ` move into ${v.approve.to}` : ''}`, v.approve, () => handlers.action('approve'))),
    ),
    h('p', { id: 'action-result', class: 'result', role: 'status', 'aria-live': 'polite' }),
    h('h3', {}, 'History', h('span', { class: 'hint' }, ' (newest first)')),
    v.history.length ? historyTable(v.history, 'The newest entries', now) : h('p', {}, 'No changes yet.'),
    v.earlier ? h('p', {}, `… and ${v.earlier} earlier ${v.earlier === 1 ? 'entry' : 'entries'} in the archive.`) : null,
    h('p', {}, trail, h('span', { class: 'hint' }, ` or: kubectl custom history ${v.title.split('/')[1] ?? ''} -n ${v.title.split('/')[0] ?? ''}`)),
    h('div', { id: 'trail' }),
  );
}

// The objects, grouped by namespace: each one's path as steps with the
// current state marked (in brackets, bold, and aria-current, not only in
// colour), how long it has been there, who moved it last, and the gates of
// its next move as badges that say what they mean.
import type { Badge, NamespaceGroup, ObjectView, Step } from '../view-model.ts';
import { domId, h, srOnly } from './dom.ts';

export function renderSteps(steps: readonly Step[], label: string): HTMLOListElement {
  return h(
    'ol',
    { class: 'path', 'aria-label': label },
    steps.map((s) =>
      h(
        'li',
        { class: `step ${s.place}${s.protected ? ' protected' : ''}${s.next ? ' next' : ''}`, ...(s.place === 'current' ? { 'aria-current': 'step' } : {}) },
        s.place === 'current' ? `[${s.state}]` : s.state,
        s.protected ? h('span', { 'aria-hidden': 'true' }, '*') : null,
        s.place === 'current' ? srOnly(' (current state)') : s.next ? srOnly(' (next)') : null,
        s.protected ? srOnly(' (protected)') : null,
      ),
    ),
  );
}

function renderBadges(badges: readonly Badge[], label: string): HTMLUListElement | null {
  if (!badges.length) return null;
  return h(
    'ul',
    { class: 'badges', 'aria-label': label },
    badges.map((b) => h('li', { class: `badge ${b.kind}${b.blocking ? ' blocking' : ''}`, title: b.detail }, b.blocking ? h('span', { class: 'mark', 'aria-hidden': 'true' }, '✗ ') : null, b.text, srOnly(`: ${b.detail}`))),
  );
}

function renderObject(v: ObjectView, selected: boolean, changed: boolean): HTMLElement {
  const titleId = domId('title', v.key);
  const meta = [v.timeInState ? `in ${v.state} for ${v.timeInState}` : `in ${v.state}`, v.lastChange ? `last ${v.lastChange.action} by ${v.lastChange.user}` : 'never moved'];
  return h(
    'article',
    { class: `object${selected ? ' selected' : ''}${changed ? ' changed' : ''}`, 'data-key': v.key, 'aria-labelledby': titleId },
    h(
      'h3',
      { id: titleId },
      h('button', { type: 'button', class: 'open', id: domId('open', v.key), 'data-key': v.key, 'aria-expanded': selected ? 'true' : 'false', 'aria-controls': 'detail' }, v.name),
      h('span', { class: 'display-name' }, v.displayName),
    ),
    renderSteps(v.steps, `Path of ${v.name}`),
    h('p', { class: 'meta' }, meta.join(' · ')),
    renderBadges(v.badges, `Gates of ${v.name}'s next move`),
  );
}

export function renderGroups(groups: readonly NamespaceGroup[], selectedKey: string | undefined, changed: ReadonlySet<string>, emptyText: string): HTMLElement[] {
  if (!groups.length) return [h('p', { class: 'empty' }, emptyText)];
  return groups.map((g) =>
    h(
      'section',
      { class: 'namespace', 'aria-labelledby': domId('ns', g.namespace) },
      h('h2', { id: domId('ns', g.namespace) }, h('span', { class: 'label' }, 'namespace '), g.namespace, h('span', { class: 'count' }, ` (${g.objects.length})`)),
      h('div', { class: 'grid' }, g.objects.map((o) => renderObject(o, o.key === selectedKey, changed.has(o.key)))),
    ),
  );
}

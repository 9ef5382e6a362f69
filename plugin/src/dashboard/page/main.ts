// The dashboard page: wires the live feed, the filters, the object list,
// the detail panel and the action dialog together. State lives here; what
// is shown is computed by ../view-model.ts and ../feed-state.ts.
import type { CustomResourceHistory, CustomResourceState } from '../../../../api/src/types.ts';
import { applyFeedEvent, emptyFeedState, type FeedState } from '../feed-state.ts';
import { detailView, filterChoices, groupByNamespace, objectView, type DetailView, type Filter } from '../view-model.ts';
import { ActionDialog, type ActionRequest } from './action-dialog.ts';
import { Api, CallError, type Session } from './api-client.ts';
import { renderDetail, renderTrail, type ActionKind } from './detail-panel.ts';
import { byId, domId, h } from './dom.ts';
import { FeedClient } from './feed-client.ts';
import { renderGroups } from './object-list.ts';

const api = new Api();
let session: Session | undefined;
let feed: FeedState = emptyFeedState();
const filter: Filter = { namespace: '', state: '' };
let selected: string | undefined;
let detail: { doc: CustomResourceState; view: DetailView } | undefined;
/** What the last action in the open panel said; kept when the panel is drawn again for the change it caused. */
let result: { key: string; text: string; failed: boolean } | undefined;
let dialog: ActionDialog | undefined;

const objectsEl = byId('objects');
const detailEl = byId('detail');
const statusEl = byId('feed-status');
const nsSelect = byId<HTMLSelectElement>('filter-namespace');
const stateSelect = byId<HTMLSelectElement>('filter-state');
const labelsInput = byId<HTMLInputElement>('filter-labels');

/** Replaces children, keeping keyboard focus on the element with the same id, if it is still there. */
function replaceKeepingFocus(parent: HTMLElement, children: HTMLElement[]): void {
  const focused = document.activeElement instanceof HTMLElement && parent.contains(document.activeElement) ? document.activeElement.id : '';
  parent.replaceChildren(...children);
  if (focused) document.getElementById(focused)?.focus();
}

function setOptions(select: HTMLSelectElement, values: string[], allLabel: string): void {
  const current = select.value;
  const wanted = ['', ...values];
  if (wanted.join('\n') !== [...select.options].map((o) => o.value).join('\n')) {
    select.replaceChildren(...wanted.map((v) => h('option', { value: v }, v || allLabel)));
  }
  select.value = wanted.includes(current) ? current : '';
}

function renderStatus(): void {
  const n = feed.objects.size;
  if (feed.stopped) {
    statusEl.className = 'feed-status stopped';
    statusEl.textContent = `✗ stopped: ${feed.message ?? ''}`;
  } else if (feed.live) {
    statusEl.className = 'feed-status live';
    statusEl.textContent = `● live · ${n} object${n === 1 ? '' : 's'}`;
  } else {
    statusEl.className = 'feed-status down';
    statusEl.textContent = `○ reconnecting…${feed.message ? ` (${feed.message})` : ''}`;
  }
}

/** What the list showed last: it is drawn again only when something in it changed, so a screen reader's place is not lost every tick. */
let drawn = '';

function renderList(): void {
  const now = Date.now();
  const views = [...feed.objects.values()].map((f) => objectView(f, now));
  const choices = filterChoices(views);
  setOptions(nsSelect, session?.namespace ? [session.namespace] : choices.namespaces, 'all namespaces');
  setOptions(stateSelect, choices.states, 'all states');
  filter.namespace = nsSelect.value;
  filter.state = stateSelect.value;
  const empty = feed.objects.size ? 'No object matches the filters.' : feed.live ? 'No objects here yet.' : 'Loading…';
  const groups = groupByNamespace(views, filter);
  const signature = JSON.stringify([groups, selected, [...feed.changed], empty]);
  if (signature !== drawn) {
    drawn = signature;
    replaceKeepingFocus(objectsEl, renderGroups(groups, selected, feed.changed, empty));
  }
  renderStatus();
}

function showResult(): void {
  const el = document.getElementById('action-result');
  if (!el || !detail || !result || result.key !== `${detail.doc.metadata.namespace}/${detail.doc.metadata.name}`) return;
  el.className = result.failed ? 'result error' : 'result';
  el.textContent = result.text;
}

function renderDetailPanel(): void {
  if (!detail) {
    detailEl.hidden = true;
    detailEl.replaceChildren();
    return;
  }
  const key = `${detail.doc.metadata.namespace}/${detail.doc.metadata.name}`;
  detailEl.hidden = false;
  replaceKeepingFocus(detailEl, [
    renderDetail(detail.view, detail.doc.displayName, Date.now(), {
      action: (kind) => openAction(kind),
      trail: () => void loadTrail(),
      close: () => closeDetail(key),
    }),
  ]);
  showResult();
}

async function loadDetail(key: string, focus: boolean): Promise<void> {
  const [ns, name] = key.split('/') as [string, string];
  try {
    const doc = await api.call<CustomResourceState>('GET', api.objectPath(ns, name, 'state'));
    if (selected !== key) return;
    detail = { doc, view: detailView(doc, Date.now()) };
    renderDetailPanel();
  } catch (e) {
    if (selected !== key) return;
    detail = undefined;
    detailEl.hidden = false;
    detailEl.replaceChildren(h('div', { class: 'detail-body' }, h('h2', { id: 'detail-title', tabindex: '-1' }, key), h('p', { class: 'error', role: 'alert' }, e instanceof Error ? e.message : String(e))));
  }
  if (focus) document.getElementById('detail-title')?.focus();
}

function select(key: string): void {
  selected = key;
  renderList();
  void loadDetail(key, true);
}

function closeDetail(key: string): void {
  selected = undefined;
  detail = undefined;
  renderDetailPanel();
  renderList();
  document.getElementById(domId('open', key))?.focus();
}

async function loadTrail(): Promise<void> {
  if (!detail) return;
  const { namespace, name } = detail.doc.metadata;
  const target = document.getElementById('trail');
  try {
    const t = await api.call<CustomResourceHistory>('GET', api.objectPath(namespace, name, 'history'));
    target?.replaceChildren(renderTrail(t, Date.now()));
  } catch (e) {
    target?.replaceChildren(h('p', { class: 'error', role: 'alert' }, e instanceof Error ? e.message : String(e)));
  }
}

const VERBS: Record<ActionKind, [method: string, sub: string, done: string]> = {
  promote: ['POST', 'promote', 'promoted'],
  'set-state': ['PUT', 'state', 'moved'],
  approve: ['POST', 'approve', 'approved'],
};

async function send(r: ActionRequest): Promise<string> {
  if (!detail) throw new Error('no object selected');
  const { namespace, name } = detail.doc.metadata;
  const [method, sub, done] = VERBS[r.kind];
  const before = detail.doc.state;
  const doc = await api.call<CustomResourceState>(method, api.objectPath(namespace, name, sub), r.body);
  detail = { doc, view: detailView(doc, Date.now()) };
  renderDetailPanel();
  if (r.kind === 'approve') return `${name} ${r.body['revoke'] ? 'approval revoked' : done}: ${before} → ${String(r.body['to'] ?? doc.nextState ?? '')}`;
  return `${name} ${done}: ${before} → ${doc.state}`;
}

function openAction(kind: ActionKind): void {
  if (!detail) return;
  dialog ??= new ActionDialog();
  const { namespace, name } = detail.doc.metadata;
  dialog.open(kind, detail.view, name, send, (message) => {
    result = { key: `${namespace}/${name}`, text: message, failed: false };
    showResult();
    document.getElementById('detail-title')?.focus();
  });
}

function onFeed(...[name, data]: Parameters<ConstructorParameters<typeof FeedClient>[0]['event']>): void {
  feed = applyFeedEvent(feed, name, data, Date.now());
  renderList();
  // The selected object changed in the cluster: what the user may do may have changed too.
  if (selected && feed.changed.has(selected)) void loadDetail(selected, false);
}

async function start(): Promise<void> {
  try {
    session = await api.session();
  } catch (e) {
    statusEl.className = 'feed-status stopped';
    statusEl.textContent = `✗ ${e instanceof CallError || e instanceof Error ? e.message : String(e)}`;
    return;
  }
  const who = [session.user ? `as ${session.user}` : '', session.context ? `context ${session.context}` : '', session.namespace ? `namespace ${session.namespace}` : 'all namespaces'].filter(Boolean);
  byId('who').textContent = who.join(' · ');
  const client = new FeedClient({
    event: (name, data) => onFeed(name, data),
    disconnected: () => {
      feed = { ...feed, live: false, message: 'the connection to the dashboard dropped' };
      renderStatus();
    },
  });
  let selector = labelsInput.value.trim();
  client.open(selector);
  byId('filters').addEventListener('submit', (e) => {
    e.preventDefault();
    // Enter and leaving the field both ask; a stopped feed (a selector the API refused) is retried.
    if (labelsInput.value.trim() === selector && !feed.stopped) return;
    selector = labelsInput.value.trim();
    feed = emptyFeedState();
    renderList();
    client.open(selector);
  });
  labelsInput.addEventListener('change', () => byId<HTMLFormElement>('filters').requestSubmit());
  nsSelect.addEventListener('change', renderList);
  stateSelect.addEventListener('change', renderList);
  objectsEl.addEventListener('click', (e) => {
    const button = (e.target as HTMLElement).closest('button.open');
    const key = button?.getAttribute('data-key');
    if (key) select(key);
  });
  document.addEventListener('keydown', (e) => {
    if (e.key === 'Escape' && selected && !byId<HTMLDialogElement>('action-dialog').open) closeDetail(selected);
  });
  // Time in state and soak left move on without any event.
  window.setInterval(() => {
    feed = { ...feed, changed: new Set() };
    renderList();
  }, 5000);
}

void start();

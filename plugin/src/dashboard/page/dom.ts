// Building the page's elements. Text is only ever set as text (never as
// HTML), so whatever the cluster sends (names, reasons, messages) cannot
// become markup; the Content-Security-Policy would stop inline script too.

type Child = Node | string | false | null | undefined;
type Attrs = Record<string, string | boolean | undefined>;

export function h<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Attrs = {}, ...children: (Child | Child[])[]): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === false) continue;
    el.setAttribute(k, v === true ? '' : v);
  }
  for (const c of children.flat()) {
    if (c === false || c === null || c === undefined) continue;
    el.append(typeof c === 'string' ? document.createTextNode(c) : c);
  }
  return el;
}

/** Text for screen readers only (the meaning a sighted reader gets from position or weight). */
export function srOnly(text: string): HTMLSpanElement {
  return h('span', { class: 'sr-only' }, text);
}

export function byId<T extends HTMLElement = HTMLElement>(id: string): T {
  const el = document.getElementById(id);
  if (!el) throw new Error(`the page has no #${id}`);
  return el as T;
}

/** An id usable in the DOM for an object key (namespace/name). */
export function domId(prefix: string, key: string): string {
  return `${prefix}-${key.replace(/[^a-z0-9-]/g, '_')}`;
}

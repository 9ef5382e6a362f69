// The lines kubectl prints about an object it changed: `kind.group "name"
// deleted from ns namespace`, `kind.group/name created`, names escaped for
// the terminal.
import { escapeTerminal } from './escape.ts';

/** kubectl's name for a kind: `customresourcedefinition.apiextensions.k8s.io`, `serviceaccount` (the core group has none). */
export function kindName(apiVersion: string, kind: string): string {
  const group = apiVersion.includes('/') ? apiVersion.slice(0, apiVersion.indexOf('/')) : '';
  return group ? `${kind.toLowerCase()}.${group}` : kind.toLowerCase();
}

/** What kubectl delete prints for an object (`… deleted`, `… kept (--keep-history)`), names escaped for the terminal. */
export function deletedLine(o: { apiVersion: string; kind: string; name: string; namespace?: string | undefined }, what = 'deleted'): string {
  return `${kindName(o.apiVersion, o.kind)} "${escapeTerminal(o.name)}" ${what}${o.namespace ? ` from ${escapeTerminal(o.namespace)} namespace` : ''}`;
}

/** What kubectl create prints for an object: `freeze.example.com/NAME created`. */
export function createdLine(o: { apiVersion: string; kind: string; name: string }): string {
  return `${kindName(o.apiVersion, o.kind)}/${escapeTerminal(o.name)} created`;
}

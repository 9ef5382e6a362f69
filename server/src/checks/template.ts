// The placeholders of a check's query or URL: {{name}}, {{namespace}},
// {{labels.KEY}}, {{from}} and {{to}} of the move being checked, each
// escaped for where it lands (a PromQL string literal, or a URL), so that a
// label value cannot change the query's meaning. An unknown placeholder is
// an error, found when the check is written (admission) and when it runs.
export interface TemplateVars {
  name: string;
  namespace: string;
  labels: Record<string, string>;
  from: string;
  to: string;
}

export type Escape = 'promql' | 'url';

/** A PromQL double-quoted string's content: backslash and double quote escaped, line breaks as \n. */
function promqlString(s: string): string {
  return s.replace(/[\\"]/g, (c) => `\\${c}`).replace(/\n/g, '\\n').replace(/\r/g, '\\r');
}

const PLACEHOLDER = /\{\{\s*([A-Za-z]+(?:\.[A-Za-z0-9_./-]+)?)\s*\}\}/g;

/** The placeholders a template uses that are not known; none when it is good. */
export function unknownPlaceholders(template: string): string[] {
  const bad: string[] = [];
  for (const m of template.matchAll(PLACEHOLDER)) {
    const name = m[1]!;
    if (!['name', 'namespace', 'from', 'to'].includes(name) && !name.startsWith('labels.')) bad.push(name);
  }
  return bad;
}

export function render(template: string, vars: TemplateVars, escape: Escape): string {
  const bad = unknownPlaceholders(template);
  if (bad.length) throw new Error(`unknown placeholder${bad.length > 1 ? 's' : ''} ${bad.map((b) => `{{${b}}}`).join(', ')}: use {{name}}, {{namespace}}, {{labels.KEY}}, {{from}} or {{to}}`);
  return template.replace(PLACEHOLDER, (_all, name: string) => {
    const value = name.startsWith('labels.') ? (vars.labels[name.slice('labels.'.length)] ?? '') : vars[name as 'name' | 'namespace' | 'from' | 'to'];
    return escape === 'promql' ? promqlString(value) : encodeURIComponent(value);
  });
}

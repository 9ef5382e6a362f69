// Label selectors, matched as k8s.io/apimachinery/pkg/labels does; parsed
// (labels.Parse, with upstream's error wording) by
// api/src/label-selector-syntax.ts, which the plugin shares.

import { parseInt64, parseRequirements, type LabelRequirement } from '../../../api/src/label-selector-syntax.ts';
import { newBadRequest } from '../status/status-error.ts';

export type { LabelOperator, LabelRequirement } from '../../../api/src/label-selector-syntax.ts';

export interface LabelSelector {
  /** True when every requirement holds for these labels (missing labels count as absent). */
  matches(labels: Record<string, string> | undefined): boolean;
  /** True when the selector does not restrict anything. */
  readonly empty: boolean;
  /** Requirements, sorted by key. */
  readonly requirements: readonly LabelRequirement[];
  /** Canonical form, e.g. `a=b,c in (x,y),!d`. */
  toString(): string;
}

/** Parses a label selector; throws a 400 BadRequest StatusError if it is not valid. */
export function parseLabelSelector(s: string): LabelSelector {
  const result = parseRequirements(s);
  if (typeof result === 'string') throw newBadRequest(result);
  return new RequirementsSelector(result);
}

/** The Go error text labels.Parse would return, or undefined when the selector is valid. */
export function labelSelectorError(s: string): string | undefined {
  const result = parseRequirements(s);
  return typeof result === 'string' ? result : undefined;
}

class RequirementsSelector implements LabelSelector {
  readonly requirements: readonly LabelRequirement[];

  constructor(requirements: LabelRequirement[]) {
    this.requirements = requirements;
  }

  get empty(): boolean {
    return this.requirements.length === 0;
  }

  matches(labels: Record<string, string> | undefined): boolean {
    const ls = labels ?? {};
    return this.requirements.every((r) => requirementMatches(r, ls));
  }

  toString(): string {
    return this.requirements.map(requirementString).join(',');
  }
}

function lookup(labels: Record<string, string>, key: string): string | undefined {
  return Object.hasOwn(labels, key) ? labels[key] : undefined;
}

function requirementMatches(r: LabelRequirement, labels: Record<string, string>): boolean {
  const value = lookup(labels, r.key);
  switch (r.operator) {
    case 'in':
    case '=':
    case '==':
      return value !== undefined && r.values.includes(value);
    case 'notin':
    case '!=':
      return value === undefined || !r.values.includes(value);
    case 'exists':
      return value !== undefined;
    case '!':
      return value === undefined;
    case 'gt':
    case 'lt': {
      if (value === undefined || r.values.length !== 1) return false;
      const have = parseInt64(value);
      const want = parseInt64(r.values[0] ?? '');
      if (have === undefined || want === undefined) return false;
      return r.operator === 'gt' ? have > want : have < want;
    }
  }
}

function requirementString(r: LabelRequirement): string {
  const values = r.values.join(',');
  switch (r.operator) {
    case 'exists':
      return r.key;
    case '!':
      return `!${r.key}`;
    case 'in':
      return `${r.key} in (${values})`;
    case 'notin':
      return `${r.key} notin (${values})`;
    case 'gt':
      return `${r.key}>${values}`;
    case 'lt':
      return `${r.key}<${values}`;
    default:
      return `${r.key}${r.operator}${values}`;
  }
}

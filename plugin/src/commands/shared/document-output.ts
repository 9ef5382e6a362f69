// -o for the verbs that print one document (describe-state, history): json
// or yaml for scripts, nothing for the view made for people.
import { UsageError } from '../../errors/errors.ts';
import type { DocumentFormat } from '../../output/document-printer.ts';

export const DOCUMENT_FORMATS: readonly DocumentFormat[] = ['json', 'yaml'];

/** The format -o asks for; undefined for the view made for people. */
export function documentFormat(o: string | undefined): DocumentFormat | undefined {
  if (o === undefined || o === '') return undefined;
  if (o === 'json' || o === 'yaml') return o;
  throw new UsageError(`unable to match a printer suitable for the output format "${o}", allowed formats are: json, yaml`);
}

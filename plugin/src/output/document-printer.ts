// -o json and -o yaml: the server's answer as data for scripts, exactly as
// it came (not escaped for people like the tables), except that DEL, C1 and
// bidi controls, which JSON.stringify and the YAML encoder leave raw, are
// written as \uNNNN escapes inside quoted strings: a parser reads the same
// values, and `kubectl custom history NAME -o yaml` on a terminal cannot be
// made to draw.
import { Document, Scalar, visit } from 'yaml';
import { escapeInQuotedData, needsEscapeInData } from './escape.ts';

export type DocumentFormat = 'json' | 'yaml';

export function printDocument(body: unknown, format: DocumentFormat): string {
  if (format === 'json') return escapeInQuotedData(JSON.stringify(body, null, 2)) + '\n';
  const doc = new Document(body);
  // Only a double-quoted YAML string can hold an escape: quote those that need one (keys too).
  visit(doc, {
    Scalar(_key, node) {
      if (typeof node.value === 'string' && needsEscapeInData(node.value)) node.type = Scalar.QUOTE_DOUBLE;
    },
  });
  return escapeInQuotedData(doc.toString());
}

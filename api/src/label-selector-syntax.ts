// Label selectors as kubectl writes them (`team=payments,tier in (web,api),!canary`),
// parsed as k8s.io/apimachinery/pkg/labels does (labels.Parse), with the same
// error wording kube-apiserver puts in the 400 it answers to a list or watch
// with a bad `labelSelector`. The backend matches objects with them
// (server/src/selectors/label-selector.ts); the plugin turns them into a
// Freeze's metav1.LabelSelector.

/** selection.Operator spellings. */
export type LabelOperator = 'in' | 'notin' | '=' | '==' | '!=' | 'exists' | '!' | 'gt' | 'lt';

export interface LabelRequirement {
  readonly key: string;
  readonly operator: LabelOperator;
  /** Sorted and without duplicates, as upstream's string set keeps them. */
  readonly values: readonly string[];
}

// ---------------------------------------------------------------------------
// Lexer: the same tokens as upstream's, over the selector's characters.

type TokenKind =
  | 'end'
  | 'closePar'
  | 'comma'
  | 'doesNotExist'
  | 'doubleEquals'
  | 'equals'
  | 'greaterThan'
  | 'identifier'
  | 'in'
  | 'lessThan'
  | 'notEquals'
  | 'notIn'
  | 'openPar';

interface Token {
  kind: TokenKind;
  literal: string;
}

const SYMBOLS: ReadonlyMap<string, TokenKind> = new Map<string, TokenKind>([
  [')', 'closePar'],
  [',', 'comma'],
  ['!', 'doesNotExist'],
  ['==', 'doubleEquals'],
  ['=', 'equals'],
  ['>', 'greaterThan'],
  ['<', 'lessThan'],
  ['!=', 'notEquals'],
  ['(', 'openPar'],
]);

const isWhitespace = (ch: string): boolean => ch === ' ' || ch === '\t' || ch === '\r' || ch === '\n';
const isSpecial = (ch: string): boolean => '=!(),><'.includes(ch);

/**
 * Lexer.Lex, one character at a time as upstream reads bytes: `read` answers
 * NUL at the end of the input, and also for a NUL in it, which it consumes.
 * So a NUL where a token would start ends the input, while one inside a
 * word or right after an operator only ends that token, and lexing goes on
 * after it (`a\0=b` is `a=b`, `a=b,\0c` is `a=b,c`, `a \0,c` is `a`).
 */
class Lexer {
  private readonly s: string;
  private pos = 0;

  constructor(s: string) {
    this.s = s;
  }

  private read(): string {
    return this.pos < this.s.length ? this.s.charAt(this.pos++) : '\0';
  }

  private unread(): void {
    this.pos--;
  }

  lex(): Token {
    let ch = this.read();
    while (isWhitespace(ch)) ch = this.read();
    if (ch === '\0') return { kind: 'end', literal: '' };
    this.unread();
    return isSpecial(ch) ? this.scanSpecialSymbol() : this.scanIdOrKeyword();
  }

  private scanIdOrKeyword(): Token {
    let word = '';
    for (;;) {
      const ch = this.read();
      if (ch === '\0') break;
      if (isSpecial(ch) || isWhitespace(ch)) {
        this.unread();
        break;
      }
      word += ch;
    }
    return { kind: word === 'in' ? 'in' : word === 'notin' ? 'notIn' : 'identifier', literal: word };
  }

  /** The longest symbol (`==` and `!=` are the only two-character ones); every special character is a symbol on its own. */
  private scanSpecialSymbol(): Token {
    let buffer = '';
    let last: Token | undefined;
    for (;;) {
      const ch = this.read();
      if (ch === '\0') break;
      if (!isSpecial(ch)) {
        this.unread();
        break;
      }
      buffer += ch;
      const kind = SYMBOLS.get(buffer);
      if (kind) {
        last = { kind, literal: buffer };
      } else {
        this.unread();
        break;
      }
    }
    return last ?? { kind: 'identifier', literal: buffer };
  }
}

function tokenize(s: string): Token[] {
  const lexer = new Lexer(s);
  const tokens: Token[] = [];
  for (;;) {
    const t = lexer.lex();
    tokens.push(t);
    if (t.kind === 'end') return tokens;
  }
}

// ---------------------------------------------------------------------------
// Parser: recursive descent over the token list, as upstream's Parser.

/** Where a token is read: keywords only count as operators right after a key. */
type Context = 'keyAndOperator' | 'values';

class ParseError extends Error {}

const BINARY_OPERATORS = ['in', 'notin', '=', '==', '!=', 'gt', 'lt'].join(', ');

class Parser {
  private readonly tokens: Token[];
  private position = 0;

  constructor(tokens: Token[]) {
    this.tokens = tokens;
  }

  private view(context: Context, t: Token): Token {
    if (context === 'values' && (t.kind === 'in' || t.kind === 'notIn')) return { kind: 'identifier', literal: t.literal };
    return t;
  }

  private lookahead(context: Context): Token {
    return this.view(context, this.tokens[Math.min(this.position, this.tokens.length - 1)] as Token);
  }

  private consume(context: Context): Token {
    const t = this.lookahead(context);
    this.position++;
    return t;
  }

  parse(): LabelRequirement[] {
    const requirements: LabelRequirement[] = [];
    for (;;) {
      const t = this.lookahead('values');
      if (t.kind === 'end') return requirements;
      if (t.kind !== 'identifier' && t.kind !== 'doesNotExist') {
        throw new ParseError(`found '${t.literal}', expected: !, identifier, or 'end of string'`);
      }
      try {
        requirements.push(this.parseRequirement());
      } catch (e) {
        if (e instanceof ParseError) throw new ParseError(`unable to parse requirement: ${e.message}`);
        throw e;
      }
      const next = this.consume('values');
      if (next.kind === 'end') return requirements;
      if (next.kind !== 'comma') throw new ParseError(`found '${next.literal}', expected: ',' or 'end of string'`);
      const after = this.lookahead('values');
      if (after.kind !== 'identifier' && after.kind !== 'doesNotExist') {
        throw new ParseError(`found '${after.literal}', expected: identifier after ','`);
      }
    }
  }

  private parseRequirement(): LabelRequirement {
    const { key, operator: inferred } = this.parseKeyAndInferOperator();
    if (inferred === 'exists' || inferred === '!') return newRequirement(key, inferred, []);
    const operator = this.parseOperator();
    const values = operator === 'in' || operator === 'notin' ? this.parseValues() : this.parseExactValue();
    return newRequirement(key, operator, [...values].sort(compareBytes));
  }

  private parseKeyAndInferOperator(): { key: string; operator: LabelOperator | undefined } {
    let operator: LabelOperator | undefined;
    let t = this.consume('values');
    if (t.kind === 'doesNotExist') {
      operator = '!';
      t = this.consume('values');
    }
    if (t.kind !== 'identifier') throw new ParseError(`found '${t.literal}', expected: identifier`);
    const keyErrors = labelKeyErrors(t.literal);
    // Upstream validates here with a nil field path, which Go prints as `<nil>`.
    if (keyErrors.length) throw new ParseError(invalidValue('<nil>', t.literal, keyErrors.join('; ')));
    const next = this.lookahead('values').kind;
    if ((next === 'end' || next === 'comma') && operator !== '!') operator = 'exists';
    return { key: t.literal, operator };
  }

  private parseOperator(): LabelOperator {
    const t = this.consume('keyAndOperator');
    switch (t.kind) {
      case 'in':
        return 'in';
      case 'equals':
        return '=';
      case 'doubleEquals':
        return '==';
      case 'greaterThan':
        return 'gt';
      case 'lessThan':
        return 'lt';
      case 'notIn':
        return 'notin';
      case 'notEquals':
        return '!=';
      default:
        throw new ParseError(`found '${t.literal}', expected: ${BINARY_OPERATORS}`);
    }
  }

  /** `(x,y,z)`; `()` means the one empty value. */
  private parseValues(): Set<string> {
    const open = this.consume('values');
    if (open.kind !== 'openPar') throw new ParseError(`found '${open.literal}' expected: '('`);
    const t = this.lookahead('values');
    switch (t.kind) {
      case 'identifier':
      case 'comma': {
        const values = this.parseIdentifiersList();
        if (this.consume('values').kind !== 'closePar') throw new ParseError(`found '${t.literal}', expected: ')'`);
        return values;
      }
      case 'closePar':
        this.consume('values');
        return new Set(['']);
      default:
        throw new ParseError(`found '${t.literal}', expected: ',', ')' or identifier`);
    }
  }

  /** Comma-separated, possibly empty, identifiers; stops before the `)`. */
  private parseIdentifiersList(): Set<string> {
    const values = new Set<string>();
    for (;;) {
      const t = this.consume('values');
      if (t.kind === 'identifier') {
        values.add(t.literal);
        const next = this.lookahead('values');
        if (next.kind === 'comma') continue;
        if (next.kind === 'closePar') return values;
        throw new ParseError(`found '${next.literal}', expected: ',' or ')'`);
      }
      if (t.kind === 'comma') {
        if (values.size === 0) values.add(''); // `(,`
        const next = this.lookahead('values').kind;
        if (next === 'closePar') {
          values.add(''); // `,)`
          return values;
        }
        if (next === 'comma') values.add(''); // `,,`
        continue;
      }
      throw new ParseError(`found '${t.literal}', expected: ',', or identifier`);
    }
  }

  /** The single value after `=`, `==`, `!=`, `>` or `<`; nothing there means the empty value. */
  private parseExactValue(): Set<string> {
    const next = this.lookahead('values').kind;
    if (next === 'end' || next === 'comma') return new Set(['']);
    const t = this.consume('values');
    if (t.kind === 'identifier') return new Set([t.literal]);
    throw new ParseError(`found '${t.literal}', expected: identifier`);
  }
}

/** The requirements of a selector, sorted by key, or the Go error text labels.Parse would return. */
export function parseRequirements(s: string): LabelRequirement[] | string {
  try {
    const requirements = new Parser(tokenize(s)).parse();
    // Stable sort by key, for a deterministic order (and String()).
    return requirements.sort((a, b) => compareBytes(a.key, b.key));
  } catch (e) {
    if (e instanceof ParseError) return e.message;
    throw e;
  }
}

/** labels.NewRequirement's checks on operator arity and values, as one aggregated message. */
function newRequirement(key: string, operator: LabelOperator, values: string[]): LabelRequirement {
  const errors: string[] = [];
  const keyErrors = labelKeyErrors(key);
  if (keyErrors.length) errors.push(invalidValue('key', key, keyErrors.join('; ')));
  switch (operator) {
    case 'in':
    case 'notin':
      if (values.length === 0) errors.push(`values: Invalid value: ${goValues(values)}: for 'in', 'notin' operators, values set can't be empty`);
      break;
    case '=':
    case '==':
    case '!=':
      if (values.length !== 1) errors.push(`values: Invalid value: ${goValues(values)}: exact-match compatibility requires one single value`);
      break;
    case 'exists':
    case '!':
      if (values.length !== 0) errors.push(`values: Invalid value: ${goValues(values)}: values set must be empty for exists and does not exist`);
      break;
    case 'gt':
    case 'lt':
      if (values.length !== 1) errors.push(`values: Invalid value: ${goValues(values)}: for 'Gt', 'Lt' operators, exactly one value is required`);
      values.forEach((v, i) => {
        if (parseInt64(v) === undefined) errors.push(invalidValue(`values[${i}]`, v, "for 'Gt', 'Lt' operators, the value must be an integer"));
      });
      break;
  }
  values.forEach((v, i) => {
    const valueErrors = labelValueErrors(v);
    if (valueErrors.length) errors.push(invalidValue(`values[${i}][${key}]`, v, valueErrors.join('; ')));
  });
  if (errors.length) throw new ParseError(aggregate(errors));
  return { key, operator, values };
}

/** utilerrors.Aggregate's message: one error as is, several as `[a, b]`, duplicates dropped. */
function aggregate(messages: string[]): string {
  const unique = [...new Set(messages)];
  return unique.length === 1 ? (unique[0] as string) : `[${unique.join(', ')}]`;
}

/** field.Invalid(path, stringValue, detail).Error() */
function invalidValue(path: string, value: string, detail: string): string {
  return `${path}: Invalid value: ${goQuote(value)}: ${detail}`;
}

/** How Go's %#v prints a []string, for the arity errors the parser cannot actually produce. */
function goValues(values: string[]): string {
  return `[]string{${values.map(goQuote).join(', ')}}`;
}

// ---------------------------------------------------------------------------
// Validation, as k8s.io/apimachinery/pkg/api/validate/content words it.

const LABEL_KEY_FMT = '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]';
const LABEL_KEY_RE = new RegExp(`^${LABEL_KEY_FMT}$`);
const LABEL_KEY_ERR = "must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character";
const LABEL_VALUE_FMT = `(${LABEL_KEY_FMT})?`;
const LABEL_VALUE_RE = new RegExp(`^${LABEL_VALUE_FMT}$`);
const LABEL_VALUE_ERR =
  "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character";
const DNS1123_LABEL_FMT = '[a-z0-9]([-a-z0-9]*[a-z0-9])?';
const DNS1123_SUBDOMAIN_FMT = `${DNS1123_LABEL_FMT}(\\.${DNS1123_LABEL_FMT})*`;
const DNS1123_SUBDOMAIN_RE = new RegExp(`^${DNS1123_SUBDOMAIN_FMT}$`);
const DNS1123_SUBDOMAIN_ERR =
  "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character";
const LABEL_NAME_MAX = 63;
const LABEL_VALUE_MAX = 63;
const DNS1123_SUBDOMAIN_MAX = 253;

const maxLenError = (n: number): string => `must be no more than ${n} bytes`;
const EMPTY_ERROR = 'must be non-empty';

/** content.RegexError: note upstream's doubled space before each "or". */
function regexError(msg: string, re: string, ...examples: string[]): string {
  if (examples.length === 0) return `${msg} (regex used for validation is '${re}')`;
  return `${msg} (e.g. ${examples.map((e) => `'${e}', `).join(' or ')}regex used for validation is '${re}')`;
}

const byteLength = (s: string): number => Buffer.byteLength(s, 'utf8');

function dns1123SubdomainErrors(value: string): string[] {
  const errors: string[] = [];
  if (byteLength(value) > DNS1123_SUBDOMAIN_MAX) errors.push(maxLenError(DNS1123_SUBDOMAIN_MAX));
  if (!DNS1123_SUBDOMAIN_RE.test(value)) errors.push(regexError(DNS1123_SUBDOMAIN_ERR, DNS1123_SUBDOMAIN_FMT, 'example.com'));
  return errors;
}

/** content.IsLabelKey: `[prefix/]name`, prefix a DNS-1123 subdomain. */
function labelKeyErrors(key: string): string[] {
  const errors: string[] = [];
  const parts = key.split('/');
  let name: string;
  if (parts.length === 1) {
    name = parts[0] as string;
  } else if (parts.length === 2) {
    const prefix = parts[0] as string;
    name = parts[1] as string;
    if (prefix.length === 0) errors.push(`prefix part ${EMPTY_ERROR}`);
    else errors.push(...dns1123SubdomainErrors(prefix).map((m) => `prefix part ${m}`));
  } else {
    return [
      `a valid label key ${regexError(LABEL_KEY_ERR, LABEL_KEY_FMT, 'MyName', 'my.name', '123-abc')} with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')`,
    ];
  }
  if (name.length === 0) errors.push(`name part ${EMPTY_ERROR}`);
  else if (byteLength(name) > LABEL_NAME_MAX) errors.push(`name part ${maxLenError(LABEL_NAME_MAX)}`);
  if (!LABEL_KEY_RE.test(name)) errors.push(`name part ${regexError(LABEL_KEY_ERR, LABEL_KEY_FMT, 'MyName', 'my.name', '123-abc')}`);
  return errors;
}

/** content.IsLabelValue: empty, or up to 63 characters of the label-name charset. */
function labelValueErrors(value: string): string[] {
  const errors: string[] = [];
  if (byteLength(value) > LABEL_VALUE_MAX) errors.push(maxLenError(LABEL_VALUE_MAX));
  if (!LABEL_VALUE_RE.test(value)) errors.push(regexError(LABEL_VALUE_ERR, LABEL_VALUE_FMT, 'MyValue', 'my_value', '12345'));
  return errors;
}

// ---------------------------------------------------------------------------
// Go-compatible helpers.

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

/** strconv.ParseInt(s, 10, 64): optional sign, decimal digits, in range. */
export function parseInt64(s: string): bigint | undefined {
  if (!/^[+-]?[0-9]+$/.test(s)) return undefined;
  const n = BigInt(s);
  return n < INT64_MIN || n > INT64_MAX ? undefined : n;
}

/** Orders strings as Go does, by their UTF-8 bytes. */
function compareBytes(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

const PRINTABLE = /^[\p{L}\p{M}\p{N}\p{P}\p{S} ]$/u;
const SHORT_ESCAPES: Record<string, string> = { '\x07': '\\a', '\b': '\\b', '\f': '\\f', '\n': '\\n', '\r': '\\r', '\t': '\\t', '\v': '\\v', '"': '\\"', '\\': '\\\\' };

/** strconv.Quote, i.e. what `%q` prints for a string. */
function goQuote(s: string): string {
  let out = '"';
  for (const ch of s) {
    const cp = ch.codePointAt(0) ?? 0;
    const short = SHORT_ESCAPES[ch];
    if (short) out += short;
    else if (cp < 0x20 || cp === 0x7f) out += `\\x${cp.toString(16).padStart(2, '0')}`;
    else if (PRINTABLE.test(ch)) out += ch;
    else if (cp >= 0xd800 && cp <= 0xdfff) out += '\\ufffd';
    else if (cp < 0x10000) out += `\\u${cp.toString(16).padStart(4, '0')}`;
    else out += `\\U${cp.toString(16).padStart(8, '0')}`;
  }
  return `${out}"`;
}

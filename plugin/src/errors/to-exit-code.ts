// The one mapping from an error to what the user reads and the exit code,
// as kubectl's checkErr does it: kubectl's wording where kubectl has one,
// an Invalid error's causes one per line, everything else on one line.
// Pure: whatever needs the cluster to explain an error (the APIService's
// condition) is asked before, by the command runner. Messages carry what the
// server said (Status messages, causes, names, an APIService's condition),
// so every line is escaped for the terminal; only the line breaks between
// an Invalid error's causes are ours.
import { ApiError, ConfigError, ConnectionError } from '../../../client/src/errors.ts';
import { escapeTerminal } from '../output/escape.ts';
import { BackendUnavailableError, ExitError, UsageError } from './errors.ts';

const DEFAULT_ERROR_EXIT_CODE = 1;

/** kubectl's MultilineError: one cause after the prefix, several as a list. */
function multiline(prefix: string, causes: string[]): string {
  if (causes.length === 1) return `${prefix}: ${causes[0]}`;
  return `${prefix}: \n${causes.map((c) => `* ${c}`).join('\n')}`;
}

/** kubectl's wording of an Invalid error: `The KIND "NAME" is invalid: field: message`, one cause per line. */
function describeInvalid(err: ApiError): string {
  const st = err.status ?? {};
  const d = st.details;
  if (!d) return escapeTerminal(`The request is invalid${st.message ? `: ${st.message}` : ''}`);
  let prefix = 'The request is invalid';
  if (d.kind || d.name) prefix = `The ${d.kind ?? ''} ${JSON.stringify(d.name ?? '')} is invalid`;
  else if (st.message && !d.causes?.length) prefix += `: ${st.message}`;
  if (!d.causes?.length) return escapeTerminal(prefix);
  return multiline(escapeTerminal(prefix), d.causes.map((c) => escapeTerminal(`${c.field ?? ''}: ${c.message ?? ''}`)));
}

export function describeError(err: unknown): string {
  // An Invalid error keeps its line breaks between causes; everything else is one line.
  if (err instanceof ApiError && err.status?.reason === 'Invalid') return describeInvalid(err);
  return escapeTerminal(oneLine(err));
}

function oneLine(err: unknown): string {
  if (err instanceof ConfigError || err instanceof ConnectionError || err instanceof BackendUnavailableError) return `error: ${err.message}`;
  if (err instanceof UsageError) return `error: ${err.message.replace(/\n\s*/g, ' ')} (see "kubectl custom --help")`;
  if (err instanceof ApiError) {
    if (err.code === 401) return 'error: You must be logged in to the server (Unauthorized)';
    if (err.status?.reason) return `Error from server (${err.status.reason}): ${err.status.message ?? ''}`.replace(/\n+/g, '; ');
    return `error: the server answered HTTP ${err.code}: ${err.message.trim().split('\n')[0]}`;
  }
  return `error: ${err instanceof Error ? err.message : String(err)}`;
}

/** Writes the message for `err` and returns the exit code. */
export function toExitCode(err: unknown, write: (s: string) => void): number {
  if (err instanceof ExitError) return err.code;
  write(describeError(err) + '\n');
  return DEFAULT_ERROR_EXIT_CODE;
}

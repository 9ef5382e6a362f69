// The plugin's errors. Commands throw; main.ts turns any error into one
// line on stderr and an exit code (errors/to-exit-code.ts).

/** A problem with the kubeconfig or the flags that select from it. */
export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** Wrong usage of the command line; yargs' own errors map to this too. */
export class UsageError extends Error {
  override name = 'UsageError';
}

/** A metav1.Status as the server sent it. */
export interface ApiStatus {
  kind?: string;
  status?: string;
  message?: string;
  reason?: string;
  code?: number;
  details?: { name?: string; group?: string; kind?: string; causes?: { field?: string; message?: string; reason?: string }[] };
}

/** A non-2xx answer from the server. */
export class ApiError extends Error {
  override name = 'ApiError';
  readonly code: number;
  readonly status: ApiStatus | undefined;
  /** The raw body when it was not a Status (the aggregator answers plain text). */
  readonly text: string;
  readonly path: string;

  constructor(code: number, status: ApiStatus | undefined, text: string, path: string) {
    super(status?.message ?? (text.trim() || `HTTP ${code}`));
    this.code = code;
    this.status = status;
    this.text = text;
    this.path = path;
  }
}

/** The server could not be reached at all (DNS, refused, TLS, timeout). */
export class ConnectionError extends Error {
  override name = 'ConnectionError';
  readonly server: string;

  constructor(server: string, message: string) {
    super(message);
    this.server = server;
  }
}

/** Already reported; exit with this code and print nothing more. */
export class ExitError extends Error {
  override name = 'ExitError';
  readonly code: number;

  constructor(code: number) {
    super(`exit ${code}`);
    this.code = code;
  }
}

// The plugin's own errors; the client's (ConfigError, ConnectionError,
// ApiError) come from client/src/errors.ts. Commands throw; main.ts turns
// any error into what the user reads and an exit code (errors/to-exit-code.ts).

/** Wrong usage of the command line; yargs' own errors map to this too. */
export class UsageError extends Error {
  override name = 'UsageError';
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

/** The backend is not installed or not available; the message says which and what to do (commands/shared/diagnose-backend.ts). */
export class BackendUnavailableError extends Error {
  override name = 'BackendUnavailableError';
}

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

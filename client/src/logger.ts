// What the client's long-running parts (reflectors, event recorders) log
// through; the apps pass their own structured logger.
export interface ClientLogger {
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
}

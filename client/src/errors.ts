// What can go wrong talking to kube-apiserver, as client-go tells them apart:
// the configuration (kubeconfig, flags, exec plugins), the connection, or a
// non-2xx answer carrying the server's metav1.Status.
import type { Status } from '../../api/src/status.ts';

/** A problem with the kubeconfig, the flags that select from it, or an exec credential plugin. */
export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** The server could not be reached at all (DNS, refused, TLS, timeout). */
export class ConnectionError extends Error {
  override name = 'ConnectionError';
  readonly server: string;
  /** The socket error's code (ECONNREFUSED, ETIMEDOUT, …). */
  readonly code: string | undefined;

  constructor(server: string, message: string, code?: string) {
    super(message);
    this.server = server;
    this.code = code;
  }
}

/** A non-2xx answer, carrying its metav1.Status when the server sent one. */
export class ApiError extends Error {
  override name = 'ApiError';
  readonly code: number;
  readonly status: Partial<Status> | undefined;
  /** The raw body when it was not a Status (the aggregator answers 503 in plain text). */
  readonly text: string;
  /** The request's path, without the query. */
  readonly path: string;

  constructor(code: number, status: Partial<Status> | undefined, text: string, path: string) {
    super(status?.message ?? (text.trim() || `HTTP ${code}`));
    this.code = code;
    this.status = status;
    this.text = text;
    this.path = path;
  }

  get reason(): string | undefined {
    return this.status?.reason;
  }
}

/** The body of a failed response as an ApiError: its Status when it is one. */
export function apiErrorOf(code: number, text: string, path: string): ApiError {
  let status: Partial<Status> | undefined;
  try {
    const parsed = JSON.parse(text) as Partial<Status> | null;
    if (parsed && typeof parsed === 'object' && parsed.kind === 'Status') status = parsed;
  } catch {
    status = undefined;
  }
  return new ApiError(code, status, text, path);
}

/** A watch stream's ERROR event (a Status) as an ApiError. */
export function apiErrorFromWatchEvent(object: unknown, path: string): ApiError {
  const st = (object ?? {}) as Partial<Status>;
  return new ApiError(st.code ?? 500, st, JSON.stringify(object), path);
}

/** 410 Gone / Expired: the resourceVersion is too old; list again. */
export function isResourceExpired(err: unknown): boolean {
  return err instanceof ApiError && (err.code === 410 || err.reason === 'Expired' || err.reason === 'Gone');
}

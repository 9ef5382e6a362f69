// The page's calls to its own server (same origin; the session cookie goes
// with them by itself). Changes carry the session's token in the
// X-Dashboard-Token header. A failed call throws the Status the server (the
// cluster's, or the dashboard's own) answered with.

export interface Session {
  user?: string;
  context?: string;
  server: string;
  namespace?: string;
  token: string;
}

export interface StatusDoc {
  kind?: string;
  code?: number;
  reason?: string;
  message?: string;
  details?: { causes?: { field?: string; message?: string }[] };
}

export class CallError extends Error {
  readonly status: StatusDoc;
  constructor(status: StatusDoc) {
    super(statusText(status));
    this.status = status;
  }
}

/** As kubectl prints it: `Error from server (Forbidden): …`, with an Invalid error's causes. */
function statusText(s: StatusDoc): string {
  const causes = (s.details?.causes ?? []).map((c) => `${c.field ? `${c.field}: ` : ''}${c.message ?? ''}`);
  const head = s.reason ? `Error from server (${s.reason}): ${s.message ?? ''}` : s.message ?? `HTTP ${s.code ?? '?'}`;
  return causes.length && s.reason === 'Invalid' ? `${head} — ${causes.join('; ')}` : head;
}

export class Api {
  private token = '';

  async session(): Promise<Session> {
    const s = await this.call<Session>('GET', '/api/session');
    this.token = s.token;
    return s;
  }

  objectPath(namespace: string, name: string, sub: string): string {
    return `/api/namespaces/${encodeURIComponent(namespace)}/customresources/${encodeURIComponent(name)}/${sub}`;
  }

  async call<T>(method: string, path: string, body?: unknown): Promise<T> {
    const headers: Record<string, string> = { Accept: 'application/json' };
    if (method !== 'GET') headers['X-Dashboard-Token'] = this.token;
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    let res: Response;
    try {
      res = await fetch(path, { method, headers, credentials: 'same-origin', ...(body !== undefined ? { body: JSON.stringify(body) } : {}) });
    } catch (e) {
      throw new CallError({ message: `the dashboard does not answer (${e instanceof Error ? e.message : String(e)}); is kubectl custom dashboard still running?` });
    }
    const text = await res.text();
    let doc: unknown;
    try {
      doc = JSON.parse(text);
    } catch {
      doc = { message: text.trim() || `HTTP ${res.status}`, code: res.status };
    }
    if (!res.ok) throw new CallError(doc as StatusDoc);
    return doc as T;
  }
}

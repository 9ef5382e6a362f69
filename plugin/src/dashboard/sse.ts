// Server-sent events as the HTML standard frames them: `event:`, `id:` and
// one `data:` line per line of the payload, a blank line to end the event;
// a line starting with a colon is a comment (kept-alive connections).
// EventSource reconnects by itself after `retry` milliseconds.

/** One event; `data` is JSON-encoded, so it holds no raw line breaks, but any are split as the standard requires. */
export function sseEvent(event: string, data: unknown, id?: string): string {
  if (/[\r\n]/.test(event) || (id !== undefined && /[\r\n\0]/.test(id))) throw new Error('an event name or id may not hold a line break');
  const lines = [`event: ${event}`];
  if (id !== undefined) lines.push(`id: ${id}`);
  for (const l of JSON.stringify(data).split(/\r\n|\r|\n/)) lines.push(`data: ${l}`);
  return lines.join('\n') + '\n\n';
}

/** A comment line: keeps proxies and the browser from timing the connection out, and carries nothing. */
export function sseComment(text: string): string {
  return `: ${text.replace(/[\r\n]+/g, ' ')}\n\n`;
}

/** How long the browser waits before reconnecting. */
export function sseRetry(ms: number): string {
  return `retry: ${Math.max(0, Math.floor(ms))}\n\n`;
}

/** Reads a stream of SSE text back into events (for tests, and anything else that reads our feed outside a browser). */
export function sseParser(): (chunk: string) => { event: string; data: string; id?: string }[] {
  let buf = '';
  return (chunk) => {
    buf += chunk;
    const out: { event: string; data: string; id?: string }[] = [];
    let end: number;
    while ((end = buf.search(/\r?\n\r?\n/)) >= 0) {
      const block = buf.slice(0, end);
      buf = buf.slice(end + (buf[end] === '\r' ? 4 : 2));
      let event = 'message';
      let id: string | undefined;
      const data: string[] = [];
      for (const line of block.split(/\r?\n/)) {
        if (line.startsWith(':') || line === '') continue;
        const colon = line.indexOf(':');
        const field = colon < 0 ? line : line.slice(0, colon);
        const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
        if (field === 'event') event = value;
        else if (field === 'data') data.push(value);
        else if (field === 'id') id = value;
      }
      if (data.length) out.push({ event, data: data.join('\n'), ...(id !== undefined ? { id } : {}) });
    }
    return out;
  };
}

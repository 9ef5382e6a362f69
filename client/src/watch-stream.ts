// A watch response read as Kubernetes frames it: one JSON WatchEvent per
// line. Shared by the plugin's `list -w`, the backend's reflectors and the
// tests' and benchmark's watchers.
import type { IncomingMessage } from 'node:http';

export interface WatchEvent {
  type: string;
  object: unknown;
}

/** Splits a stream of text into lines: feed it each chunk, it hands back the lines completed so far (without the newline, blank ones dropped). */
export function lineSplitter(): (chunk: string) => string[] {
  let buf = '';
  return (chunk) => {
    buf += chunk;
    const lines = buf.split('\n');
    buf = lines.pop() ?? '';
    return lines.filter((l) => l.trim() !== '');
  };
}

/**
 * Calls `onEvent` for each event until the server ends the stream; rejects
 * on a broken one or when `onEvent` throws. `onEvent` returning false stops
 * reading and closes the response.
 */
export async function readWatchStream(res: IncomingMessage, onEvent: (ev: WatchEvent) => boolean | void): Promise<void> {
  const lines = lineSplitter();
  res.setEncoding('utf8');
  for await (const chunk of res as AsyncIterable<string>) {
    for (const line of lines(chunk)) {
      if (onEvent(JSON.parse(line) as WatchEvent) === false) {
        res.destroy();
        return;
      }
    }
  }
  for (const line of lines('\n')) onEvent(JSON.parse(line) as WatchEvent);
}

// A watch response read as Kubernetes frames it: one JSON WatchEvent per
// line. Shared by the plugin's `list -w` and the backend's watches of
// kube-apiserver.
import type { IncomingMessage } from 'node:http';

export interface WatchEvent {
  type: string;
  object: unknown;
}

/**
 * Calls `onEvent` for each event until the server ends the stream; rejects
 * on a broken one or when `onEvent` throws. `onEvent` returning false stops
 * reading and closes the response.
 */
export async function readWatchStream(res: IncomingMessage, onEvent: (ev: WatchEvent) => boolean | void): Promise<void> {
  let buf = '';
  res.setEncoding('utf8');
  for await (const chunk of res as AsyncIterable<string>) {
    buf += chunk;
    let nl: number;
    while ((nl = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, nl).trim();
      buf = buf.slice(nl + 1);
      if (line && onEvent(JSON.parse(line) as WatchEvent) === false) {
        res.destroy();
        return;
      }
    }
  }
  if (buf.trim()) onEvent(JSON.parse(buf) as WatchEvent);
}

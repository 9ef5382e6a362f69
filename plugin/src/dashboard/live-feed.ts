// The page's live feed: client-go's reflector (client/src/reflector.ts) over
// the aggregated API with the user's credentials — list, then watch from the
// list's resourceVersion, watch again from the last one seen when a stream
// ends or drops, list again after 410 Gone — turned into events for the
// page: `snapshot` (every object in scope: the first list and each re-list),
// `change` (one watch event), `live` (whether the watch is open, and why
// not). One feed per open page, so each page's label selector is matched by
// the API server itself.
import { collectionPath } from '../../../api/src/names.ts';
import { parseRequirements } from '../../../api/src/label-selector-syntax.ts';
import type { CustomResource } from '../../../api/src/types.ts';
import type { ClientLogger } from '../../../client/src/logger.ts';
import { Reflector, type ReflectorStore } from '../../../client/src/reflector.ts';
import type { RestClient } from '../../../client/src/rest-client.ts';
import type { FeedEvents } from './feed-events.ts';

export type FeedSink = <K extends keyof FeedEvents>(event: K, data: FeedEvents[K], id?: string) => void;

/** The reflector's store, writing each list and event to the page. */
function feedStore(send: FeedSink): ReflectorStore<CustomResource> {
  return {
    replace(items, resourceVersion) {
      send('snapshot', { resourceVersion, items }, resourceVersion);
    },
    apply(type, object) {
      send('change', { type, object }, object.metadata.resourceVersion);
    },
    setLive(live) {
      // A broken stream is said at once; the reason follows from the log line of the retry.
      if (live) send('live', { live: true });
    },
  };
}

/** Reflector log lines for the page: a failed list or watch says why (the API's Status message), e.g. a 403 for a namespace one may not list. */
function feedLogger(send: FeedSink, log: ClientLogger): ClientLogger {
  return {
    info: (msg, fields) => log.info(msg, fields),
    warn: (msg, fields) => {
      log.warn(msg, fields);
      const reason = typeof fields?.['error'] === 'string' ? fields['error'] : msg;
      send('live', { live: false, message: reason });
    },
  };
}

export interface FeedOptions {
  client: RestClient;
  /** undefined: every namespace. */
  namespace: string | undefined;
  labelSelector: string | undefined;
  send: FeedSink;
  log: ClientLogger;
}

export interface Feed {
  stop(): Promise<void>;
}

/** Starts a feed; a label selector the API would refuse is reported as a `problem` and nothing is started. */
export function startFeed(o: FeedOptions): Feed {
  if (o.labelSelector !== undefined) {
    const parsed = parseRequirements(o.labelSelector);
    if (typeof parsed === 'string') {
      o.send('problem', { message: `label selector: ${parsed}` });
      return { stop: async () => {} };
    }
  }
  const reflector = new Reflector<CustomResource>({
    client: o.client,
    path: collectionPath(o.namespace),
    description: 'customresources.custom.example.com for the dashboard',
    store: feedStore(o.send),
    log: feedLogger(o.send, o.log),
    ...(o.labelSelector !== undefined ? { labelSelector: o.labelSelector } : {}),
    pageSize: 500,
  });
  reflector.start();
  return { stop: () => reflector.stop() };
}

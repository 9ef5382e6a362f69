// Kubernetes Events about an object, as client-go's recorder writes them
// (core/v1, a unique name per event). Best effort: a change that was written
// is not undone because its Event could not be recorded.
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { ClientLogger } from './logger.ts';
import type { RestClient } from './rest-client.ts';

/** The object an Event is about (involvedObject). */
export interface EventSubject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace: string; uid?: string; resourceVersion?: string };
}

export interface EventRecorder {
  record(obj: EventSubject, type: 'Normal' | 'Warning', reason: string, message: string): Promise<void>;
}

export class ApiEventRecorder implements EventRecorder {
  private readonly client: RestClient;
  private readonly log: ClientLogger;
  private readonly component: string;
  private readonly instance = hostname();

  constructor(client: RestClient, log: ClientLogger, component: string) {
    this.client = client;
    this.log = log;
    this.component = component;
  }

  async record(obj: EventSubject, type: 'Normal' | 'Warning', reason: string, message: string): Promise<void> {
    const now = new Date().toISOString();
    const ns = obj.metadata.namespace;
    const body = {
      apiVersion: 'v1',
      kind: 'Event',
      metadata: { name: `${obj.metadata.name}.${Date.now().toString(16)}${randomBytes(2).toString('hex')}`, namespace: ns },
      involvedObject: {
        apiVersion: obj.apiVersion,
        kind: obj.kind,
        name: obj.metadata.name,
        namespace: ns,
        uid: obj.metadata.uid,
        resourceVersion: obj.metadata.resourceVersion,
      },
      reason,
      message: message.slice(0, 1024),
      type,
      source: { component: this.component, host: this.instance },
      reportingComponent: this.component,
      reportingInstance: this.instance,
      firstTimestamp: now,
      lastTimestamp: now,
      count: 1,
    };
    try {
      await this.client.json('POST', `/api/v1/namespaces/${encodeURIComponent(ns)}/events`, { body, timeoutMs: 10_000 });
    } catch (err) {
      this.log.warn('could not record an Event', { object: `${ns}/${obj.metadata.name}`, reason, error: String(err instanceof Error ? err.message : err) });
    }
  }
}

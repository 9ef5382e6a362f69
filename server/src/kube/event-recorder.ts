// Kubernetes Events on the storage object, as client-go's recorder writes
// them (core/v1, a unique name per event). Best effort: a change that was
// written is not undone because its Event could not be recorded.
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { StoredObject } from '../api/types.ts';
import type { Logger } from '../log/logger.ts';
import type { RestClient } from './rest-client.ts';

export const COMPONENT = 'kubectl-custom-backend';

export interface EventRecorder {
  record(obj: StoredObject, type: 'Normal' | 'Warning', reason: string, message: string): Promise<void>;
}

export class ApiEventRecorder implements EventRecorder {
  private readonly client: RestClient;
  private readonly log: Logger;
  private readonly instance = hostname();

  constructor(client: RestClient, log: Logger) {
    this.client = client;
    this.log = log;
  }

  async record(obj: StoredObject, type: 'Normal' | 'Warning', reason: string, message: string): Promise<void> {
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
      source: { component: COMPONENT, host: this.instance },
      reportingComponent: COMPONENT,
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

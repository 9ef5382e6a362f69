// Prometheus metrics, named as k8s.io/apiserver names its own where one exists.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export interface Metrics {
  registry: Registry;
  requests: Counter<'verb' | 'resource' | 'subresource' | 'code'>;
  latency: Histogram<'verb' | 'resource' | 'subresource'>;
  authzCache: Counter<'result'>;
  eventsDropped: Counter;
  authnCache: Counter<'result'>;
  watchers: Gauge;
  cacheObjects: Gauge;
  cacheResourceVersion: Gauge;
  cacheSubscribers: Gauge;
  cacheConsistentReads: Gauge;
  transitions: Counter<'action' | 'result'>;
  admissionReviews: Counter<'operation' | 'result'>;
  checkMeasurements: Counter<'provider' | 'phase'>;
}

export function newMetrics(): Metrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  return {
    registry,
    requests: new Counter({ name: 'apiserver_request_total', help: 'Requests by verb, resource, subresource and HTTP code.', labelNames: ['verb', 'resource', 'subresource', 'code'], registers: [registry] }),
    latency: new Histogram({
      name: 'apiserver_request_duration_seconds',
      help: 'Response latency by verb, resource and subresource (watches excluded).',
      labelNames: ['verb', 'resource', 'subresource'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.2, 0.4, 0.6, 0.8, 1, 1.5, 2, 3, 5, 10, 30],
      registers: [registry],
    }),
    authzCache: new Counter({ name: 'custom_authorization_cache_total', help: 'SubjectAccessReview cache lookups by result (hit, miss).', labelNames: ['result'], registers: [registry] }),
    eventsDropped: new Counter({ name: 'custom_events_dropped_total', help: 'Events dropped because the queue of Events to write was full (as client-go drops them).', registers: [registry] }),
    authnCache: new Counter({ name: 'custom_token_review_cache_total', help: 'TokenReview cache lookups by result (hit, miss).', labelNames: ['result'], registers: [registry] }),
    watchers: new Gauge({ name: 'apiserver_registered_watchers', help: 'Open watches on customresources.', registers: [registry] }),
    cacheObjects: new Gauge({ name: 'custom_cache_objects', help: 'Objects in the watch cache of customresources.example.com.', registers: [registry] }),
    cacheResourceVersion: new Gauge({ name: 'custom_cache_resource_version', help: 'The latest resourceVersion the watch cache has seen.', registers: [registry] }),
    cacheSubscribers: new Gauge({ name: 'custom_cache_subscribers', help: 'Open subscriptions to the watch cache: client watches and the backend\'s own controllers.', registers: [registry] }),
    cacheConsistentReads: new Gauge({ name: 'custom_cache_consistent_reads', help: 'Consistent reads of kube-apiserver made to answer a read of customresources as new as the client asked (a quorum GET, a LIST proving the cache fresh or read through, a catch-up with a resourceVersion), since start.', registers: [registry] }),
    admissionReviews: new Counter({ name: 'custom_admission_reviews_total', help: 'Admission reviews of customresources.example.com answered by the gate webhook, by operation and result (allowed, denied).', labelNames: ['operation', 'result'], registers: [registry] }),
    transitions: new Counter({ name: 'custom_state_transitions_total', help: 'State changes by action (promote, set-state) and result.', labelNames: ['action', 'result'], registers: [registry] }),
    checkMeasurements: new Counter({ name: 'custom_check_measurements_total', help: 'Measurements of checks the backend took on their schedule, by provider (prometheus, http) and phase (Successful, Failed, Inconclusive, Error).', labelNames: ['provider', 'phase'], registers: [registry] }),
  };
}

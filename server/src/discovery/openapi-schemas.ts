// Schemas of custom.example.com/v1, written once in OpenAPI v3 form; the v2
// document is derived from them. Descriptions are what `kubectl explain`
// prints, so they are written for users.
import { GROUP, VERSION } from '../../../api/src/names.ts';

export const PREFIX = 'com.example.custom.v1';
export const META = 'io.k8s.apimachinery.pkg.apis.meta.v1';
const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const gvk = (kind: string) => [{ group: GROUP, version: VERSION, kind }];
const str = (description: string, extra: Record<string, unknown> = {}) => ({ type: 'string', description, ...extra });
const int = (description: string) => ({ type: 'integer', format: 'int64', description });

const typeMeta = {
  apiVersion: str('APIVersion defines the versioned schema of this representation of an object.'),
  kind: str('Kind is a string value representing the REST resource this object represents.'),
};

export const SCHEMAS: Record<string, unknown> = {
  [`${PREFIX}.CustomResource`]: {
    type: 'object',
    description: 'CustomResource is something that moves through an ordered list of states (dev → staging → prod). It is stored as example.com/v1 CustomResource; custom.example.com serves it with computed status and owns every state change.',
    required: ['spec'],
    properties: {
      ...typeMeta,
      metadata: { ...ref(`${META}.ObjectMeta`), description: 'Standard object metadata.' },
      spec: { ...ref(`${PREFIX}.CustomResourceSpec`), description: 'The path the object moves along, and its gates.' },
      status: { ...ref(`${PREFIX}.CustomResourceStatus`), description: 'Where the object stands, and how it got there. Written only by the kubectl-custom backend.' },
    },
    'x-kubernetes-group-version-kind': gvk('CustomResource'),
  },
  [`${PREFIX}.CustomResourceList`]: {
    type: 'object',
    description: 'CustomResourceList is a list of CustomResource objects.',
    required: ['items'],
    properties: {
      ...typeMeta,
      metadata: { ...ref(`${META}.ListMeta`), description: 'Standard list metadata.' },
      items: { type: 'array', description: 'The objects.', items: ref(`${PREFIX}.CustomResource`) },
    },
    'x-kubernetes-group-version-kind': gvk('CustomResourceList'),
  },
  [`${PREFIX}.CustomResourceSpec`]: {
    type: 'object',
    description: 'The path an object moves along, and its gates. Edited through the example.com/v1 CustomResource object.',
    required: ['name', 'states'],
    properties: {
      name: str('Display name, for people.'),
      states: { type: 'array', description: 'The ordered path, first state first: 1 to 32 unique DNS-1123 labels. An object never moved is in states[0].', items: { type: 'string' } },
      protectedStates: { type: 'array', description: 'States whose entry needs a reason and the `enter` permission on states.custom.example.com with resourceNames: [the state].', items: { type: 'string' } },
      minSoakSeconds: { type: 'object', description: 'Seconds an object must spend in a state before it is promoted out of it, by state name.', additionalProperties: { type: 'integer', format: 'int64' } },
      requiredApprovals: { type: 'object', description: 'Approvals by holders of `approve` on states.custom.example.com other than the mover that a move into a state needs, by state name.', additionalProperties: { type: 'integer', format: 'int32' } },
      checks: { type: 'object', description: 'Checks a move into a state needs, by state name: measured by the backend while the object is in the state before; a move passes once each run succeeded.', additionalProperties: { type: 'array', items: ref(`${PREFIX}.Check`) } },
    },
  },
  [`${PREFIX}.Check`]: {
    type: 'object',
    description: 'A verification check: a PromQL query or a GET of a URL, and CEL conditions on the answer.',
    required: ['name', 'successCondition'],
    properties: {
      name: str('Names the check in refusals, describe-state and the trail.'),
      prometheus: { type: 'object', description: 'An instant PromQL query ({{name}}, {{namespace}}, {{labels.KEY}}, {{from}}, {{to}} filled in); the conditions see `result`, a list of numbers.', additionalProperties: true },
      http: { type: 'object', description: 'A GET of a URL (the same placeholders); the conditions see `status` and `body`.', additionalProperties: true },
      successCondition: str('CEL; a measurement passes when it is true.'),
      failureCondition: str('CEL; with it, a measurement where neither holds is inconclusive.'),
      count: { type: 'integer', format: 'int32', description: 'Measurements in a run (1 by default).' },
      intervalSeconds: { type: 'integer', format: 'int32', description: 'Seconds between measurements (60 by default).' },
      failureLimit: { type: 'integer', format: 'int32', description: 'Failed measurements a run tolerates (0 by default).' },
      inconclusiveLimit: { type: 'integer', format: 'int32', description: 'Inconclusive measurements a run tolerates (0 by default).' },
      timeoutSeconds: { type: 'integer', format: 'int32', description: 'Seconds a measurement may take (10 by default).' },
    },
  },
  [`${PREFIX}.CustomResourceStatus`]: {
    type: 'object',
    description: 'Where the object stands. state, stateSince, observedGeneration and history are stored; the other fields are computed when served.',
    properties: {
      state: str('The current state: the stored state, or spec.states[0] for an object never moved.'),
      stateSince: str('When the object entered its current state (RFC 3339).', { format: 'date-time' }),
      observedGeneration: int('The spec generation the latest state change was checked against.'),
      approvals: { type: 'array', description: 'Approvals of moves out of the current state; dropped when the state changes, and counted only for the spec and labels approved.', items: { type: 'object', additionalProperties: true } },
      history: { type: 'array', description: 'The newest entries of the trail, oldest first; older ones are archived (GET …/history serves the whole trail).', items: ref(`${PREFIX}.HistoryEntry`) },
      checks: { type: 'object', description: 'The runs of the checks of the move out of the current state into the next: from, to, since (the stay they belong to) and runs, each with its measurements (phase, time, value, message). Written by the backend only.', additionalProperties: true },
      nextState: str('The state `promote` moves to; absent at the last state or when the object is invalid.'),
      secondsInState: int('Whole seconds since the object entered its current state.'),
      soakRemainingSeconds: int('Seconds until spec.minSoakSeconds of the current state is served; 0 when it is.'),
      valid: { type: 'boolean', description: 'False when spec.states no longer lists the current state; only set-state can move such an object.' },
      message: str('Why the object is invalid, when it is.'),
    },
  },
  [`${PREFIX}.HistoryEntry`]: {
    type: 'object',
    description: 'One entry of the trail. Entries are never edited: each hash chains it to the one before.',
    required: ['action', 'user', 'time'],
    properties: {
      seq: int('Counts from 1 over the object\'s life.'),
      action: str('What happened.', { enum: ['promote', 'set-state', 'override', 'approve', 'revoke', 'deleted'] }),
      from: str('The state before the change.'),
      to: str('The state after the change.'),
      user: str('The authenticated user who made the change, as kube-apiserver identified them.'),
      time: str('When the change was made (RFC 3339).', { format: 'date-time' }),
      reason: str('Why, in the words of the user who made the change.'),
      approvers: { type: 'array', description: 'The approvers of the move.', items: { type: 'string' } },
      overrode: { type: 'array', description: 'For an override: the gates it passed.', items: { type: 'string' } },
      freeze: str('For an override: the freeze it broke (namespace/name).'),
      checks: { type: 'array', description: 'A forward move into a state with checks: each check\'s result and last value when the move was made.', items: { type: 'object', additionalProperties: true } },
      direction: str('A move\'s direction in the path as it was then: backward is a rollback.', { enum: ['forward', 'backward'] }),
      next: { type: 'object', description: 'After a move whose target\'s next move needed approvals (by the gates then): that state and how many.', properties: { state: str('The state after the target.'), approvals: int('Approvals a move into it needed.') } },
      hash: str('SHA-256 (hex) of the previous entry\'s hash and this entry\'s canonical JSON (keys sorted, hash left out).'),
    },
  },
  [`${PREFIX}.CustomResourceHistory`]: {
    type: 'object',
    description: 'CustomResourceHistory is the whole trail of an object: the live object\'s life first, then earlier lives of the same name, most recent first. Returned by GET …/history.',
    properties: {
      ...typeMeta,
      metadata: { ...ref(`${META}.ObjectMeta`), description: 'The object\'s name and namespace.' },
      lives: {
        type: 'array',
        description: 'Each life from creation to deletion (or now).',
        items: {
          type: 'object',
          properties: {
            uid: str('The uid of the object in this life.'),
            live: { type: 'boolean', description: 'The object exists: this is its current life.' },
            entries: { type: 'array', description: 'Every entry kept, oldest first.', items: ref(`${PREFIX}.HistoryEntry`) },
          },
        },
      },
    },
    'x-kubernetes-group-version-kind': gvk('CustomResourceHistory'),
  },
  [`${PREFIX}.${'CustomResourceState'}`]: {
    type: 'object',
    description: 'CustomResourceState describes where an object stands on its path, what gates apply, what the caller may do, and its history. Returned by GET …/state, PUT …/state and POST …/promote.',
    properties: {
      ...typeMeta,
      metadata: { ...ref(`${META}.ObjectMeta`), description: 'The object\'s metadata.' },
      state: str('The current state.'),
      stateSince: str('When the object entered its current state.', { format: 'date-time' }),
      path: { type: 'array', description: 'spec.states, in order.', items: { type: 'string' } },
      position: int('Index of the current state in path; -1 when the object is invalid.'),
      nextState: str('The state promote moves to, if any.'),
      valid: { type: 'boolean', description: 'False when path no longer lists the current state.' },
      gates: { type: 'object', description: 'The gates that apply to promoting now.', additionalProperties: true },
      allowed: { type: 'object', description: 'What the calling user may do now, as SubjectAccessReview answers.', additionalProperties: true },
      history: { type: 'array', description: 'Accepted state changes, newest last.', items: ref(`${PREFIX}.HistoryEntry`) },
    },
    'x-kubernetes-group-version-kind': gvk('CustomResourceState'),
  },
  [`${PREFIX}.StateChange`]: {
    type: 'object',
    description: 'The body of PUT …/state (set-state).',
    required: ['state'],
    properties: {
      state: str('The state to move to: any state in spec.states.'),
      reason: str('Why. Required when entering a protected state or overriding; printable text, at most 1024 characters.'),
      from: str('The state the caller saw. If given and not the current state, the request fails with 409 Conflict.'),
      override: { type: 'boolean', description: 'Break glass: make a move its gates would refuse. Needs the `override` verb on states.custom.example.com (the target) and a reason; recorded as an override.' },
    },
  },
  [`${PREFIX}.Promotion`]: {
    type: 'object',
    description: 'The body of POST …/promote.',
    properties: {
      reason: str('Why. Required when entering a protected state or overriding; printable text, at most 1024 characters.'),
      from: str('The state the caller saw. If given and not the current state, the request fails with 409 Conflict.'),
      override: { type: 'boolean', description: 'Break glass: make a move its gates would refuse. Needs the `override` verb on states.custom.example.com (the target) and a reason; recorded as an override.' },
    },
  },
  [`${PREFIX}.BackendStatus`]: {
    type: 'object',
    description: 'BackendStatus is what one replica of the kubectl-custom backend says about itself: its caches, watches, requests in flight, latency and memory. Computed when read, never stored (as componentstatuses); each replica answers about itself, so a list shows the replica that answered. kubectl custom doctor reads it.',
    properties: {
      ...typeMeta,
      metadata: { ...ref(`${META}.ObjectMeta`), description: 'name: the replica\'s pod (its hostname outside a cluster); creationTimestamp: when it started.' },
      status: { ...ref(`${PREFIX}.BackendStatusDetail`), description: 'The replica\'s state when it answered.' },
    },
    'x-kubernetes-group-version-kind': gvk('BackendStatus'),
  },
  [`${PREFIX}.BackendStatusList`]: {
    type: 'object',
    description: 'BackendStatusList holds the BackendStatus of the replica that answered.',
    required: ['items'],
    properties: {
      ...typeMeta,
      metadata: { ...ref(`${META}.ListMeta`), description: 'Standard list metadata.' },
      items: { type: 'array', description: 'The replica that answered.', items: ref(`${PREFIX}.BackendStatus`) },
    },
    'x-kubernetes-group-version-kind': gvk('BackendStatusList'),
  },
  [`${PREFIX}.BackendStatusDetail`]: {
    type: 'object',
    description: 'A replica\'s caches, watches, requests and memory.',
    properties: {
      version: str('The backend\'s version.'),
      startTime: str('When the replica started (RFC 3339).', { format: 'date-time' }),
      caches: { type: 'array', description: 'Each watch-fed cache the replica keeps.', items: ref(`${PREFIX}.BackendCacheStatus`) },
      watches: int('Open watches of customresources.'),
      inFlight: {
        type: 'object',
        description: 'Requests in flight against the limits (--max-requests-inflight, --max-mutating-requests-inflight; watches not counted), over the last minutes.',
        properties: {
          windowSeconds: int('The window peak and rejected are over.'),
          nonMutating: ref(`${PREFIX}.InFlight`),
          mutating: ref(`${PREFIX}.InFlight`),
        },
      },
      latency: {
        type: 'object',
        description: 'Request latency from apiserver_request_duration_seconds (watches excluded), over the last minutes, estimated as histogram_quantile does.',
        properties: {
          windowSeconds: int('The window the quantiles are over: the last five minutes, or since start.'),
          requests: int('Requests finished in the window.'),
          p50Seconds: { type: 'number', description: 'The median, in seconds; absent without requests.' },
          p99Seconds: { type: 'number', description: 'The 99th percentile, in seconds; absent without requests.' },
        },
      },
      memory: {
        type: 'object',
        description: 'Memory against the container\'s limit.',
        properties: {
          rssBytes: int('Resident set size.'),
          limitBytes: int('The container\'s memory limit (cgroup v2 memory.max or v1 memory.limit_in_bytes); absent without one.'),
          limitSource: str('The file the limit was read from.'),
        },
      },
    },
  },
  [`${PREFIX}.BackendCacheStatus`]: {
    type: 'object',
    description: 'One watch-fed cache: a list, then a watch, of one collection of kube-apiserver.',
    properties: {
      resource: str('What it reflects: resource.group (the resource alone for the core group).'),
      namespace: str('The namespace it is limited to, if any.'),
      name: str('The one object it follows, if any.'),
      synced: { type: 'boolean', description: 'Its first list has arrived.' },
      watching: { type: 'boolean', description: 'Its watch stream is open.' },
      resourceVersion: str('The resourceVersion it has reached: of its last list, event or bookmark.'),
      objects: int('Objects it holds.'),
      lastEventTime: str('When it last heard from kube-apiserver: a list, an event or a bookmark (RFC 3339). kube-apiserver bookmarks a watch about once a minute.', { format: 'date-time' }),
      secondsSinceLastEvent: int('Whole seconds since lastEventTime, on the replica\'s clock.'),
    },
  },
  [`${PREFIX}.InFlight`]: {
    type: 'object',
    description: 'Requests in flight against one limit.',
    properties: {
      current: int('In flight now, this request included.'),
      peak: int('The most at once in the window.'),
      limit: int('The limit; 0: none.'),
      rejected: int('Requests refused with 429 in the window.'),
    },
  },
  [`${META}.ObjectMeta`]: {
    type: 'object',
    description: 'ObjectMeta is metadata that all persisted resources must have.',
    properties: {
      name: str('Name must be unique within a namespace.'),
      namespace: str('Namespace defines the space within which each name must be unique.'),
      uid: str('UID is the unique in time and space value for this object.'),
      resourceVersion: str('An opaque value that represents the internal version of this object; used for watches and optimistic concurrency.'),
      generation: int('A sequence number representing a specific generation of the desired state.'),
      creationTimestamp: str('When this object was created (RFC 3339).', { format: 'date-time' }),
      deletionTimestamp: str('When this object will be deleted (RFC 3339).', { format: 'date-time' }),
      labels: { type: 'object', description: 'Map of string keys and values that can be used to organize and categorize objects.', additionalProperties: { type: 'string' } },
      annotations: { type: 'object', description: 'Unstructured key value map stored with a resource.', additionalProperties: { type: 'string' } },
      finalizers: { type: 'array', items: { type: 'string' }, description: 'Must be empty before the object is deleted from the registry.' },
      ownerReferences: { type: 'array', items: { type: 'object' }, description: 'Objects depended on by this object.' },
    },
  },
  [`${META}.ListMeta`]: {
    type: 'object',
    description: 'ListMeta describes metadata that synthetic resources must have.',
    properties: {
      resourceVersion: str('The resourceVersion of the list; watch from it to see later changes.'),
      continue: str('Set when more results are available; pass it as `continue` to get the next page.'),
      remainingItemCount: int('How many items remain after this page.'),
    },
  },
  [`${META}.Status`]: {
    type: 'object',
    description: 'Status is a return value for calls that don\'t return other objects.',
    properties: {
      ...typeMeta,
      status: str('Status of the operation: Success or Failure.'),
      message: str('A human-readable description of the status of this operation.'),
      reason: str('A machine-readable description of why this operation is in the Failure status.'),
      code: { type: 'integer', format: 'int32', description: 'Suggested HTTP return code for this status.' },
      details: { type: 'object', description: 'Extended data associated with the reason.', additionalProperties: true },
    },
    'x-kubernetes-group-version-kind': [{ group: '', version: 'v1', kind: 'Status' }],
  },
  [`${META}.APIResourceList`]: {
    type: 'object',
    description: 'APIResourceList is a list of APIResource, used to expose the name of the resources supported in a specific group and version.',
    properties: { ...typeMeta, groupVersion: str('The group and version of this resource list.'), resources: { type: 'array', items: { type: 'object' } } },
  },
};

// POST /apis/custom.example.com/v1/namespaces/NS/notificationpolicies/NAME/test
// (`kubectl custom notify test`, issue 22): sends one test event to each
// sink of the policy now, once, with the Secrets and the network the
// deliveries use, and answers what each sink said. Authorized like every
// request (create on notificationpolicies/test in custom.example.com,
// kubectl-custom-admin's). It is an action on a resource that lives in
// example.com, so discovery does not list notificationpolicies here:
// `kubectl get notificationpolicies` keeps meaning the CRD alone.
import { randomUUID } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import { GROUP, GROUP_VERSION, NOTIFICATION_POLICY_RESOURCE, STORAGE_GROUP, STORAGE_PATH } from '../../../api/src/names.ts';
import type { NotificationPolicy, NotificationTestResult } from '../../../api/src/types.ts';
import { ApiError } from '../../../client/src/errors.ts';
import type { RestClient } from '../../../client/src/rest-client.ts';
import type { UserInfo } from '../auth/user.ts';
import { writeJson } from '../http/respond.ts';
import type { RequestInfo } from '../request/request-info.ts';
import { newMethodNotSupported, newNotFound, newPathNotFound } from '../status/status-error.ts';
import type { CloudEvent } from './cloudevent.ts';
import type { SinkSender } from './sink-sender.ts';

export const NOTIFY_TEST_SUBRESOURCE = 'test';

const GR = { group: STORAGE_GROUP, resource: NOTIFICATION_POLICY_RESOURCE };

/** The test event: a CloudEvent of type com.example.custom.test, shaped as the real ones (a receiver's parser is exercised too). */
export function testEvent(policy: { namespace: string; name: string }, user: string, now: Date): CloudEvent {
  const time = now.toISOString();
  const entry = { seq: 0, action: 'promote' as const, from: 'test', to: 'test', user, time, reason: `a test event from kubectl custom notify test (NotificationPolicy ${policy.namespace}/${policy.name})`, hash: `test-${randomUUID()}` };
  return {
    specversion: '1.0',
    id: entry.hash,
    source: `${STORAGE_PATH}/namespaces/${policy.namespace}/${NOTIFICATION_POLICY_RESOURCE}/${policy.name}`,
    type: 'com.example.custom.test',
    time,
    subject: `${policy.namespace}/${policy.name}`,
    datacontenttype: 'application/json',
    data: { object: { namespace: policy.namespace, name: policy.name }, event: 'promoted', entry },
  };
}

export async function serveNotifyTest(res: ServerResponse, info: RequestInfo, user: UserInfo, deps: { client: RestClient; sender: SinkSender; now(): Date }): Promise<void> {
  if (info.subresource !== NOTIFY_TEST_SUBRESOURCE || !info.name || !info.namespace) throw newPathNotFound();
  if (info.verb !== 'create') throw newMethodNotSupported({ group: GROUP, resource: `${NOTIFICATION_POLICY_RESOURCE}/${NOTIFY_TEST_SUBRESOURCE}` }, info.verb);
  let policy: NotificationPolicy;
  try {
    policy = await deps.client.json<NotificationPolicy>('GET', `${STORAGE_PATH}/namespaces/${info.namespace}/${NOTIFICATION_POLICY_RESOURCE}/${info.name}`, { timeoutMs: 10_000 });
  } catch (err) {
    if (err instanceof ApiError && err.code === 404) throw newNotFound(GR, info.name);
    throw err;
  }
  const ev = testEvent({ namespace: info.namespace, name: info.name }, user.name, deps.now());
  const sinks = await Promise.all(policy.spec.sinks.map(async (sink) => {
    try {
      const status = await deps.sender.send(info.namespace, sink, { ...ev, id: `${ev.id}.${sink.name}` });
      return { name: sink.name, ok: true, status, message: `${sink.webhook ? 'webhook' : 'slack'} answered ${status}` };
    } catch (err) {
      const status = (err as { status?: number }).status;
      return { name: sink.name, ok: false, ...(status !== undefined ? { status } : {}), message: err instanceof Error ? err.message : String(err) };
    }
  }));
  const result: NotificationTestResult = { apiVersion: GROUP_VERSION, kind: 'NotificationTestResult', metadata: { name: info.name, namespace: info.namespace }, sinks };
  writeJson(res, 200, result);
}

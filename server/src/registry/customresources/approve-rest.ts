// POST …/customresources/NAME/approve: four eyes. `{to?, from?, reason?,
// revoke?}` approves (or revokes the caller's approval of) the move from the
// current state into `to` (the next state by default). It needs `create` on
// customresources/approve (checked before it gets here) and `approve` on
// states/<to>, asked here: a second SubjectAccessReview, as for `enter`.
// A ServiceAccount's approval is refused (422) where it would not count:
// unless a GatePolicy rule selecting the object says
// `serviceAccountApprovals: true` for the target.
// Each approval and revocation is an entry in the trail and an Event.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { GROUP, GROUP_RESOURCE, STATES_RESOURCE, VERSION } from '../../../../api/src/names.ts';
import type { StoredObject } from '../../../../api/src/types.ts';
import type { UserInfo } from '../../auth/user.ts';
import { readJsonBody } from '../../http/body.ts';
import { negotiate, PLAIN_TARGETS } from '../../http/negotiate.ts';
import { writeObject } from '../../http/respond.ts';
import type { RequestInfo } from '../../request/request-info.ts';
import { decideApproval, isServiceAccount, type ApprovalRequest } from '../../state/approvals.ts';
import { SPEC_ONLY, type GateSources } from '../../state/gate-sources.ts';
import { append } from '../../state/history.ts';
import { newConflict, newForbidden, newInvalid, StatusError } from '../../status/status-error.ts';
import { guardedWrite } from './guarded-write.ts';
import type { WriteDeps } from './state-rest.ts';
import type { SubresourceHandler } from './handlers.ts';
import { dryRunOf, KIND_REF, parseBody } from './request-body.ts';

/** Many people approve at once (a release meeting): more attempts than a state change gets. */
const MAX_ATTEMPTS = 25;

export interface ApproveRestDeps extends WriteDeps {
  /** The object as it is now (503 before the cache syncs, 404 when absent). */
  read(namespace: string, name: string): StoredObject;
  /** The describe-state document for the answer. */
  describe(obj: StoredObject, user: UserInfo): Promise<unknown>;
  /** Policies (where ServiceAccounts' approvals count); the object's own spec alone when absent, which lets them count nowhere. */
  gates?: GateSources;
}

const APPROVAL_BODY = { strings: ['to', 'from', 'reason'], flag: 'revoke' } as const;

/** Reads `{to?, from?, reason?, revoke?}` (see parseBody). */
export function parseApprovalBody(body: unknown, name: string): ApprovalRequest {
  return parseBody(body, name, APPROVAL_BODY);
}

export function approveRest(d: ApproveRestDeps): SubresourceHandler {
  const mayApprove = async (user: UserInfo, ns: string, to: string) =>
    (await d.authorizer.authorize(user, { resource: { namespace: ns, verb: 'approve', group: GROUP, version: VERSION, resource: STATES_RESOURCE, name: to } })).allowed;

  /** Decides the approval on the object as read, and what it writes (nothing when it changes nothing). */
  const decide = async (obj: StoredObject, user: UserInfo, request: ApprovalRequest) => {
    const { name, namespace: ns } = obj.metadata;
    if (obj.metadata.deletionTimestamp) throw newConflict(GROUP_RESOURCE, name, 'the object is being deleted; its history is being archived');
    const now = d.clock.now();
    const gates = d.gates ?? SPEC_ONLY;
    const decision = decideApproval(obj, request, user.name, now, {
      serviceAccount: isServiceAccount(user),
      serviceAccountApprovals: (to) => gates.effective(obj).serviceAccountApprovals?.has(to) ?? false,
    });
    if ('kind' in decision) {
      if (decision.kind === 'conflict') throw newConflict(GROUP_RESOURCE, name, `the object is in state ${JSON.stringify(decision.current)}, not ${JSON.stringify(request.from)}; look at it again (kubectl custom describe-state ${name}) and retry`);
      throw newInvalid(KIND_REF, name, decision.causes);
    }
    if (!(await mayApprove(user, ns, decision.to))) {
      throw newForbidden(GROUP_RESOURCE, name, `User ${JSON.stringify(user.name)} cannot approve a move into state ${JSON.stringify(decision.to)}; that needs the "approve" verb on resource "${STATES_RESOURCE}" in API group "${GROUP}" with resourceNames ["${decision.to}"] in the namespace "${ns}"`);
    }
    if (decision.unchanged) return undefined;
    const action = request.revoke ? ('revoke' as const) : ('approve' as const);
    const { window, archive } = append(obj.status?.history ?? [], { action, from: decision.from, to: decision.to, user: user.name, time: now.toISOString(), ...(request.reason ? { reason: request.reason } : {}) });
    return { status: { ...obj.status, approvals: decision.approvals, history: window }, archive, decision: { ...decision, action } };
  };

  return {
    verbs: ['create'],
    async handle(req: IncomingMessage, res: ServerResponse, info: RequestInfo, user: UserInfo, url: URL) {
      const target = negotiate(req.headers.accept, PLAIN_TARGETS);
      const dryRun = dryRunOf(url);
      const request = parseApprovalBody(await readJsonBody(req), info.name);
      const label = request.revoke ? 'revoke' : 'approve';
      try {
        const { written, decision } = await guardedWrite(d, d.read(info.namespace, info.name), (obj) => decide(obj, user, request), { dryRun, maxAttempts: MAX_ATTEMPTS });
        d.metrics.transitions.inc({ action: label, result: dryRun ? 'dry-run' : decision ? 'accepted' : 'unchanged' });
        if (decision && !dryRun) {
          const verb = decision.action === 'approve' ? 'approved' : 'revoked the approval of';
          void d.events.record(written, 'Normal', decision.action === 'approve' ? 'Approved' : 'ApprovalRevoked', `${user.name} ${verb} the move of ${info.name} from ${decision.from} to ${decision.to}${request.reason ? `: ${request.reason}` : ''}`);
          d.log.info(decision.action === 'approve' ? 'approval given' : 'approval revoked', { object: `${info.namespace}/${info.name}`, from: decision.from, to: decision.to, user: user.name });
        }
        // 201 when an approval was recorded (or would be), 200 when it changed nothing.
        writeObject(res, decision ? 201 : 200, await d.describe(written, user), target);
      } catch (err) {
        d.metrics.transitions.inc({ action: label, result: err instanceof StatusError ? err.status.reason : 'error' });
        throw err;
      }
    },
  };
}

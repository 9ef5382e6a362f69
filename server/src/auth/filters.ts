// The authentication and authorization steps of the chain, as
// k8s.io/apiserver's WithAuthentication and WithAuthorization answer: a
// request no method authenticates, or whose authentication failed (say, the
// TokenReview could not be sent), is 401 Unauthorized, the failure logged
// and never told to the unauthenticated caller; a failed authorization check
// is 500 without its cause (logged), a denial is 403.
import type { IncomingMessage } from 'node:http';
import type { Logger } from '../log/logger.ts';
import type { RequestInfo } from '../request/request-info.ts';
import { describeError, newForbidden, newForbiddenPath, newInternalError, newUnauthorized } from '../status/status-error.ts';
import { attributesOf } from './attributes.ts';
import type { Authenticator, AuthnResult } from './authenticator.ts';
import { forbiddenReason, type Authorizer, type Decision } from './delegated-authz.ts';
import { peerChainOf } from './peer-chain.ts';
import type { DistinctHeaders } from './request-header.ts';
import type { UserInfo } from './user.ts';

export async function authenticateRequest(authenticator: Authenticator, req: IncomingMessage, log: Logger): Promise<UserInfo> {
  const headers = req.headersDistinct as DistinctHeaders;
  let authn: AuthnResult | undefined;
  try {
    authn = await authenticator.authenticate({ peerCertificates: peerChainOf(req), headers });
  } catch (err) {
    log.error('unable to authenticate the request', { error: describeError(err) });
  } finally {
    // The authenticator stripped identity headers from its copy; keep the request itself in step.
    // (HTTP/2's pseudo-headers are not identity headers, and the request's URL is read from them.)
    for (const h of Object.keys(req.headers)) if (!h.startsWith(':') && !Object.hasOwn(headers, h)) delete req.headers[h];
  }
  if (!authn) throw newUnauthorized();
  return authn.user;
}

export async function authorizeRequest(authorizer: Authorizer, user: UserInfo, info: RequestInfo, log: Logger): Promise<void> {
  const attrs = attributesOf(info);
  let decision: Decision;
  try {
    decision = await authorizer.authorize(user, attrs);
  } catch (err) {
    log.error('unable to authorize the request', { error: describeError(err) });
    throw newInternalError(new Error('the request could not be authorized; the server log has the cause'));
  }
  if (decision.allowed) return;
  const why = forbiddenReason(user, attrs, decision.reason);
  throw info.isResourceRequest ? newForbidden({ group: info.apiGroup, resource: info.resource }, info.name, why) : newForbiddenPath(why);
}

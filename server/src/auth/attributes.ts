// The authorizer's view of a request (k8s.io/apiserver's
// GetAuthorizerAttributes): resource attributes for API requests, path and
// verb for the rest.
import type { RequestInfo } from '../request/request-info.ts';
import type { Attributes } from './delegated-authz.ts';

export function attributesOf(info: RequestInfo): Attributes {
  if (!info.isResourceRequest) return { nonResource: { path: info.path, verb: info.verb } };
  return {
    resource: {
      verb: info.verb,
      group: info.apiGroup,
      version: info.apiVersion,
      resource: info.resource,
      ...(info.subresource ? { subresource: info.subresource } : {}),
      ...(info.namespace ? { namespace: info.namespace } : {}),
      ...(info.name ? { name: info.name } : {}),
    },
  };
}

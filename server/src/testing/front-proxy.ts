// The authentication settings kube-apiserver publishes for a front proxy
// with its default flags, for tests that build an Authenticator.
import type { X509Certificate } from 'node:crypto';
import type { AuthenticationSettings } from '../auth/authn-config.ts';
import type { RequestHeaderNames } from '../auth/request-header.ts';

/** --requestheader-*-headers as kube-apiserver's defaults set them. */
export const KUBE_APISERVER_HEADER_NAMES: RequestHeaderNames = {
  usernameHeaders: ['X-Remote-User'],
  uidHeaders: ['X-Remote-Uid'],
  groupHeaders: ['X-Remote-Group'],
  extraHeaderPrefixes: ['X-Remote-Extra-'],
};

/** Settings trusting `requestHeaderCAs` for the proxy named front-proxy-client, and `clientCAs` for users' certificates. */
export function frontProxySettings(requestHeaderCAs: X509Certificate[], clientCAs: X509Certificate[] = []): AuthenticationSettings {
  return { clientCAs, requestHeaderCAs, allowedNames: ['front-proxy-client'], ...KUBE_APISERVER_HEADER_NAMES, generation: 1 };
}

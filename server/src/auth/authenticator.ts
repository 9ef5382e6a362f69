// Delegated authentication, in the order k8s.io/apiserver unions it: the
// front proxy's client certificate with X-Remote-* headers, a client
// certificate from the cluster's client CA, a bearer token via TokenReview.
// The identity headers are trusted only after the first check passes, and are
// removed from every request whatever the outcome.
import type { X509Certificate } from 'node:crypto';
import type { AuthenticationSettings } from './authn-config.ts';
import { identityHeaderNames, userFromHeaders, type DistinctHeaders } from './request-header.ts';
import type { TokenReviewer } from './token-review.ts';
import { withAuthenticatedGroup, type UserInfo } from './user.ts';
import { verifyClientChain } from './x509-chain.ts';
import { commonName, organizations } from './x509-fields.ts';

export type AuthnMethod = 'front-proxy' | 'x509' | 'token';

export interface AuthnRequest {
  /** The peer's certificate chain, leaf first; empty when none was sent. */
  peerCertificates: X509Certificate[];
  headers: DistinctHeaders;
}

export interface AuthnResult {
  user: UserInfo;
  method: AuthnMethod;
}

export interface AuthnOptions {
  settings: () => AuthenticationSettings;
  tokens: TokenReviewer;
  now?: () => Date;
}

export class Authenticator {
  private readonly opts: AuthnOptions;

  constructor(opts: AuthnOptions) {
    this.opts = opts;
  }

  /**
   * Resolves the user, or undefined when no method authenticates the request
   * (the caller answers 401). Mutates `req.headers`: identity headers are removed.
   */
  async authenticate(req: AuthnRequest): Promise<AuthnResult | undefined> {
    const s = this.opts.settings();
    const now = this.opts.now?.() ?? new Date();
    try {
      return await this.tryAll(req, s, now);
    } finally {
      for (const h of identityHeaderNames(s, req.headers)) delete req.headers[h];
      // Defence in depth: the default header names go too, even if the
      // settings in force name others.
      for (const h of Object.keys(req.headers)) if (h.startsWith('x-remote-')) delete req.headers[h];
    }
  }

  private async tryAll(req: AuthnRequest, s: AuthenticationSettings, now: Date): Promise<AuthnResult | undefined> {
    const [leaf, ...intermediates] = req.peerCertificates;
    if (leaf) {
      const proxy = verifyClientChain(leaf, intermediates, s.requestHeaderCAs, now);
      if (proxy.ok) {
        const cn = commonName(leaf) ?? '';
        if (s.allowedNames.length === 0 || s.allowedNames.includes(cn)) {
          const user = userFromHeaders(req.headers, s);
          if (user) return { user: withAuthenticatedGroup(user), method: 'front-proxy' };
        }
      }
      const client = verifyClientChain(leaf, intermediates, s.clientCAs, now);
      if (client.ok) {
        const name = commonName(leaf);
        if (name) return { user: withAuthenticatedGroup({ name, groups: organizations(leaf), extra: {} }), method: 'x509' };
      }
    }
    const auth = req.headers['authorization']?.[0];
    const m = auth ? /^Bearer\s+(\S+)\s*$/i.exec(auth) : null;
    if (m?.[1]) {
      const user = await this.opts.tokens.review(m[1]);
      if (user) return { user: withAuthenticatedGroup(user), method: 'token' };
    }
    return undefined;
  }
}

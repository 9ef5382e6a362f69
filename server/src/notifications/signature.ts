// Signed webhooks as the Standard Webhooks specification has them
// (standardwebhooks.com, used by Svix and others, with libraries in every
// language): three headers, `webhook-id` (the CloudEvent's id),
// `webhook-timestamp` (Unix seconds) and `webhook-signature`
// ("v1,<base64 HMAC-SHA256 of id.timestamp.body>"), the key being the
// Secret's value. A receiver recomputes the HMAC over the exact body bytes,
// compares in constant time, and refuses a timestamp more than five minutes
// away (replays). The README shows how.
import { createHmac, timingSafeEqual } from 'node:crypto';

export interface SignedHeaders {
  'webhook-id': string;
  'webhook-timestamp': string;
  'webhook-signature': string;
}

/** The key as the spec writes it ("whsec_" and base64), or any other Secret value taken as raw bytes. */
function keyBytes(secret: string): Buffer {
  return secret.startsWith('whsec_') ? Buffer.from(secret.slice('whsec_'.length), 'base64') : Buffer.from(secret, 'utf8');
}

function hmac(secret: string, id: string, timestamp: string, body: string): string {
  return createHmac('sha256', keyBytes(secret)).update(`${id}.${timestamp}.${body}`).digest('base64');
}

export function sign(secret: string, id: string, body: string, now: Date): SignedHeaders {
  const timestamp = String(Math.floor(now.getTime() / 1000));
  return { 'webhook-id': id, 'webhook-timestamp': timestamp, 'webhook-signature': `v1,${hmac(secret, id, timestamp, body)}` };
}

/** What a receiver does: true when one of the signatures (space-separated, during a key rotation) matches and the timestamp is within `toleranceSeconds`. */
export function verify(secret: string, headers: SignedHeaders, body: string, now: Date, toleranceSeconds = 300): boolean {
  const ts = Number(headers['webhook-timestamp']);
  if (!Number.isInteger(ts) || Math.abs(now.getTime() / 1000 - ts) > toleranceSeconds) return false;
  const want = Buffer.from(hmac(secret, headers['webhook-id'], headers['webhook-timestamp'], body), 'base64');
  return headers['webhook-signature'].split(' ').some((s) => {
    const [version, value] = s.split(',');
    if (version !== 'v1' || !value) return false;
    const got = Buffer.from(value, 'base64');
    return got.length === want.length && timingSafeEqual(got, want);
  });
}

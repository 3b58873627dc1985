import { createHmac, timingSafeEqual } from 'node:crypto';
import { BusinessRuleError, ForbiddenError } from '../../platform/errors.ts';
import { LINK_ACTIONS, type LinkAction } from './schema.ts';

/**
 * Signed links in the "your next release is coming" email: confirm, skip this release, or cancel
 * the enrollment without signing in. Pure (no I/O, the caller passes `now`) so the rules are
 * unit-tested on their own.
 *
 * Token: `v1.<base64url(JSON claims)>.<base64url(HMAC-SHA256)>`. The key is derived from the app
 * secret for this one purpose, so a link signature can never be replayed as a session token or an
 * admission token signed with the same secret. The claims are not secret (ids, the action and the
 * expiry) but they are bound: change any of them and the signature no longer matches.
 */

export interface LinkClaims {
  enrollmentId: string;
  releaseSku: string;
  action: LinkAction;
  expiresAt: Date;
}

interface WireClaims {
  e: string;
  r: string;
  a: string;
  /** Expiry, whole seconds since the epoch. */
  x: number;
}

const VERSION = 'v1';
const MAX_TOKEN_LENGTH = 512;

function linkKey(appSecret: string): Buffer {
  return createHmac('sha256', appSecret).update('mintdesk:subscription-link:v1').digest();
}

function sign(body: string, appSecret: string): string {
  return createHmac('sha256', linkKey(appSecret)).update(`${VERSION}.${body}`).digest('base64url');
}

const invalid = () => new ForbiddenError('subscription.link_invalid', 'This link is not valid. Sign in to manage your enrollment.');

export function signLink(claims: LinkClaims, appSecret: string): string {
  if (!LINK_ACTIONS.includes(claims.action)) throw new TypeError(`unknown link action ${String(claims.action)}`);
  const wire: WireClaims = { e: claims.enrollmentId, r: claims.releaseSku, a: claims.action, x: Math.floor(claims.expiresAt.getTime() / 1000) };
  const body = Buffer.from(JSON.stringify(wire)).toString('base64url');
  return `${VERSION}.${body}.${sign(body, appSecret)}`;
}

/**
 * The claims of a genuine, unexpired token. A malformed or tampered token is `subscription.link_invalid`
 * (403); a genuine one past its expiry is `subscription.link_expired` (422), so the page can say
 * "this release has passed" instead of "this link is broken".
 */
export function verifyLink(token: string, appSecret: string, now: Date): LinkClaims {
  if (typeof token !== 'string' || token.length > MAX_TOKEN_LENGTH) throw invalid();
  const parts = token.split('.');
  if (parts.length !== 3 || parts[0] !== VERSION) throw invalid();
  const [, body, signature] = parts as [string, string, string];
  const expected = Buffer.from(sign(body, appSecret));
  const given = Buffer.from(signature);
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) throw invalid();

  let wire: Partial<WireClaims>;
  try {
    wire = JSON.parse(Buffer.from(body, 'base64url').toString('utf8')) as Partial<WireClaims>;
  } catch {
    throw invalid();
  }
  // A valid signature over malformed claims means a signing bug, not an attacker; still refuse it.
  if (typeof wire.e !== 'string' || typeof wire.r !== 'string' || typeof wire.x !== 'number' || !LINK_ACTIONS.includes(wire.a as LinkAction)) throw invalid();
  const expiresAt = new Date(wire.x * 1000);
  if (now.getTime() >= expiresAt.getTime()) {
    throw new BusinessRuleError('subscription.link_expired', 'This link has expired. Sign in to manage your enrollment.', { expiredAt: expiresAt.toISOString() });
  }
  return { enrollmentId: wire.e, releaseSku: wire.r, action: wire.a as LinkAction, expiresAt };
}

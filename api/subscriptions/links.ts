import { z } from 'zod';
import { BusinessRuleError, ForbiddenError } from '../../platform/errors.ts';
import { createSignedTokens } from '../../platform/signed-tokens.ts';
import { LINK_ACTIONS } from './schema.ts';

/**
 * Signed links in the "your next release is coming" email: confirm, skip this release, or cancel
 * the enrollment without signing in. Pure (no I/O, the caller passes `now`) so the rules are
 * unit-tested on their own.
 *
 * The token is platform/signed-tokens.ts with the purpose `subscription-link`: its key is derived
 * for this one purpose, so a link can never be replayed as an unsubscribe, visitor or admission
 * token signed with the same secret. The claims are not secret (ids, the action and the expiry)
 * but they are bound: change any of them and the signature no longer matches.
 */

const WireClaims = z.strictObject({ enrollmentId: z.string().min(1), releaseSku: z.string().min(1), action: z.enum(LINK_ACTIONS) });

export type LinkClaims = z.infer<typeof WireClaims> & { expiresAt: Date };

const tokensFor = (appSecret: string) => createSignedTokens(appSecret, { purpose: 'subscription-link', claims: WireClaims, maxLength: 512 });

const invalid = () => new ForbiddenError('subscription.link_invalid', 'This link is not valid. Sign in to manage your enrollment.');

export function signLink(claims: LinkClaims, appSecret: string): string {
  if (!LINK_ACTIONS.includes(claims.action)) throw new TypeError(`unknown link action ${String(claims.action)}`);
  const { expiresAt, ...wire } = claims;
  return tokensFor(appSecret).sign(wire, { expiresAt });
}

/**
 * The claims of a genuine, unexpired token. A malformed or tampered token is `subscription.link_invalid`
 * (403); a genuine one past its expiry is `subscription.link_expired` (422), so the page can say
 * "this release has passed" instead of "this link is broken".
 */
export function verifyLink(token: string, appSecret: string, now: Date): LinkClaims {
  const verified = tokensFor(appSecret).verify(token, now);
  // Every link is signed with an expiry; one without is not ours.
  if (verified.status === 'invalid' || verified.expiresAt === null) throw invalid();
  if (verified.status === 'expired') {
    throw new BusinessRuleError('subscription.link_expired', 'This link has expired. Sign in to manage your enrollment.', { expiredAt: verified.expiresAt.toISOString() });
  }
  return { ...verified.claims, expiresAt: verified.expiresAt };
}

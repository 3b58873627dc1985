import { createHmac, timingSafeEqual } from 'node:crypto';
import type { z } from 'zod';

/**
 * The one format of every token mintdesk signs and hands out (waiting-room visitor and admission
 * tokens, one-click unsubscribe links, subscription links): claims anyone may read but nobody can
 * change, bound to one purpose and optionally to an expiry.
 *
 *   token   = base64url(JSON { c: claims, x?: expiry in ms since the epoch }) "." base64url(mac)
 *   mac     = HMAC-SHA256(purpose key, the payload text before the dot)
 *   key     = HMAC-SHA256(app secret, "mintdesk:signed-token:v1:" + purpose)
 *
 * The key is derived per purpose, so a token made for one purpose never verifies for another even
 * with the same claims and secret. The claims are checked with the purpose's zod schema on both
 * sides, and the MAC is compared as text: a decoded comparison would also accept the other
 * spellings of the last base64 character.
 */

export interface SignedTokenPurpose<Schema extends z.ZodType> {
  /** A stable name, e.g. `email-unsubscribe`; changing it invalidates every token issued. */
  purpose: string;
  /** The claims a token carries (keep them small: tokens travel in URLs and headers). */
  claims: Schema;
  /**
   * Longer input is refused before any work.
   * @defaultValue 1024
   */
  maxLength?: number;
}

export type VerifiedToken<Claims> =
  | { status: 'valid'; claims: Claims; expiresAt: Date | null }
  /** Genuine, but at or past its expiry; the claims say what it was for. */
  | { status: 'expired'; claims: Claims; expiresAt: Date }
  /** Malformed, forged, altered, signed with another secret or for another purpose. */
  | { status: 'invalid' };

export interface SignedTokens<Schema extends z.ZodType> {
  sign(claims: z.input<Schema>, options?: { expiresAt?: Date }): string;
  /** `now` decides expiry; a token without one never expires. */
  verify(token: unknown, now?: Date): VerifiedToken<z.output<Schema>>;
}

const INVALID = { status: 'invalid' } as const;

export function createSignedTokens<Schema extends z.ZodType>(secret: string | Buffer, purpose: SignedTokenPurpose<Schema>): SignedTokens<Schema> {
  if (!purpose.purpose) throw new TypeError('a signed token needs a purpose');
  const key = createHmac('sha256', secret).update(`mintdesk:signed-token:v1:${purpose.purpose}`).digest();
  const mac = (payload: string) => createHmac('sha256', key).update(payload).digest('base64url');
  const maxLength = purpose.maxLength ?? 1024;

  return {
    sign(claims, options = {}) {
      const parsed = purpose.claims.safeParse(claims);
      // Signing claims the verifier would refuse is a bug in the caller, never a user's mistake.
      if (!parsed.success) throw new TypeError(`claims do not fit the ${purpose.purpose} token: ${parsed.error.issues.map((issue) => issue.message).join('; ')}`);
      const expiry = options.expiresAt?.getTime();
      if (expiry !== undefined && !Number.isFinite(expiry)) throw new TypeError('expiresAt is not a valid date');
      const payload = Buffer.from(JSON.stringify(expiry === undefined ? { c: parsed.data } : { c: parsed.data, x: expiry }), 'utf8').toString('base64url');
      return `${payload}.${mac(payload)}`;
    },

    verify(token, now = new Date()) {
      if (typeof token !== 'string' || token.length > maxLength) return INVALID;
      const match = /^([A-Za-z0-9_-]+)\.([A-Za-z0-9_-]{43})$/.exec(token);
      if (!match) return INVALID;
      const [, payload, given] = match as unknown as [string, string, string];
      if (!timingSafeEqual(Buffer.from(given), Buffer.from(mac(payload)))) return INVALID;
      let wire: { c?: unknown; x?: unknown };
      try {
        wire = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as typeof wire;
      } catch {
        return INVALID;
      }
      // A genuine MAC over claims that do not parse means a signing bug or a changed schema: refuse it.
      const claims = purpose.claims.safeParse(wire?.c);
      if (!claims.success) return INVALID;
      if (wire.x === undefined) return { status: 'valid', claims: claims.data, expiresAt: null };
      if (typeof wire.x !== 'number' || !Number.isFinite(wire.x)) return INVALID;
      const expiresAt = new Date(wire.x);
      if (now.getTime() >= wire.x) return { status: 'expired', claims: claims.data, expiresAt };
      return { status: 'valid', claims: claims.data, expiresAt };
    },
  };
}

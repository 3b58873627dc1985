import { z } from 'zod';
import { createSignedTokens } from '../../platform/signed-tokens.ts';
import { NEWSLETTER_TOPICS } from '../customers/schema.ts';

/**
 * Signed one-click unsubscribe links (RFC 8058). The token (platform/signed-tokens.ts, purpose
 * `email-unsubscribe`) names the customer and the newsletter topic, so nobody can unsubscribe
 * someone else by editing a link. It does not expire: an unsubscribe link in an old newsletter
 * must still work.
 */
const UnsubscribeClaims = z.strictObject({
  customerId: z.string().regex(/^[0-9a-f-]{36}$/i),
  topic: z.enum(NEWSLETTER_TOPICS),
});
export type UnsubscribeSubject = z.infer<typeof UnsubscribeClaims>;

// The route takes at most 300 characters (api/email/routes.ts).
const tokensFor = (secret: string) => createSignedTokens(secret, { purpose: 'email-unsubscribe', claims: UnsubscribeClaims, maxLength: 300 });

export function unsubscribeToken(secret: string, subject: UnsubscribeSubject): string {
  return tokensFor(secret).sign(subject);
}

/** The customer and topic of a genuine token; undefined for anything forged, truncated or malformed. */
export function verifyUnsubscribeToken(secret: string, token: string): UnsubscribeSubject | undefined {
  const verified = tokensFor(secret).verify(token);
  return verified.status === 'valid' ? verified.claims : undefined;
}

export function unsubscribeUrl(baseUrl: string, token: string): string {
  return `${baseUrl.replace(/\/+$/, '')}/api/email/unsubscribe/${token}`;
}

/**
 * RFC 2369 / RFC 8058 headers of a marketing email. `List-Unsubscribe-Post` tells the mailbox
 * provider it may unsubscribe with a single POST (no page, no confirmation), which our POST route does.
 */
export function listUnsubscribeHeaders(options: { url: string; mailto?: { address: string; subject: string } | undefined }): Record<string, string> {
  const targets = [`<${options.url}>`];
  // The mailto fallback is for clients without one-click support; it reaches a mailbox people read.
  if (options.mailto) targets.push(`<mailto:${options.mailto.address}?subject=${encodeURIComponent(options.mailto.subject)}>`);
  return {
    'List-Unsubscribe': targets.join(', '),
    'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click',
  };
}

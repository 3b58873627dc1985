import { createHmac, timingSafeEqual } from 'node:crypto';
import { NEWSLETTER_TOPICS, type NewsletterTopic } from '../customers/schema.ts';

/**
 * Signed one-click unsubscribe links (RFC 8058). The token names the customer and the newsletter
 * topic and carries an HMAC of both under the app secret, so nobody can unsubscribe someone else
 * by editing a link. It does not expire: an unsubscribe link in an old newsletter must still work.
 *
 * Format: base64url("<customerId>:<topic>") "." base64url(HMAC-SHA256). The MAC input starts with a
 * purpose label because the app secret also signs sessions and admission tokens.
 */
const PURPOSE = 'mintdesk/email-unsubscribe/v1';

export interface UnsubscribeSubject {
  customerId: string;
  topic: NewsletterTopic;
}

const mac = (secret: string, customerId: string, topic: string) => createHmac('sha256', secret).update(`${PURPOSE}\n${customerId}\n${topic}`).digest();

export function unsubscribeToken(secret: string, subject: UnsubscribeSubject): string {
  const payload = Buffer.from(`${subject.customerId}:${subject.topic}`, 'utf8').toString('base64url');
  return `${payload}.${mac(secret, subject.customerId, subject.topic).toString('base64url')}`;
}

/** The customer and topic of a genuine token; undefined for anything forged, truncated or malformed. */
export function verifyUnsubscribeToken(secret: string, token: string): UnsubscribeSubject | undefined {
  if (typeof token !== 'string' || token.length > 300) return undefined;
  const match = /^([A-Za-z0-9_-]{1,200})\.([A-Za-z0-9_-]{43})$/.exec(token);
  if (!match) return undefined;
  const decoded = Buffer.from(match[1]!, 'base64url').toString('utf8');
  const separator = decoded.lastIndexOf(':');
  if (separator < 1) return undefined;
  const customerId = decoded.slice(0, separator);
  const topic = decoded.slice(separator + 1);
  if (!/^[0-9a-f-]{36}$/i.test(customerId) || !(NEWSLETTER_TOPICS as readonly string[]).includes(topic)) return undefined;
  // Compare the text, not decoded bytes: the last base64 character carries two unused bits, so
  // several spellings decode to the same MAC and a decoded comparison would accept them all.
  const given = Buffer.from(match[2]!, 'utf8');
  const expected = Buffer.from(mac(secret, customerId, topic).toString('base64url'), 'utf8');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return undefined;
  return { customerId, topic: topic as NewsletterTopic };
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

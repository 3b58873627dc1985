import { createHmac } from 'node:crypto';
import { AppError, ValidationError } from '../../platform/errors.ts';
import type { HighRiskTarget } from './rules-schema.ts';

/**
 * The high-risk list holds emails and shipping addresses taken from transactions confirmed
 * fraudulent. It must be usable for matching without being a list of people: entries are keyed
 * hashes (HMAC-SHA256 with a server secret), carry no customer id, and cannot be reversed by
 * hashing a dictionary of emails or addresses unless the secret leaks too. Storage (Mongo, unique
 * index on kind+hash) is wired by the caller; everything here is a pure function.
 *
 * Email normalisation choice: lowercase + trim + NFC everywhere; for gmail.com / googlemail.com
 * also drop dots and any "+tag" in the local part, because Gmail delivers all those variants to
 * one mailbox and they are the cheapest way to dodge an exact-match list. Other providers keep
 * their local part as typed (lowercased): their alias rules differ, and merging distinct
 * mailboxes would flag innocent customers.
 */

export const MIN_SECRET_BYTES = 32;

export type FraudSecret = string | Uint8Array;

export interface HighRiskEntryKey {
  kind: HighRiskTarget;
  /** Lowercase hex HMAC-SHA256. */
  hash: string;
}

const DOMAIN_LABEL = /^[a-z0-9_.-]+$/;
const GMAIL_DOMAINS = new Set(['gmail.com', 'googlemail.com']);

export function normalizeEmail(email: string): string {
  const lowered = email.normalize('NFC').trim().toLowerCase();
  const at = lowered.lastIndexOf('@');
  if (at <= 0 || at === lowered.length - 1) return lowered;
  let local = lowered.slice(0, at);
  // A trailing dot is a valid absolute domain name and reaches the same mailbox.
  let domain = lowered.slice(at + 1).replace(/\.$/, '');
  if (GMAIL_DOMAINS.has(domain)) {
    domain = 'gmail.com';
    const canonical = (local.split('+')[0] ?? '').replaceAll('.', '');
    if (canonical !== '') local = canonical;
  }
  return `${local}@${domain}`;
}

/**
 * Case, Unicode form, punctuation and spacing differences ("123 Main St." vs "123  main st") must
 * not defeat a match; the key's structure (which parts it holds) is the caller's choice.
 */
export function normalizeHouseholdKey(householdKey: string): string {
  return householdKey
    .normalize('NFKC')
    .toLowerCase()
    .replace(/[^\p{L}\p{N}]+/gu, ' ')
    .trim();
}

/** Throws at startup rather than hashing with a guessable key. */
export function assertFraudSecret(secret: FraudSecret): void {
  const bytes = typeof secret === 'string' ? Buffer.byteLength(secret, 'utf8') : secret.byteLength;
  if (bytes < MIN_SECRET_BYTES) {
    throw new AppError('internal', 'fraud.secret_too_short', `The fraud hashing secret must be at least ${MIN_SECRET_BYTES} bytes.`);
  }
}

/**
 * HMAC-SHA256 with a domain label, so the same secret can serve several purposes (high-risk list,
 * Redis keys) without a value hashed for one matching a value hashed for another.
 */
export function keyedDigest(secret: FraudSecret, domain: string, value: string): string {
  assertFraudSecret(secret);
  // The label ends at the first newline, so it must not contain one for the encoding to stay unambiguous.
  if (!DOMAIN_LABEL.test(domain)) throw new AppError('internal', 'fraud.digest_domain_invalid', `Invalid digest domain "${domain}".`);
  return createHmac('sha256', secret).update(`mintdesk.fraud.${domain}\n${value}`, 'utf8').digest('hex');
}

export function hashEmail(secret: FraudSecret, email: string): string {
  const normalized = normalizeEmail(email);
  // An empty entry would match every order that lacks an email.
  if (normalized === '') throw new ValidationError('An email is required.', [{ path: 'email', code: 'required', message: 'This field is required.' }]);
  return keyedDigest(secret, 'high-risk.email', normalized);
}

export function hashHouseholdKey(secret: FraudSecret, householdKey: string): string {
  const normalized = normalizeHouseholdKey(householdKey);
  if (normalized === '') throw new ValidationError('A household key is required.', [{ path: 'householdKey', code: 'required', message: 'This field is required.' }]);
  return keyedDigest(secret, 'high-risk.address', normalized);
}

/**
 * The entries to add to the high-risk list when a transaction is confirmed fraudulent. Blank
 * values are skipped and duplicates (two shipments to one address) collapse.
 */
export function highRiskEntryKeys(
  secret: FraudSecret,
  source: { email?: string | undefined; householdKeys?: readonly string[] | undefined },
): HighRiskEntryKey[] {
  const entries: HighRiskEntryKey[] = [];
  const seen = new Set<string>();
  const add = (kind: HighRiskTarget, hash: string) => {
    if (seen.has(`${kind}:${hash}`)) return;
    seen.add(`${kind}:${hash}`);
    entries.push({ kind, hash });
  };
  if (source.email !== undefined && normalizeEmail(source.email) !== '') add('email', hashEmail(secret, source.email));
  for (const key of source.householdKeys ?? []) {
    if (normalizeHouseholdKey(key) !== '') add('shipping_address', hashHouseholdKey(secret, key));
  }
  return entries;
}

/** The hashes to look up for an order at scoring time (`OrderFacts.emailHash` / `shippingAddressHashes`). */
export function orderHighRiskHashes(
  secret: FraudSecret,
  order: { email: string; shipping: readonly { householdKey: string }[] },
): { emailHash?: string; shippingAddressHashes: string[] } {
  const entries = highRiskEntryKeys(secret, { email: order.email, householdKeys: order.shipping.map((s) => s.householdKey) });
  const emailHash = entries.find((e) => e.kind === 'email')?.hash;
  const shippingAddressHashes = entries.filter((e) => e.kind === 'shipping_address').map((e) => e.hash);
  return emailHash === undefined ? { shippingAddressHashes } : { emailHash, shippingAddressHashes };
}

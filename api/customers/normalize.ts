import { detectBrand, luhnValid } from '../vault/cards.ts';

/**
 * Pure normalisation rules for customer data, shared by the zod schemas (browser-safe: no Node
 * imports) and the service. Each one returns `undefined` for input it cannot make sense of, so the
 * schema, not this file, decides the error code.
 */

const NANP_NUMBER = /^([2-9]\d\d)([2-9]\d\d)(\d{4})$/;
// N11 codes (211, 311, ... 911) are service codes, never area codes.
const SERVICE_CODE = /^[2-9]11$/;

function nanp(tenDigits: string): string | undefined {
  const match = NANP_NUMBER.exec(tenDigits);
  if (!match || SERVICE_CODE.test(match[1]!)) return undefined;
  return `+1${tenDigits}`;
}

/**
 * Phone numbers as people type them, to E.164. US/NANP numbers are checked (10 digits, optional
 * leading 1, area code and exchange not starting with 0 or 1); other countries need a leading `+`
 * or the `011` international prefix and are only checked for length (8-15 digits in all), because
 * the store ships mostly within the US and a wrong foreign rule would turn away a real customer.
 * Letters (vanity numbers, "ext. 12") are not accepted.
 */
export function normalizePhone(input: string): string | undefined {
  const trimmed = input.trim();
  if (!trimmed || !/^\+?[\d\s().\-/]+$/.test(trimmed)) return undefined;
  const digits = trimmed.replace(/\D/g, '');
  if (trimmed.startsWith('+')) {
    if (digits.startsWith('1')) return digits.length === 11 ? nanp(digits.slice(1)) : undefined;
    return digits.length >= 8 && digits.length <= 15 && !digits.startsWith('0') ? `+${digits}` : undefined;
  }
  if (digits.length === 10) return nanp(digits);
  if (digits.length === 11 && digits.startsWith('1')) return nanp(digits.slice(1));
  if (digits.startsWith('011')) {
    const rest = digits.slice(3);
    if (rest.startsWith('1')) return undefined; // 011 then a NANP country code is a dialling mistake
    return rest.length >= 8 && rest.length <= 15 && !rest.startsWith('0') ? `+${rest}` : undefined;
  }
  return undefined;
}

/** Emails are compared, stored and indexed lower-case (the unique key is the normalised form). */
export function normalizeEmail(input: string): string {
  return input.trim().toLowerCase();
}

/** Login names are case-insensitive: `JaneDoe` and `janedoe` are the same account. */
export function normalizeLoginName(input: string): string {
  return input.trim().toLowerCase();
}

/**
 * Security answers are matched ignoring case, accents written as compatibility forms, and spacing,
 * so "  New   York " and "new york" are the same answer.
 */
export function normalizeSecurityAnswer(input: string): string {
  return input.normalize('NFKC').toLowerCase().replace(/\s+/g, ' ').trim();
}

/**
 * PIA C.2: only a truncated IP (broad region) is kept with consent evidence. IPv4 keeps the first
 * three octets (/24), IPv6 the first three groups (/48). Anything unparseable is dropped.
 */
export function truncateIp(ip: string | undefined): string | undefined {
  if (!ip) return undefined;
  const v4 = /^(?:::ffff:)?(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/i.exec(ip.trim());
  if (v4) {
    const octets = v4.slice(1, 4).map(Number);
    if (octets.some((o) => o > 255)) return undefined;
    return `${octets.join('.')}.0`;
  }
  const v6 = ip.trim().toLowerCase();
  if (!/^[0-9a-f:]+$/.test(v6) || !v6.includes(':')) return undefined;
  const [head = ''] = v6.split('::');
  const groups = head.split(':').filter(Boolean);
  const kept = groups.slice(0, 3);
  while (kept.length < 3) kept.push('0');
  return `${kept.join(':')}::`;
}

/** `jane.doe@example.com` to `j***@example.com`, for search summaries. */
export function maskEmail(email: string): string {
  const at = email.lastIndexOf('@');
  if (at < 1) return '***';
  return `${email[0]}***${email.slice(at)}`;
}

/**
 * PIA D.8: a card number is never used to retrieve account data. Any value holding 13 or more
 * digits in a row (ignoring the spaces, dashes, dots and slashes people type between groups) is
 * treated as a card number, whether or not it passes Luhn: a mistyped card is still a card.
 * The one exception is an international phone number written with a leading `+` (E.164 allows 15
 * digits) that is not a Luhn-valid number with a card brand's prefix.
 */
export function looksLikeCardNumber(value: string, options: { phone?: boolean } = {}): boolean {
  const compact = value.replace(/[\s.\-/()]/g, '');
  const runs = compact.match(/\d{13,}/g);
  if (!runs) return false;
  if (options.phone && compact.startsWith('+') && runs.length === 1 && compact.slice(1) === runs[0] && runs[0].length <= 15) {
    return luhnValid(runs[0]) && detectBrand(runs[0]) !== 'unknown';
  }
  return true;
}

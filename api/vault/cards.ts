import { ValidationError, type FieldIssue } from '../../platform/errors.ts';

/**
 * Pure card rules: no I/O, no clock of their own (callers pass `now`), so the checkout API, the IVR
 * and the agent console all reject the same cards for the same reasons before a gateway is involved.
 * Nothing here logs, stores or echoes a card number; messages never contain one.
 */

export const CARD_BRANDS = ['visa', 'mastercard', 'amex', 'discover', 'jcb', 'diners', 'unionpay'] as const;
export type CardBrand = (typeof CARD_BRANDS)[number];
export type DetectedBrand = CardBrand | 'unknown';

/** Inclusive IIN range; both ends have the same number of digits so string comparison is numeric. */
type PrefixRange = readonly [low: string, high: string];

interface BrandRule {
  readonly prefixes: readonly PrefixRange[];
  readonly lengths: readonly number[];
  readonly cvvLength: number;
  /**
   * UnionPay issues some cards whose last digit is not a Luhn check digit; rejecting them would turn
   * away genuine customers, so for that brand the gateway is left to decide.
   */
  readonly luhn: boolean;
}

const range = (from: number, to: number): number[] => Array.from({ length: to - from + 1 }, (_, i) => from + i);

// Ranges never overlap, so detection does not depend on order. Discover's co-branded 622126-622925
// block is UnionPay-issued and is detected as UnionPay.
const BRAND_RULES: Readonly<Record<CardBrand, BrandRule>> = {
  visa: { prefixes: [['4', '4']], lengths: [13, 16, 19], cvvLength: 3, luhn: true },
  mastercard: {
    prefixes: [
      ['51', '55'],
      ['2221', '2720'], // the 2-series, issued since 2017
    ],
    lengths: [16],
    cvvLength: 3,
    luhn: true,
  },
  amex: {
    prefixes: [
      ['34', '34'],
      ['37', '37'],
    ],
    lengths: [15],
    cvvLength: 4,
    luhn: true,
  },
  discover: {
    prefixes: [
      ['6011', '6011'],
      ['644', '649'],
      ['65', '65'],
    ],
    lengths: range(16, 19),
    cvvLength: 3,
    luhn: true,
  },
  jcb: { prefixes: [['3528', '3589']], lengths: range(16, 19), cvvLength: 3, luhn: true },
  diners: {
    prefixes: [
      ['300', '305'],
      ['3095', '3095'],
      ['36', '36'],
      ['38', '39'],
    ],
    lengths: range(14, 19),
    cvvLength: 3,
    luhn: true,
  },
  unionpay: { prefixes: [['62', '62']], lengths: range(16, 19), cvvLength: 3, luhn: false },
};

/** Card numbers as people type them: `4242 4242-4242 4242`. Anything else is left for validation to reject. */
export function normalizePan(input: string): string {
  return input.replace(/[\s-]/g, '');
}

export function luhnValid(pan: string): boolean {
  if (!/^\d{2,}$/.test(pan)) return false;
  let sum = 0;
  for (let i = 0; i < pan.length; i += 1) {
    let digit = pan.charCodeAt(pan.length - 1 - i) - 48;
    if (i % 2 === 1) {
      digit *= 2;
      if (digit > 9) digit -= 9;
    }
    sum += digit;
  }
  return sum % 10 === 0;
}

function matchesPrefix(pan: string, [low, high]: PrefixRange): boolean {
  if (pan.length < low.length) return false;
  const head = pan.slice(0, low.length);
  return head >= low && head <= high;
}

export function detectBrand(pan: string): DetectedBrand {
  const digits = normalizePan(pan);
  if (!/^\d+$/.test(digits)) return 'unknown';
  for (const brand of CARD_BRANDS) {
    if (BRAND_RULES[brand].prefixes.some((prefix) => matchesPrefix(digits, prefix))) return brand;
  }
  return 'unknown';
}

export function expectedLengths(brand: CardBrand): readonly number[] {
  return BRAND_RULES[brand].lengths;
}

export function expectedCvvLength(brand: CardBrand): number {
  return BRAND_RULES[brand].cvvLength;
}

export function brandRequiresLuhn(brand: CardBrand): boolean {
  return BRAND_RULES[brand].luhn;
}

export function last4(pan: string): string {
  return normalizePan(pan).slice(-4);
}

/** `•••• 4242`. Never reveals more than the last four, even for short or malformed input. */
export function maskPan(pan: string): string {
  const tail = last4(pan);
  return tail.length === 4 ? `•••• ${tail}` : '••••';
}

/** Two-digit years are what is printed on the card (`12/29`); this century is the only plausible one. */
export function normalizeExpiryYear(year: number): number {
  return year < 100 ? 2000 + year : year;
}

/**
 * A card is valid through the last day of its expiry month in the cardholder's time zone. We do not
 * know that zone, so the cut-off is the end of the month in the westernmost one (UTC-12), i.e. noon UTC
 * on the first of the next month: a card is never refused while it is still valid somewhere.
 */
export function expiryValid(month: number, year: number, now: Date): boolean {
  if (!Number.isInteger(month) || month < 1 || month > 12 || !Number.isInteger(year) || year < 0) return false;
  const fullYear = normalizeExpiryYear(year);
  const cutOff = Date.UTC(fullYear, month, 1, 12); // `month` is 1-based, so this is the following month
  return now.getTime() < cutOff;
}

export interface CardInput {
  number: string;
  /** Numbers or the strings a form sends (`"03"`). */
  expMonth: number | string;
  /** Four digits, or the two printed on the card. */
  expYear: number | string;
  /** A string, because `012` is a valid CVV and a number would lose the zero. */
  cvv: string;
}

export interface ValidatedCard {
  /** Digits only. Handle as a secret: hand to the vault or gateway, never log or store it. */
  number: string;
  brand: CardBrand;
  last4: string;
  expMonth: number;
  /** Always four digits. */
  expYear: number;
  cvv: string;
}

type Issue = Omit<FieldIssue, 'path'>;

/** Years beyond this are typos (2207 for 2027); issuers do not print cards that far out. */
const MAX_YEARS_AHEAD = 20;

function numberIssue(pan: unknown, accepted: readonly CardBrand[]): Issue | { brand: CardBrand } {
  if (typeof pan !== 'string' || !/^\d+$/.test(pan)) {
    return { code: 'card.number_format', message: 'Enter the card number using digits only.' };
  }
  const brand = detectBrand(pan);
  if (brand === 'unknown' || !accepted.includes(brand)) {
    return { code: 'card.brand_unsupported', message: 'We do not accept this type of card.' };
  }
  if (!BRAND_RULES[brand].lengths.includes(pan.length)) {
    return { code: 'card.length', message: 'The card number has the wrong number of digits.' };
  }
  if (BRAND_RULES[brand].luhn && !luhnValid(pan)) {
    return { code: 'card.luhn', message: 'The card number is not valid; check for a mistyped digit.' };
  }
  return { brand };
}

function parseWholeNumber(value: unknown): number | null {
  if (typeof value === 'number') return Number.isInteger(value) ? value : null;
  if (typeof value === 'string' && /^\d{1,4}$/.test(value.trim())) return Number(value.trim());
  return null;
}

function expiryIssues(input: CardInput, now: Date, path: (field: string) => string): FieldIssue[] | { month: number; year: number } {
  const month = parseWholeNumber(input.expMonth);
  const rawYear = parseWholeNumber(input.expYear);
  const year = rawYear === null ? null : normalizeExpiryYear(rawYear);
  const issues: FieldIssue[] = [];
  if (month === null || month < 1 || month > 12) {
    issues.push({ path: path('expMonth'), code: 'card.expiry_format', message: 'Enter the expiry month as 1 to 12.' });
  }
  if (year === null || year < 2000 || year > now.getUTCFullYear() + MAX_YEARS_AHEAD) {
    issues.push({ path: path('expYear'), code: 'card.expiry_format', message: 'Enter the expiry year as printed on the card.' });
  }
  if (issues.length > 0 || month === null || year === null) return issues;
  if (!expiryValid(month, year, now)) {
    // Point at the part the customer has to change: a past year, or a past month of this year.
    const field = year < now.getUTCFullYear() ? 'expYear' : 'expMonth';
    return [{ path: path(field), code: 'card.expired', message: 'This card has expired.' }];
  }
  return { month, year };
}

function cvvIssue(cvv: unknown, brand: CardBrand | null): Issue | null {
  // With an unknown brand the number is already rejected; accept either length rather than add noise.
  const pattern = brand === null ? /^\d{3,4}$/ : new RegExp(`^\\d{${BRAND_RULES[brand].cvvLength}}$`);
  if (typeof cvv === 'string' && pattern.test(cvv)) return null;
  const digits = brand === null ? '3 or 4' : String(BRAND_RULES[brand].cvvLength);
  return { code: 'card.cvv_format', message: `Enter the ${digits}-digit security code.` };
}

/**
 * Checks a card before it reaches the vault or a gateway. Throws one ValidationError naming every bad
 * field (at `${pathPrefix}.number`, `.expMonth`, `.expYear`, `.cvv`); at most one issue per field, the
 * most fundamental first, so the customer fixes one thing at a time.
 */
export function validateCard(
  card: CardInput,
  now: Date,
  pathPrefix = 'payment.card',
  acceptedBrands: readonly CardBrand[] = CARD_BRANDS,
): ValidatedCard {
  const path = (field: string): string => (pathPrefix ? `${pathPrefix}.${field}` : field);
  const issues: FieldIssue[] = [];

  const pan = typeof card.number === 'string' ? normalizePan(card.number) : card.number;
  const numberResult = numberIssue(pan, acceptedBrands);
  const brand = 'brand' in numberResult ? numberResult.brand : null;
  if (!('brand' in numberResult)) issues.push({ path: path('number'), ...numberResult });

  const expiry = expiryIssues(card, now, path);
  if (Array.isArray(expiry)) issues.push(...expiry);

  const cvv = cvvIssue(card.cvv, brand);
  if (cvv) issues.push({ path: path('cvv'), ...cvv });

  if (issues.length > 0 || brand === null || Array.isArray(expiry)) {
    throw new ValidationError('Check the card details.', issues);
  }
  return { number: pan, brand, last4: pan.slice(-4), expMonth: expiry.month, expYear: expiry.year, cvv: card.cvv };
}

import { randomInt } from 'node:crypto';

/**
 * Order numbers are read aloud to agents and keyed into the IVR, so they are short, digits only,
 * never start with 0 (callers and spreadsheets drop it) and end in a Damm check digit. Damm catches
 * every single-digit error and every adjacent transposition, the two mistakes people make when
 * saying or typing numbers, so a mistyped order number is rejected instead of finding someone else's.
 *
 * Uniqueness is not guaranteed here (9 million numbers): callers insert under a unique index and
 * retry on a duplicate. An order number is not a secret and must never be the only proof of identity.
 */

export const ORDER_NUMBER_LENGTH = 8;
const PAYLOAD_LENGTH = ORDER_NUMBER_LENGTH - 1;

// The weakly totally anti-symmetric quasigroup of order 10 from Damm (2004).
const DAMM_TABLE: readonly (readonly number[])[] = [
  [0, 3, 1, 7, 5, 9, 8, 6, 4, 2],
  [7, 0, 9, 2, 1, 5, 4, 8, 6, 3],
  [4, 2, 0, 6, 8, 7, 1, 3, 5, 9],
  [1, 7, 5, 0, 9, 8, 3, 4, 2, 6],
  [6, 1, 2, 3, 0, 4, 5, 9, 7, 8],
  [3, 6, 7, 4, 2, 0, 9, 5, 8, 1],
  [5, 8, 6, 9, 7, 2, 0, 1, 3, 4],
  [8, 9, 4, 5, 3, 6, 2, 0, 1, 7],
  [9, 4, 3, 8, 6, 1, 7, 2, 0, 5],
  [2, 5, 8, 1, 4, 3, 6, 7, 9, 0],
];

function dammInterim(digits: string): number {
  let interim = 0;
  for (const char of digits) {
    interim = DAMM_TABLE[interim]![char.charCodeAt(0) - 48]!;
  }
  return interim;
}

/** The digit that, appended to `digits`, makes the Damm check pass. */
export function dammCheckDigit(digits: string): number {
  if (!/^\d*$/.test(digits)) throw new TypeError('Damm check digits are defined for decimal digits only.');
  return dammInterim(digits);
}

/** True when `digits` (check digit last) passes the Damm check. */
export function dammValid(digits: string): boolean {
  return /^\d+$/.test(digits) && dammInterim(digits) === 0;
}

/** Returns an integer in [0, maxExclusive). Injected by tests; defaults to a CSPRNG so numbers cannot be predicted. */
export type RandomInt = (maxExclusive: number) => number;

/** A bad injected source would silently skew or lengthen numbers; fail instead. */
function draw(random: RandomInt, maxExclusive: number): number {
  const value = random(maxExclusive);
  if (!Number.isInteger(value) || value < 0 || value >= maxExclusive) throw new RangeError('The random source returned a value out of range.');
  return value;
}

export function generateOrderNumber(random: RandomInt = randomInt): string {
  let payload = String(1 + draw(random, 9));
  while (payload.length < PAYLOAD_LENGTH) payload += String(draw(random, 10));
  return payload + String(dammCheckDigit(payload));
}

/** Expects normalised input (see normalizeOrderNumberInput). */
export function isValidOrderNumber(s: string): boolean {
  return typeof s === 'string' && s.length === ORDER_NUMBER_LENGTH && /^[1-9]\d+$/.test(s) && dammValid(s);
}

const SPOKEN_DIGITS: Readonly<Record<string, string>> = {
  zero: '0',
  oh: '0',
  o: '0',
  one: '1',
  two: '2',
  three: '3',
  four: '4',
  five: '5',
  six: '6',
  seven: '7',
  eight: '8',
  nine: '9',
};
const REPEATS: Readonly<Record<string, number>> = { double: 2, triple: 3 };

/**
 * Turns what a caller typed or a speech recogniser heard into bare digits: `4521-7730`,
 * `4521 7730`, `four five two one, seven seven three oh`, `45 21 double 7 30`. Anything it does not
 * understand is kept, so the result then fails isValidOrderNumber rather than being guessed at.
 */
export function normalizeOrderNumberInput(s: string): string {
  const tokens = s
    .toLowerCase()
    .replace(/[-\u2010-\u2015.,]/g, ' ')
    .split(/\s+/)
    .filter((token) => token.length > 0);
  let result = '';
  let pendingRepeat: string | null = null;
  for (const token of tokens) {
    if (REPEATS[token] !== undefined && pendingRepeat === null) {
      pendingRepeat = token;
      continue;
    }
    const digits = SPOKEN_DIGITS[token] ?? token;
    const times = pendingRepeat === null ? 1 : (REPEATS[pendingRepeat] ?? 1);
    // "double seven" says the first digit twice; any further digits of the token follow once.
    result += digits.charAt(0).repeat(times) + digits.slice(1);
    pendingRepeat = null;
  }
  // A dangling "double" means the caller was cut off: keep it so validation fails.
  return pendingRepeat === null ? result : result + pendingRepeat;
}

/**
 * `45217730` -> `4 5 2 1, 7 7 3 0`: digit by digit so TTS does not read "forty-five million…",
 * with a comma between groups of four for a pause the caller can write along with.
 */
export function formatOrderNumberForSpeech(s: string): string {
  const digits = normalizeOrderNumberInput(s);
  const groups = digits.match(/.{1,4}/g) ?? [];
  return groups.map((group) => group.split('').join(' ')).join(', ');
}

/** `45217730` -> `4521-7730`, the form printed on receipts and shown in the console. */
export function formatOrderNumberForDisplay(s: string): string {
  const digits = normalizeOrderNumberInput(s);
  return (digits.match(/.{1,4}/g) ?? []).join('-');
}

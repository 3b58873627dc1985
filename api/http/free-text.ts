import { z } from 'zod';
import { luhnValid } from '../vault/cards.ts';

/**
 * Text a person types (names, address lines, gift messages, notes, reasons, prompts, and later
 * chat) must never hold a card number: whatever is typed there is stored in clear and shown to
 * staff (PIA D.8, PCI DSS 3.3/3.4). Zod only and no Node imports, so the storefront, the console
 * and the chat refuse the same text the API refuses.
 *
 * Only for free text. Fields that legitimately hold long digit strings (card tokens, ids, tracking
 * numbers, phone and order numbers) have formats of their own and do not use this.
 */

/** The stable code of the refusal, at the field and (see platform/errors.ts) for the whole request. */
export const CARD_NUMBER_IN_TEXT = 'input.card_number_in_text';
export const CARD_NUMBER_IN_TEXT_MESSAGE = "Please don't enter a card number here.";

const MIN_PAN_DIGITS = 13;
const MAX_PAN_DIGITS = 19;

/**
 * Groups of digits as people type a card: "4242 4242 4242 4242", "3782-822463-10005", or none at
 * all. Up to three spaces or dashes (any dash, not only the ASCII one) may separate two groups.
 * Full-width digits (an East Asian keyboard's) count as the digits they show.
 */
const DIGIT = '[0-9\\uFF10-\\uFF19]';
const GAP = '[\\s\\-\\u2010-\\u2015\\u2212]{1,3}';
const DIGIT_GROUPS = new RegExp(`${DIGIT}+(?:${GAP}${DIGIT}+)*`, 'g');
const GROUP = new RegExp(`${DIGIT}+`, 'g');
const asciiDigits = (group: string) => group.replace(/[\uFF10-\uFF19]/g, (d) => String.fromCharCode(d.charCodeAt(0) - 0xff10 + 48));

/**
 * True when the digits are a plausible card number: 13-19 of them, Luhn-valid, with a payment
 * card's leading digit (2-6: Mastercard's 2-series, Amex, Diners and JCB, Visa, Mastercard,
 * Discover, UnionPay, Maestro). The leading digit keeps millisecond timestamps ("1767225600000")
 * and runs of zeros, which are Luhn-valid too, from being mistaken for cards.
 */
function isCardNumber(digits: string): boolean {
  return digits.length >= MIN_PAN_DIGITS && digits.length <= MAX_PAN_DIGITS && /^[2-6]/.test(digits) && luhnValid(digits);
}

/**
 * Every card number in `text`, as [start, end) offsets. A card is a whole number of typed groups:
 * it starts where a group starts and ends where a group ends, so "Apt 4242424242424242" and "card
 * 4242 4242 4242 4242, thanks" are found, while two phone numbers side by side are not read as a
 * card that starts in the middle of one.
 */
export function findCardNumbers(text: string): { start: number; end: number }[] {
  const found: { start: number; end: number }[] = [];
  for (const run of text.matchAll(DIGIT_GROUPS)) {
    const groups = [...run[0].matchAll(GROUP)].map((group) => ({ start: run.index + group.index, end: run.index + group.index + group[0].length, digits: asciiDigits(group[0]) }));
    for (let first = 0; first < groups.length; first += 1) {
      let digits = '';
      for (let last = first; last < groups.length && digits.length < MAX_PAN_DIGITS; last += 1) {
        digits += groups[last]!.digits;
        if (isCardNumber(digits)) {
          found.push({ start: groups[first]!.start, end: groups[last]!.end });
          first = last; // the next card starts after this one
          break;
        }
      }
    }
  }
  return found;
}

export function containsCardNumber(text: string): boolean {
  return findCardNumbers(text).length > 0;
}

/** `text` with each card number replaced by `•••• 1234` (what a chat may keep of one). */
export function maskCardNumbersInText(text: string): string {
  let masked = '';
  let at = 0;
  for (const { start, end } of findCardNumbers(text)) {
    masked += `${text.slice(at, start)}•••• ${asciiDigits(text.slice(start, end)).replace(/\D/g, '').slice(-4)}`;
    at = end;
  }
  return masked + text.slice(at);
}

/** The refinement: add it to any string schema of person-typed text (`.check(noCardNumber())`). */
export const noCardNumber = () =>
  z.refine<string>((text) => !containsCardNumber(text), { message: CARD_NUMBER_IN_TEXT_MESSAGE, params: { code: CARD_NUMBER_IN_TEXT } });

/**
 * A free-text field: trimmed, at most `max` characters (at least `min`, default 0) and never a
 * card number. For a field with more rules, chain them on, or add `noCardNumber()` to its schema.
 */
export function freeText(max: number, options: { min?: number; minMessage?: string } = {}) {
  const trimmed = z.string().trim();
  const bounded = options.min ? trimmed.min(options.min, options.minMessage) : trimmed;
  return bounded.max(max).check(noCardNumber());
}

import type { FieldIssue } from '../../../platform/errors.ts';

/**
 * Everything a shopper reads about a field's problem, written for shoppers. The API and the shared
 * zod schemas report problems as a path and a stable code ("payment.card.number", "too_small");
 * their messages are for developers and never reach the page. Each field has one wording per kind
 * of problem, so the same mistake always reads the same, whether the browser or the API found it.
 */

export type Problem = 'missing' | 'invalid' | 'too_long' | 'expired' | 'unsupported' | 'custom' | 'taken';

export interface Wording {
  /** The field is empty (or the box is not ticked). */
  missing: string;
  /** Filled in, but not something we can use. Defaults to `missing`. */
  invalid?: string;
  /** Longest accepted value, for the "too long" wording. */
  max?: number;
  expired?: string;
  unsupported?: string;
  /** A rule between fields (a password that repeats the login name). */
  custom?: string;
  /** Already used by another account. */
  taken?: string;
}

/** The kind of problem an issue is, from its code and what the shopper typed. */
export function problemOf(issue: Pick<FieldIssue, 'code'>, value: unknown): Problem {
  const empty = value === undefined || value === null || value === false || (typeof value === 'string' && value.trim() === '');
  if (issue.code === 'customers.email_taken' || issue.code === 'customers.login_taken') return 'taken';
  if (empty || issue.code === 'required') return 'missing';
  if (issue.code === 'too_big') return 'too_long';
  if (issue.code === 'card.expired') return 'expired';
  if (issue.code === 'card.brand_unsupported') return 'unsupported';
  if (issue.code === 'custom') return 'custom';
  return 'invalid';
}

export function messageFor(wording: Wording, problem: Problem): string {
  switch (problem) {
    case 'missing':
      return wording.missing;
    case 'too_long':
      return wording.max ? `Use ${wording.max} characters or fewer.` : (wording.invalid ?? wording.missing);
    case 'expired':
      return wording.expired ?? wording.invalid ?? wording.missing;
    case 'unsupported':
      return wording.unsupported ?? wording.invalid ?? wording.missing;
    case 'custom':
      return wording.custom ?? wording.invalid ?? wording.missing;
    case 'taken':
      return wording.taken ?? wording.invalid ?? wording.missing;
    default:
      return wording.invalid ?? wording.missing;
  }
}

/** Said when the API reports a problem with something the shopper never typed (a bug, a stale page). */
export const UNREADABLE = 'Part of this form could not be read. Reload the page and try again.';

/** The wording of each kind of field, shared by every form that has one. */
export const W = {
  firstName: { missing: 'Enter your first name.', invalid: 'Enter your first name using letters.', max: 60 },
  lastName: { missing: 'Enter your last name.', invalid: 'Enter your last name using letters.', max: 60 },
  email: { missing: 'Enter your email address.', invalid: 'Enter an email address like name@example.com.', max: 254, taken: 'An account with this email address already exists. Sign in instead, or use another address.' },
  phone: { missing: 'Enter your phone number.', invalid: 'Enter a phone number with area code, like (202) 555-0100.', max: 40 },
  line1: { missing: 'Enter the street address.', invalid: 'Enter the street address using letters and numbers.', max: 100 },
  line2: { missing: 'Enter the apartment, suite or unit.', invalid: 'Check the apartment, suite or unit.', max: 100 },
  city: { missing: 'Enter the city.', invalid: 'Enter the city using letters.', max: 60 },
  state: { missing: 'Enter the state.', invalid: 'Enter the two-letter state code, like DC or IL.', max: 40 },
  postalCode: { missing: 'Enter the ZIP code.', invalid: 'Enter a 5-digit ZIP code, or ZIP+4 like 20220-0001.', max: 16 },
  country: { missing: 'Choose a country.', invalid: 'Choose a country from the list.' },
  addressLabel: { missing: 'Give the address a name, like Home or Office.', invalid: 'Give the address a name using letters.', max: 40 },
  recipientFirst: { missing: "Enter the recipient's first name.", invalid: "Enter the recipient's first name using letters.", max: 60 },
  recipientLast: { missing: "Enter the recipient's last name.", invalid: "Enter the recipient's last name using letters.", max: 60 },
  giftMessage: { missing: 'Enter a gift message or leave the box empty.', max: 200 },
  cardNumber: {
    missing: 'Enter your card number.',
    invalid: 'The card number is not valid. Check the digits on your card.',
    unsupported: 'We do not accept this type of card. Use another card.',
  },
  cardExpiry: {
    missing: 'Enter the expiry date as MM/YY.',
    invalid: 'Enter the expiry date as MM/YY, like 08/29.',
    expired: 'This card has expired. Check the expiry date or use another card.',
  },
  cardCvv: { missing: 'Enter the security code.', invalid: 'Enter the security code: 3 digits on the back of the card, or 4 on the front of an American Express card.' },
  nameOnCard: { missing: 'Enter the name as it is printed on the card.', invalid: 'Enter the name as it is printed on the card.', max: 80 },
  savedCard: { missing: 'Choose a saved card, or enter a new one.', invalid: 'This card is no longer saved. Choose another card, or enter a new one.' },
  terms: { missing: 'Accept the terms of sale to place your order.' },
  ageConfirmed: { missing: 'Confirm that you are 18 or older to place your order.' },
  orderNumber: { missing: 'Enter your order number.', invalid: 'Check the order number: it has 8 digits.' },
  lookupEmail: { missing: 'Enter the email used for the order or the billing ZIP code.', invalid: 'Enter an email address like name@example.com.' },
  lookupZip: { missing: 'Enter the email used for the order or the billing ZIP code.', invalid: 'Enter the 5-digit billing ZIP code.' },
  login: { missing: 'Enter your email address or login name.', invalid: 'Enter your email address or login name.' },
  password: { missing: 'Enter your password.', invalid: 'Enter your password.' },
  loginName: {
    missing: 'Choose a login name.',
    invalid: 'Use 3 to 40 letters, digits, dots, dashes or underscores for the login name, starting with a letter or digit.',
    taken: 'This login name is taken. Choose another.',
  },
  newPassword: { missing: 'Choose a password.', invalid: 'Use at least 10 characters for your password.', custom: 'Choose a password that is not your login name or email address.' },
  securityQuestion: { missing: 'Choose a security question.', invalid: 'Choose a security question from the list.' },
  securityAnswer: { missing: 'Enter the answer to your security question.', invalid: 'Use at least 2 characters for the answer.', max: 100 },
  ageAttestation: { missing: 'Confirm that you are 18 or older to open an account.' },
  acceptTerms: { missing: 'Accept the terms of service to open an account.' },
  birthMonth: { missing: 'Choose your birth month.', invalid: 'Choose your birth month from the list.' },
  currentPassword: { missing: 'Enter your current password.', invalid: 'That is not your current password.' },
  closePassword: { missing: 'Enter your password to confirm.', invalid: 'That password is not correct.' },
} satisfies Record<string, Wording>;

/** A field of a form: its element id, the API paths that point at it, and its wording. */
export interface FormField {
  id: string;
  paths: string[];
  wording: Wording;
}

export type FieldErrors = Record<string, string>;

export interface PlacedIssues {
  /** Element id to message. */
  errors: FieldErrors;
  /** Problems no field on the page can show. */
  unplaced: string[];
}

/**
 * Puts each issue next to its field in the shopper's words, at most one message per field (the
 * first issue wins). Issues about no visible field are summarised: business messages as the API
 * wrote them (they are written for shoppers, e.g. "Your card was declined."), anything from a
 * schema as one generic sentence.
 */
export function placeIssues(issues: readonly FieldIssue[], fields: readonly FormField[], valueOf: (id: string) => unknown, mapPath: (path: string) => string = (p) => p): PlacedIssues {
  const errors: FieldErrors = {};
  const unplaced = new Set<string>();
  for (const issue of issues) {
    const path = mapPath(issue.path);
    const field = fields.find((candidate) => candidate.paths.includes(path));
    if (!field) {
      unplaced.add(isBusinessCode(issue.code) ? issue.message : UNREADABLE);
      continue;
    }
    if (errors[field.id]) continue;
    errors[field.id] = messageFor(field.wording, problemOf(issue, valueOf(field.id)));
  }
  return { errors, unplaced: [...unplaced] };
}

/** The API's own codes are dotted (`cart.empty`, `payment.card_declined`); zod's are not. */
const isBusinessCode = (code: string) => code.includes('.') && !code.startsWith('card.');

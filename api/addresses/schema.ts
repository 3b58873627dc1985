import { z } from 'zod';
import { freeText } from '../http/free-text.ts';
// addresser's state table (50 states + DC). A JSON import keeps this file free of Node APIs, so the
// console and any browser bundle can share it.
import addresserUsStates from 'addresser/data/us-states.json' with { type: 'json' };

/**
 * Postal addresses as the checkout, console and workers exchange them.
 *
 * Two shapes on purpose:
 * - `AddressInput` is what a shopper, CSR or IVR transcript gives us to standardise. It only checks
 *   shape, because "Illinois", "il" or "627011234" are exactly what a suggestion exists to fix; a
 *   400 for them would defeat the purpose.
 * - `PostalAddress` is what an order may keep: for the US a real USPS state code and a ZIP or
 *   ZIP+4. Whether the shopper accepted the suggestion or kept their own spelling, this must hold.
 */

/**
 * USPS codes addresser has no data for: territories, freely associated states and the military
 * "states" of Publication 28 appendix B. Without them an APO/FPO or Puerto Rico order could not be
 * placed at all.
 */
const USPS_CODES_MISSING_FROM_ADDRESSER: Readonly<Record<string, readonly string[]>> = {
  AS: ['AMERICAN SAMOA'],
  GU: ['GUAM'],
  MP: ['NORTHERN MARIANA ISLANDS'],
  PR: ['PUERTO RICO'],
  VI: ['VIRGIN ISLANDS', 'US VIRGIN ISLANDS', 'UNITED STATES VIRGIN ISLANDS'],
  FM: ['FEDERATED STATES OF MICRONESIA', 'MICRONESIA'],
  MH: ['MARSHALL ISLANDS'],
  PW: ['PALAU'],
  AA: ['ARMED FORCES AMERICAS'],
  AE: ['ARMED FORCES EUROPE', 'ARMED FORCES AFRICA', 'ARMED FORCES CANADA', 'ARMED FORCES MIDDLE EAST'],
  AP: ['ARMED FORCES PACIFIC'],
};

const stateNameToCode = new Map<string, string>();
for (const [name, code] of Object.entries(addresserUsStates as Record<string, string>)) stateNameToCode.set(name.toUpperCase(), code);
for (const [code, names] of Object.entries(USPS_CODES_MISSING_FROM_ADDRESSER)) for (const name of names) stateNameToCode.set(name, code);

/** Every code USPS accepts in the state field of a domestic address. */
export const US_STATE_CODES: ReadonlySet<string> = new Set(stateNameToCode.values());

/**
 * The USPS code for a state written as a code or a full name, in any case, with periods, commas
 * or extra spaces ("il", "Illinois", "D.C.", "District of Columbia"); undefined when unknown.
 * Never guesses from partial names: "Ill." or "Calif." are not in any table and stay unknown.
 */
export function usStateCode(value: string): string | undefined {
  const folded = value
    .toUpperCase()
    .replace(/[.,]/g, '')
    .replace(/[\s-]+/g, ' ')
    .trim();
  if (US_STATE_CODES.has(folded)) return folded;
  if (folded.length === 3 && US_STATE_CODES.has(folded.replace(' ', ''))) return folded.replace(' ', ''); // "D C"
  return stateNameToCode.get(folded);
}

// ISO 3166-1 ranges that are never a country: user-assigned (AA, QM-QZ, XA-XZ, ZZ) and the
// "exceptionally reserved" codes that Intl still names (UK is the usual mistake for GB). There is
// no ISO list among our direct dependencies, so Intl's region data does the rest.
const NOT_A_COUNTRY = /^(AA|Q[M-Z]|X[A-Z]|ZZ|AC|CP|DG|EA|EU|EZ|FX|IC|SU|TA|UK|UN)$/;
let regionNames: Intl.DisplayNames | undefined;
function isIsoCountry(code: string): boolean {
  if (!/^[A-Z]{2}$/.test(code) || NOT_A_COUNTRY.test(code)) return false;
  regionNames ??= new Intl.DisplayNames(['en'], { type: 'region', fallback: 'none' });
  try {
    return regionNames.of(code) !== undefined;
  } catch {
    return false;
  }
}

export const COUNTRY_US = 'US';

const countryCode = z
  .string()
  .trim()
  .toUpperCase()
  .refine(isIsoCountry, { message: 'Use an ISO 3166-1 alpha-2 country code, e.g. US.' })
  .default(COUNTRY_US);

/** Fields every address has, checked for shape only (no country rules). */
const addressShape = {
  line1: freeText(100, { min: 1 }),
  // Forms send "" for an unused second line; treat it as absent so "" and missing compare equal.
  line2: freeText(100)
    .transform((value) => (value === '' ? undefined : value))
    .optional(),
  city: freeText(60, { min: 1 }),
  // Some countries have no state/province or no postal code, so only US rules require them.
  state: freeText(40),
  // Typed by a person, and outside the US free-form: 16 characters could hold a card number.
  postalCode: freeText(16),
  country: countryCode,
};

function requireForUs(address: { state: string; postalCode: string; country: string }, ctx: z.RefinementCtx): void {
  if (address.country !== COUNTRY_US) return;
  if (address.state === '') ctx.addIssue({ code: 'custom', path: ['state'], message: 'A state is required for US addresses.' });
  if (address.postalCode === '') ctx.addIssue({ code: 'custom', path: ['postalCode'], message: 'A ZIP code is required for US addresses.' });
}

/** Any address a person might type; what `standardizeAddress` and `suggest` accept. */
export const AddressInput = z.strictObject(addressShape).superRefine(requireForUs);
export type AddressInput = z.infer<typeof AddressInput>;
/** What callers may pass before defaults apply (country may be omitted). */
export type AddressInputDraft = z.input<typeof AddressInput>;

const US_ZIP = /^\d{5}(-\d{4})?$/;

/** An address an order may keep (what the customer chose, suggestion accepted or not). */
export const PostalAddress = z.strictObject(addressShape).superRefine((address, ctx) => {
  requireForUs(address, ctx);
  if (address.country !== COUNTRY_US) return;
  // Case is not checked: "il" is deliverable and the customer may decline the upper-casing.
  if (address.state !== '' && !(address.state.length === 2 && US_STATE_CODES.has(address.state.toUpperCase()))) {
    ctx.addIssue({ code: 'custom', path: ['state'], message: 'Use the two-letter USPS state code, e.g. IL.' });
  }
  if (address.postalCode !== '' && !US_ZIP.test(address.postalCode)) {
    ctx.addIssue({ code: 'custom', path: ['postalCode'], message: 'Use a 5-digit ZIP code or ZIP+4, e.g. 62701 or 62701-1234.' });
  }
});
export type PostalAddress = z.infer<typeof PostalAddress>;

export const StandardizeAddressRequest = z.strictObject({ address: AddressInput });
export type StandardizeAddressRequest = z.infer<typeof StandardizeAddressRequest>;

export const ADDRESS_FIELDS = ['line1', 'line2', 'city', 'state', 'postalCode', 'country'] as const;
export type AddressField = (typeof ADDRESS_FIELDS)[number];

export const AddressChange = z.strictObject({
  field: z.enum(ADDRESS_FIELDS),
  from: z.string(),
  to: z.string(),
});
export type AddressChange = z.infer<typeof AddressChange>;

/**
 * - `unchanged`: already in postal form.
 * - `corrected`: `standardized` differs; offer it, the customer may decline.
 * - `unverifiable`: not a US address, or a part could not be parsed; `standardized` is the input.
 * None of them means the address was checked against USPS delivery data: this is formatting only.
 */
export const SuggestionStatus = z.enum(['unchanged', 'corrected', 'unverifiable']);
export type SuggestionStatus = z.infer<typeof SuggestionStatus>;

export const SuggestionMessage = z.strictObject({ code: z.string(), message: z.string() });
export type SuggestionMessage = z.infer<typeof SuggestionMessage>;

// Responses are checked for shape only: an unverifiable suggestion echoes input that may not be a
// valid PostalAddress (that is why it is unverifiable).
/** An address's fields as a response carries them: shape only, no postal rules. */
export const addressResponseFields = {
  line1: z.string(),
  line2: z.string().optional(),
  city: z.string(),
  state: z.string(),
  postalCode: z.string(),
  country: z.string(),
};
const echoedAddress = z.strictObject(addressResponseFields);

export const AddressSuggestion = z.strictObject({
  input: echoedAddress,
  standardized: echoedAddress,
  changes: z.array(AddressChange),
  status: SuggestionStatus,
  messages: z.array(SuggestionMessage),
});
export type AddressSuggestion = z.infer<typeof AddressSuggestion>;

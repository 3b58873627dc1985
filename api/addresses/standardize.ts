// addresser's suffix table is USPS Publication 28 appendix C1 (common spellings -> standard
// abbreviation, plus a few informal ones such as LA -> LN), the part of addresser worth depending on.
import addresserStreetTypes from 'addresser/data/us-street-types.json' with { type: 'json' };
import {
  ADDRESS_FIELDS,
  COUNTRY_US,
  usStateCode,
  type AddressChange,
  type AddressField,
  type AddressInputDraft,
  type AddressSuggestion,
  type SuggestionMessage,
} from './schema.ts';

/**
 * Standardises US addresses to USPS Publication 28 formatting so checkout can offer the result as a
 * suggestion. Formatting only: nothing here knows whether an address exists (that needs USPS or a
 * CASS vendor), so the output never adds, drops or guesses a part the input did not have.
 *
 * Why not `addresser.parseAddress`: on ordinary input it loses or moves data, which the suggestion
 * must never do. "RR 2 Box 152" comes back as street number 2 on "Box 152" (the RR is dropped),
 * "Main Street North" gets "North" as a second address line, "100 Avenue of the Americas" is split
 * into street "Avenue" and line 2 "of the Americas", a "West Virginia" state parses as VA with
 * "West" left in the city, and a city that ends in a known city ("North Springfield") loses its
 * first word to line 2. It also parses one free-text string, whereas checkout already has separate
 * fields. So the delivery line is parsed here (right to left, as Pub 28 section 23 describes) and
 * addresser supplies the data: the suffix table above and the state names (see schema.ts).
 */

const STREET_SUFFIXES: ReadonlyMap<string, string> = new Map(
  Object.entries(addresserStreetTypes as Record<string, string>).map(([spelling, abbreviation]) => [spelling.toUpperCase(), abbreviation.toUpperCase()]),
);

// addresser keeps its directional and unit tables private to parseAddress (and maps LOWR to
// "LOWER"), so these two Pub 28 tables (section 233, appendix C2) are written out here. C2's KEY
// (an internal key stop) is left out: it is also a street type (KEY -> KY), and "OCEAN KEY W" must
// stay a street rather than become a unit "KEY W".
const DIRECTIONALS: ReadonlyMap<string, string> = new Map([
  ['NORTH', 'N'], ['SOUTH', 'S'], ['EAST', 'E'], ['WEST', 'W'],
  ['NORTHEAST', 'NE'], ['NORTHWEST', 'NW'], ['SOUTHEAST', 'SE'], ['SOUTHWEST', 'SW'],
  ['N', 'N'], ['S', 'S'], ['E', 'E'], ['W', 'W'], ['NE', 'NE'], ['NW', 'NW'], ['SE', 'SE'], ['SW', 'SW'],
]);

interface Designator {
  abbreviation: string;
  /** Pub 28 C2: designators such as APT must be followed by a number; REAR or LOBBY stand alone. */
  needsId: boolean;
}
const designator = (abbreviation: string, needsId: boolean): Designator => ({ abbreviation, needsId });
const UNIT_DESIGNATORS: ReadonlyMap<string, Designator> = new Map([
  ['APARTMENT', designator('APT', true)], ['APT', designator('APT', true)],
  ['BASEMENT', designator('BSMT', false)], ['BSMT', designator('BSMT', false)],
  ['BUILDING', designator('BLDG', true)], ['BLDG', designator('BLDG', true)],
  ['DEPARTMENT', designator('DEPT', true)], ['DEPT', designator('DEPT', true)],
  ['FLOOR', designator('FL', true)], ['FL', designator('FL', true)],
  ['FRONT', designator('FRNT', false)], ['FRNT', designator('FRNT', false)],
  ['HANGAR', designator('HNGR', true)], ['HNGR', designator('HNGR', true)],
  ['LOBBY', designator('LBBY', false)], ['LBBY', designator('LBBY', false)],
  ['LOT', designator('LOT', true)],
  ['LOWER', designator('LOWR', false)], ['LOWR', designator('LOWR', false)],
  ['OFFICE', designator('OFC', false)], ['OFC', designator('OFC', false)],
  ['PENTHOUSE', designator('PH', false)], ['PH', designator('PH', false)],
  ['PIER', designator('PIER', true)],
  ['REAR', designator('REAR', false)],
  ['ROOM', designator('RM', true)], ['RM', designator('RM', true)],
  ['SIDE', designator('SIDE', false)],
  ['SLIP', designator('SLIP', true)],
  ['SPACE', designator('SPC', true)], ['SPC', designator('SPC', true)],
  ['STOP', designator('STOP', true)],
  ['SUITE', designator('STE', true)], ['STE', designator('STE', true)],
  ['TRAILER', designator('TRLR', true)], ['TRLR', designator('TRLR', true)],
  ['UNIT', designator('UNIT', true)],
  ['UPPER', designator('UPPR', false)], ['UPPR', designator('UPPR', false)],
  // Pub 28 213: "#" when the designator is unknown; 285: private mailboxes.
  ['#', designator('#', true)],
  ['PMB', designator('PMB', true)],
]);

export interface AddressUnit {
  /** Pub 28 abbreviation (APT, STE, #, ...). */
  designator: string;
  id?: string;
}

/** One parsed address line, in Pub 28 components. */
export type ParsedLine =
  | { kind: 'street'; number: string; predirectional?: string; name: string[]; suffix?: string; postdirectional?: string; units: AddressUnit[] }
  | { kind: 'units'; units: AddressUnit[] }
  | { kind: 'po_box'; box: string }
  | { kind: 'route'; route: 'RR' | 'HC'; number: string; box: string }
  | { kind: 'military'; unit: string; number: string; box: string }
  | { kind: 'general_delivery' };

/**
 * The parts of an address that could be parsed. An address is standardisable only when every
 * part is present; household keys also use a partial parse (see household.ts).
 */
export interface AddressAnalysis {
  suggestion: AddressSuggestion;
  /** Only for US addresses. */
  us?: {
    line1?: ParsedLine;
    /** Absent when there is no line 2 or it did not parse (`line2Parsed` tells which). */
    line2?: ParsedLine;
    line2Parsed: boolean;
    zip5?: string;
  };
}

// ---------------------------------------------------------------------------------------------
// Cleaning and tokens

const WORD = /^[\p{L}\p{M}\p{N}]+$/u;
/** A token after cleaning: letters/digits, with hyphens, slashes or a decimal point only inside. */
const TOKEN = /^[\p{L}\p{M}\p{N}]+(?:[-/.][\p{L}\p{M}\p{N}]+)*$/u;

/**
 * Upper-cases and removes the punctuation Pub 28 drops, keeping what is significant (section 23):
 * hyphens in numbers (289-01, APT 4-B), fraction slashes (101 1/2) and grid decimal points (39.2 RD).
 */
function clean(raw: string): string {
  // Control characters (tabs, newlines from a pasted label) are separators. The private-use
  // character is removed too, because it is the placeholder for protected punctuation below.
  // eslint-disable-next-line no-control-regex -- matching control characters is the intent
  let s = raw.normalize('NFC').replace(/[\u0000-\u001f\u007f\uE000]/g, ' ').toUpperCase();
  s = s.replace(/[\u2010-\u2015\u2212]/g, '-').replace(/[\u2018\u2019\u02BC`\u00B4]/g, "'");
  // Possessive "ST JOHN'S" -> JOHNS; other apostrophes separate, as in USPS's "O FALLON", "COEUR D ALENE".
  s = s.replace(/'S\b/g, 'S').replace(/'/g, ' ');
  // Dotted initials join ("P.O." -> PO, "N.E." -> NE); a decimal point between digits is kept.
  s = s.replace(/\b(?:\p{L}\.){2,}/gu, (dotted) => dotted.replace(/\./g, ''));
  s = s.replace(/(\d)\.(?=\d)/g, '$1\uE000').replace(/\./g, ' ').replace(/\uE000/g, '.');
  s = s.replace(/#/g, ' # ');
  s = s.replace(/(\d)\/(?=\d)/g, '$1\uE000').replace(/\//g, ' ').replace(/\uE000/g, '/');
  s = s.replace(/[,;:()[\]{}"]/g, ' ');
  return s.replace(/\s+/g, ' ').trim();
}

/** Tokens of a cleaned line, or undefined when it holds characters no address uses (&, @, *...). */
function tokenize(raw: string): string[] | undefined {
  const tokens: string[] = [];
  for (let token of clean(raw).split(' ')) {
    if (token === '') continue;
    if (token === '#') {
      tokens.push(token);
      continue;
    }
    token = token.replace(/^-+|-+$/g, '');
    if (token === '') continue;
    if (token.includes('-')) {
      const [head, ...tail] = token.split('-');
      if (!/\d/.test(token)) {
        // Hyphens in names are not significant (Pub 28 23): WINSTON-SALEM -> WINSTON SALEM.
        tokens.push(...token.split('-').filter((part) => part !== ''));
        continue;
      }
      if (head !== undefined && UNIT_DESIGNATORS.has(head) && tail.length > 0) {
        tokens.push(head, tail.join('-')); // "APT-4B"
        continue;
      }
    }
    if (!TOKEN.test(token)) return undefined;
    tokens.push(token);
  }
  return tokens;
}

// ---------------------------------------------------------------------------------------------
// Delivery line grammar

const MAX_RAW_LENGTH = 400;

const PRIMARY_NUMBER = /^(?:\d+[A-Z]?|\d+-\d+[A-Z]?|\d+-[A-Z]|[NSEW]\d+[NSEW]\d+)$/;
const FRACTION = /^\d+\/\d+$/;
const isUnitId = (token: string | undefined): token is string =>
  token !== undefined && token !== '#' && !UNIT_DESIGNATORS.has(token) && (/\d/.test(token) ? TOKEN.test(token) : /^\p{L}$/u.test(token));

/** Parses tokens that are only secondary units ("APT 4", "BLDG 5 FL 3", "# 4", "REAR"). */
function parseUnits(tokens: readonly string[]): AddressUnit[] | undefined {
  const units: AddressUnit[] = [];
  let i = 0;
  while (i < tokens.length) {
    const found = UNIT_DESIGNATORS.get(tokens[i] ?? '');
    if (!found) return undefined;
    i++;
    let needsId = found.needsId;
    if (found.abbreviation !== '#' && tokens[i] === '#') {
      i++; // "APT # 4" -> APT 4
      needsId = true;
    }
    const next = tokens[i];
    if (needsId) {
      if (!isUnitId(next)) return undefined;
      units.push({ designator: found.abbreviation, id: next });
      i++;
    } else if (isUnitId(next) && /\d/.test(next)) {
      units.push({ designator: found.abbreviation, id: next }); // "PH 2"
      i++;
    } else {
      units.push({ designator: found.abbreviation });
    }
  }
  return units.length > 0 ? units : undefined;
}

const NORTH_SOUTH = new Set(['NORTH', 'SOUTH']);
const EAST_WEST = new Set(['EAST', 'WEST']);
const twoWordDirectional = (first: string | undefined, second: string | undefined): string | undefined =>
  first !== undefined && second !== undefined && NORTH_SOUTH.has(first) && EAST_WEST.has(second) ? DIRECTIONALS.get(first + second) : undefined;

const NEVER_IN_STREET_NAMES = new Set(['#', 'APT', 'APARTMENT', 'STE', 'SUITE', 'UNIT', 'BLDG', 'PMB']);

interface StreetName {
  predirectional?: string;
  name: string[];
  suffix?: string;
  postdirectional?: string;
}

/**
 * Street name tokens (after the number, before any unit), right to left: postdirectional, suffix,
 * predirectional. A word only becomes a directional or suffix when a street name is left beside it,
 * so "NORTH AVE", "E ST" and "100 PARK" keep their names spelled as given.
 */
function parseStreetName(tokens: readonly string[]): StreetName | undefined {
  let rest = [...tokens];
  const street: StreetName = { name: [] };
  const lastTwo = twoWordDirectional(rest.at(-2), rest.at(-1));
  if (rest.length >= 3 && lastTwo) {
    street.postdirectional = lastTwo; // "MAIN ST NORTH WEST" -> NW
    rest = rest.slice(0, -2);
  } else if (rest.length >= 2 && DIRECTIONALS.has(rest.at(-1) ?? '')) {
    street.postdirectional = DIRECTIONALS.get(rest.pop() ?? '');
  }
  const suffix = STREET_SUFFIXES.get(rest.at(-1) ?? '');
  if (rest.length >= 2 && suffix) {
    // Only the last type word is a suffix; earlier ones are name (PARK in "PARK AVE").
    street.suffix = suffix;
    rest.pop();
  }
  const firstTwo = twoWordDirectional(rest[0], rest[1]);
  if (rest.length >= 3 && firstTwo) {
    street.predirectional = firstTwo;
    rest = rest.slice(2);
  } else if (rest.length >= 2 && DIRECTIONALS.has(rest[0] ?? '')) {
    street.predirectional = DIRECTIONALS.get(rest.shift() ?? '');
  }
  street.name = rest;
  // A unit marker inside the name means we could not tell the street from the unit ("123 APT 4 MAIN
  // ST", "123 MAIN SUITE"). Words that are also real street names (PIER AVE, OLD SLIP, SPACE CENTER
  // BLVD) only count when a unit number follows them.
  const hasStrayUnit = rest.some(
    (token, i) => NEVER_IN_STREET_NAMES.has(token) || (UNIT_DESIGNATORS.get(token)?.needsId === true && isUnitId(rest[i + 1])),
  );
  return rest.length > 0 && !hasStrayUnit ? street : undefined;
}

function parseStreetLine(tokens: readonly string[]): ParsedLine | undefined {
  const [first, second] = tokens;
  if (first === undefined || !PRIMARY_NUMBER.test(first)) return undefined;
  const numberLength = second !== undefined && FRACTION.test(second) ? 2 : 1;
  const number = tokens.slice(0, numberLength).join(' ');
  const rest = tokens.slice(numberLength);
  // Units start at the leftmost place where everything after is units and a street name is left
  // before it; with no such place there are no units.
  for (let start = 1; start <= rest.length; start++) {
    let units: AddressUnit[] = [];
    if (start < rest.length) {
      const parsed = parseUnits(rest.slice(start));
      if (!parsed) continue;
      units = parsed;
    }
    const street = parseStreetName(rest.slice(0, start));
    if (!street) continue;
    // A bare REAR/FRONT/UPPER only counts as a unit after a clear end of street (a suffix or
    // postdirectional): "123 LAKE FRONT" is a street name, "123 MAIN ST FRONT" has a unit.
    const opensWithBareUnit = start < rest.length && UNIT_DESIGNATORS.get(rest[start] ?? '')?.needsId === false;
    if (opensWithBareUnit && !street.suffix && !street.postdirectional) continue;
    return { kind: 'street', number, ...street, units };
  }
  return undefined;
}

const PO_BOX = /^(?:PO BOX|P O BOX|POBOX|POB|PO B|POST OFFICE BOX) (?:# )?(\S*\d\S*)$/;
const RURAL_ROUTE = /^(?:RR|R R|RURAL ROUTE|RURAL RTE|RURAL RT|RFD|R F D|RURAL FREE DELIVERY|RD) (\d+) (?:BOX|BX) (?:# )?(\S*\d\S*)$/;
const HIGHWAY_CONTRACT = /^(?:HC|H C|HIGHWAY CONTRACT|HIGHWAY CONTRACT ROUTE|HWY CONTRACT|STAR ROUTE|STAR RTE) (\d+) (?:BOX|BX) (?:# )?(\S*\d\S*)$/;
const MILITARY = /^(PSC|CMR|UNIT) (\d+) BOX (?:# )?(\d+)$/;

/** Parses a delivery line (line 1, or a line 2 that is units only). */
function parseLine(raw: string, which: 'line1' | 'line2'): ParsedLine | undefined {
  // Callers that skip the schema (workers, household keys) can pass anything; the unit search is
  // quadratic in tokens, so text far past any real line is refused rather than parsed.
  if (raw.length > MAX_RAW_LENGTH) return undefined;
  const tokens = tokenize(raw);
  if (!tokens || tokens.length === 0) return undefined;
  if (which === 'line2') {
    const units = parseUnits(tokens);
    return units ? { kind: 'units', units } : undefined;
  }
  const joined = tokens.join(' ');
  if (joined === 'GENERAL DELIVERY') return { kind: 'general_delivery' };
  let match = PO_BOX.exec(joined);
  // Pub 28 28: every Post Office Box spelling becomes "PO BOX".
  if (match?.[1]) return { kind: 'po_box', box: match[1] };
  // Pub 28 24/25: rural routes as "RR 2 BOX 152" (RFD and RD included), highway contracts as "HC".
  match = RURAL_ROUTE.exec(joined);
  if (match?.[1] && match[2]) return { kind: 'route', route: 'RR', number: match[1], box: match[2] };
  match = HIGHWAY_CONTRACT.exec(joined);
  if (match?.[1] && match[2]) return { kind: 'route', route: 'HC', number: match[1], box: match[2] };
  match = MILITARY.exec(joined);
  if (match?.[1] && match[2] && match[3]) return { kind: 'military', unit: match[1], number: match[2], box: match[3] };
  return parseStreetLine(tokens);
}

const formatUnits = (units: readonly AddressUnit[]): string[] => units.flatMap((u) => (u.id === undefined ? [u.designator] : [u.designator, u.id]));

export function formatLine(line: ParsedLine): string {
  switch (line.kind) {
    case 'street':
      return [line.number, line.predirectional, ...line.name, line.suffix, line.postdirectional, ...formatUnits(line.units)]
        .filter((part): part is string => part !== undefined)
        .join(' ');
    case 'units':
      return formatUnits(line.units).join(' ');
    case 'po_box':
      return `PO BOX ${line.box}`;
    case 'route':
      return `${line.route} ${line.number} BOX ${line.box}`;
    case 'military':
      return `${line.unit} ${line.number} BOX ${line.box}`;
    case 'general_delivery':
      return 'GENERAL DELIVERY';
  }
}

/** City in postal form, or undefined when it is not made of words. */
function standardCity(raw: string): string | undefined {
  if (raw.length > MAX_RAW_LENGTH) return undefined;
  const tokens = clean(raw).replace(/-/g, ' ').split(' ').filter((t) => t !== '');
  return tokens.length > 0 && tokens.every((t) => WORD.test(t)) ? tokens.join(' ') : undefined;
}

/** ZIP or ZIP+4 in 12345 / 12345-6789 form from "12345 6789", "123456789", "12345-6789". */
export function parseZip(raw: string): { zip5: string; zip4?: string } | undefined {
  const match = /^(\d{5})(?:\s*-?\s*(\d{4}))?$/.exec(raw.trim());
  if (!match?.[1]) return undefined;
  return match[2] ? { zip5: match[1], zip4: match[2] } : { zip5: match[1] };
}

// ---------------------------------------------------------------------------------------------
// Suggestions

const MAX_LINE = 100;

const message = (code: string, text: string): SuggestionMessage => ({ code, message: text });
const MESSAGES = {
  notUs: message('address.not_us', 'Only US addresses are standardised; this one is kept as entered.'),
  line1: message('address.line1_unrecognized', 'The street line could not be recognised; it is kept as entered.'),
  line2: message('address.line2_unrecognized', 'The second line is not an apartment, suite or other unit; the address is kept as entered.'),
  city: message('address.city_unrecognized', 'The city could not be recognised; it is kept as entered.'),
  state: message('address.state_unrecognized', 'The state is not a US state, territory or military code; it is kept as entered.'),
  postalCode: message('address.postal_code_unrecognized', 'The ZIP code is not 5 digits or ZIP+4; it is kept as entered.'),
  corrected: message('address.standardized', 'Formatted to US postal conventions. This checks the format, not that the address exists.'),
  unchanged: message('address.already_standard', 'Already in US postal format. This checks the format, not that the address exists.'),
};

const text = (value: unknown): string => (typeof value === 'string' ? value : '');

/** The input as echoed back: strings only, country defaulted, an empty line 2 treated as absent. */
function echo(address: AddressInputDraft): AddressSuggestion['input'] {
  const raw = (address ?? {}) as Partial<Record<AddressField, unknown>>;
  const line2 = text(raw.line2);
  return {
    line1: text(raw.line1),
    ...(line2.trim() === '' ? {} : { line2 }),
    city: text(raw.city),
    state: text(raw.state),
    postalCode: text(raw.postalCode),
    country: text(raw.country).trim() === '' ? COUNTRY_US : text(raw.country),
  };
}

/**
 * Standardises an address and explains what it changed. Never throws: odd input is returned
 * intact with status `unverifiable` and a message per part that could not be recognised.
 */
export function analyzeAddress(address: AddressInputDraft): AddressAnalysis {
  const input = echo(address);
  const unverifiable = (messages: SuggestionMessage[], us?: AddressAnalysis['us']): AddressAnalysis => ({
    suggestion: { input, standardized: { ...input }, changes: [], status: 'unverifiable', messages },
    ...(us ? { us } : {}),
  });

  if (input.country.trim().toUpperCase() !== COUNTRY_US) return unverifiable([MESSAGES.notUs]);

  const line1 = parseLine(input.line1, 'line1');
  const line2 = input.line2 === undefined ? undefined : parseLine(input.line2, 'line2');
  const zip = parseZip(input.postalCode);
  const city = standardCity(input.city);
  const state = usStateCode(input.state);
  const us: NonNullable<AddressAnalysis['us']> = {
    ...(line1 ? { line1 } : {}),
    ...(line2 ? { line2 } : {}),
    line2Parsed: input.line2 === undefined || line2 !== undefined,
    ...(zip ? { zip5: zip.zip5 } : {}),
  };

  const line1Text = line1 && formatLine(line1);
  const line2Text = line2 && formatLine(line2);
  const problems: SuggestionMessage[] = [];
  if (!line1Text || line1Text.length > MAX_LINE) problems.push(MESSAGES.line1);
  if (input.line2 !== undefined && (!line2Text || line2Text.length > MAX_LINE)) problems.push(MESSAGES.line2);
  if (!city) problems.push(MESSAGES.city);
  if (!state) problems.push(MESSAGES.state);
  if (!zip) problems.push(MESSAGES.postalCode);
  if (problems.length > 0 || !line1Text || !city || !state || !zip) return unverifiable(problems, us);

  const standardized: AddressSuggestion['standardized'] = {
    line1: line1Text,
    ...(line2Text ? { line2: line2Text } : {}),
    city,
    state,
    postalCode: zip.zip4 ? `${zip.zip5}-${zip.zip4}` : zip.zip5,
    country: COUNTRY_US,
  };
  const changes: AddressChange[] = [];
  for (const field of ADDRESS_FIELDS) {
    const from = input[field];
    const to = standardized[field];
    if (from !== undefined && to !== undefined && from !== to) changes.push({ field, from, to });
  }
  const status = changes.length > 0 ? 'corrected' : 'unchanged';
  return {
    suggestion: { input, standardized, changes, status, messages: [status === 'corrected' ? MESSAGES.corrected : MESSAGES.unchanged] },
    us,
  };
}

/** The postal-form suggestion for an address; see `analyzeAddress`. */
export function standardizeAddress(address: AddressInputDraft): AddressSuggestion {
  return analyzeAddress(address).suggestion;
}

/** Secondary units found anywhere in free text ("C/O SMITH APT 4" -> APT 4); for household keys. */
export function findUnits(raw: string): AddressUnit[] {
  const tokens = tokenize(raw) ?? clean(raw).split(' ');
  const found: AddressUnit[] = [];
  for (let i = 0; i < tokens.length; i++) {
    for (let end = Math.min(tokens.length, i + 3); end > i; end--) {
      const units = parseUnits(tokens.slice(i, end));
      if (units?.length === 1 && units[0]?.id !== undefined) {
        found.push(units[0]);
        i = end - 1;
        break;
      }
    }
  }
  return found;
}

import { createHash, createHmac } from 'node:crypto';
import { COUNTRY_US, type AddressInputDraft } from './schema.ts';
import { analyzeAddress, findUnits, parseZip, type AddressUnit, type ParsedLine } from './standardize.ts';

/**
 * Household keys for launch-day purchase limits: a household is the normalised shipping address.
 *
 * Variants of one dwelling must collide, because each variant that does not is one more allocation
 * for a reseller ("123 North Main Street Apt 4" = "123 n main st #4"). Different dwellings must not,
 * because a building is many households (APT 4 is not APT 5). Where the two pull apart the key errs
 * towards collapsing: the ZIP+4, the city and the choice of APT/UNIT/STE/# are ignored.
 *
 * The key is hashed so Redis never holds an address. A plain SHA-256 of an address can be reversed
 * by enumerating the addresses of one ZIP, so production should pass a server-side `secret`
 * (HMAC-SHA-256); keys made with and without it, or with different secrets, never match.
 * Changing this file's rules changes keys: counts must then be rebuilt from orders (the inventory
 * reconcile does that).
 */

export interface KeyOptions {
  /** Server-side secret for HMAC-SHA-256; without it the key is a plain SHA-256. */
  secret?: string | Buffer;
}

const KEY_HEX_LENGTH = 32;

function digest(material: string, options: KeyOptions): string {
  const hash = options.secret === undefined ? createHash('sha256') : createHmac('sha256', options.secret);
  return hash.update(material, 'utf8').digest('hex').slice(0, KEY_HEX_LENGTH);
}

/** Upper case without accents, punctuation or spaces: "Peña-Côte St." -> "PENACOTEST". */
function fold(value: unknown): string {
  return (typeof value === 'string' ? value : '')
    .normalize('NFKD')
    .replace(/\p{M}/gu, '')
    .toUpperCase()
    .replace(/[^\p{L}\p{N}]+/gu, '');
}

// People write one dwelling's unit as APT, UNIT, STE, # or PMB interchangeably, so they share a
// class; BLDG, FL, REAR and the like name a different thing and keep their own.
const DWELLING_DESIGNATORS = new Set(['APT', 'UNIT', 'STE', '#', 'RM', 'PMB', 'SPC', 'LOT', 'TRLR']);

function unitKey(unit: AddressUnit): string {
  const kind = DWELLING_DESIGNATORS.has(unit.designator) ? '#' : unit.designator;
  if (unit.id === undefined) return kind;
  // "04-B", "4 B" and "4B" are one door.
  return `${kind}=${fold(unit.id).replace(/^0+(?=\d)/, '')}`;
}

function primaryKey(line: ParsedLine): string {
  switch (line.kind) {
    case 'street':
      // The number keeps its hyphen or fraction: 12-34 (Queens) and 1234 are different buildings.
      return ['S', line.number, line.predirectional ?? '', fold(line.name.join('')), line.suffix ?? '', line.postdirectional ?? ''].join('|');
    case 'po_box':
      return `B|${line.box}`;
    case 'route':
      return `R|${line.route}|${line.number}|${line.box}`;
    case 'military':
      return `M|${line.unit}|${line.number}|${line.box}`;
    case 'general_delivery':
      return 'G';
    case 'units':
      return '';
  }
}

const linesUnits = (line: ParsedLine | undefined): AddressUnit[] => (line?.kind === 'street' || line?.kind === 'units' ? line.units : []);

/**
 * The pre-hash form of `householdKey`. It contains the address: use it in tests and while
 * debugging, never store or log it.
 */
export function householdCanonicalForm(address: AddressInputDraft): string {
  const raw = (address ?? {}) as Partial<Record<string, unknown>>;
  const { suggestion, us } = analyzeAddress(address);
  const line2 = suggestion.input.line2 ?? '';

  // US with a recognisable street line and ZIP: postal components, whatever the city, state or a
  // free-text line 2 ("c/o", "attn") say. Units found in an unparsed line 2 still count.
  if (us?.line1 && us.zip5) {
    const units = [...linesUnits(us.line1), ...(us.line2Parsed ? linesUnits(us.line2) : findUnits(line2))];
    const unitPart = units.map(unitKey).sort().join(',');
    return ['household.v1', COUNTRY_US, us.zip5, primaryKey(us.line1), unitPart].join('|');
  }

  // Anything else: the folded text, which still absorbs case, spacing and punctuation.
  const country = fold(raw.country) || COUNTRY_US;
  const zip = country === COUNTRY_US ? parseZip(suggestion.input.postalCode) : undefined;
  const place = zip ? [zip.zip5, '', ''] : [fold(raw.postalCode), fold(raw.city), fold(raw.state)];
  return ['household.v1', 'text', country, ...place, fold(`${suggestion.input.line1} ${line2}`)].join('|');
}

/**
 * A stable key for "the same household" (32 hex characters). Never throws, whatever the input.
 * Pass `{ secret }` in production (see the file comment).
 */
export function householdKey(address: AddressInputDraft, options: KeyOptions = {}): string {
  return digest(householdCanonicalForm(address), options);
}

/**
 * A key for "the same person's name" (32 hex characters) for "one address, many names" checks.
 * Case, accents, spaces, hyphens and apostrophes are ignored ("Jean-Luc O'Neil" = "jean luc oneil");
 * JR/SR are kept because a father and son at one address are two people. Never throws.
 */
export function nameKey(first: string, last: string, options: KeyOptions = {}): string {
  return digest(['name.v1', fold(first), fold(last)].join('|'), options);
}

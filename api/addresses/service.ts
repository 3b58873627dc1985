import { parseOrThrow } from '../../platform/errors.ts';
import { householdKey, nameKey, type KeyOptions } from './household.ts';
import { AddressInput, type AddressInputDraft, type AddressSuggestion } from './schema.ts';
import { standardizeAddress } from './standardize.ts';

export interface AddressServiceDeps {
  /**
   * Server-side secret for household and name keys (HMAC). Without it keys are plain SHA-256,
   * which anyone with an address list can reverse; set it in production and keep it stable,
   * since changing it changes every key.
   */
  householdSecret?: string | Buffer;
}

export interface AddressService {
  /**
   * Validates the shape of an address (ValidationError naming each bad field) and returns the
   * postal-form suggestion. The caller keeps whichever form the customer chooses.
   */
  suggest(address: unknown): AddressSuggestion;
  /** See `householdKey` in household.ts; uses the service's secret. Never throws. */
  householdKey(address: AddressInputDraft): string;
  /** See `nameKey` in household.ts; uses the service's secret. Never throws. */
  nameKey(first: string, last: string): string;
}

export function createAddressService(deps: AddressServiceDeps = {}): AddressService {
  const keyOptions: KeyOptions = deps.householdSecret === undefined ? {} : { secret: deps.householdSecret };
  return {
    suggest(address) {
      return standardizeAddress(parseOrThrow(AddressInput, address, 'The address is incomplete or malformed.'));
    },
    householdKey: (address) => householdKey(address, keyOptions),
    nameKey: (first, last) => nameKey(first, last, keyOptions),
  };
}

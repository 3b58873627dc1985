/** An address in a form: its values, field ids and the body the API takes (no JSX, so tests and plain modules can import it). */
import type { PostalAddress } from '../../../api/addresses/schema.ts';
import { W, type FormField } from '../lib/wording.ts';

export interface AddressValues {
  line1: string;
  line2: string;
  city: string;
  state: string;
  postalCode: string;
  country: string;
}

export const EMPTY_ADDRESS: AddressValues = { line1: '', line2: '', city: '', state: '', postalCode: '', country: 'US' };

export const COUNTRIES = [
  { value: 'US', label: 'United States' },
  { value: 'CA', label: 'Canada' },
  { value: 'GB', label: 'United Kingdom' },
  { value: 'AU', label: 'Australia' },
  { value: 'DE', label: 'Germany' },
] as const;

const PARTS = [
  ['line1', W.line1],
  ['line2', W.line2],
  ['city', W.city],
  ['state', W.state],
  ['postalCode', W.postalCode],
  ['country', W.country],
] as const;

/** Element id of one part of the address fields with this prefix ("billing-zip"). */
export const partId = (prefix: string, part: keyof AddressValues) => `${prefix}-${part === 'postalCode' ? 'zip' : part}`;

/** The form fields of an address whose API path is `path` ("billingAddress", "shipments.0.address"). */
export function addressFields(prefix: string, path: string): FormField[] {
  return PARTS.map(([part, wording]) => ({ id: partId(prefix, part), paths: [`${path}.${part}`], wording }));
}

export function addressValuesOf(address: Partial<PostalAddress> | Partial<AddressValues>): AddressValues {
  return {
    line1: address.line1 ?? '',
    line2: address.line2 ?? '',
    city: address.city ?? '',
    state: address.state ?? '',
    postalCode: address.postalCode ?? '',
    country: COUNTRIES.some((c) => c.value === address.country) ? (address.country as string) : 'US',
  };
}

/** What the API takes: trimmed, without an empty second line. */
export function addressBody(values: AddressValues) {
  const line2 = values.line2.trim();
  return {
    line1: values.line1.trim(),
    ...(line2 ? { line2 } : {}),
    city: values.city.trim(),
    state: values.state.trim(),
    postalCode: values.postalCode.trim(),
    country: values.country,
  };
}

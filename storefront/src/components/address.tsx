import type { ComponentChildren } from 'preact';
import type { PostalAddress } from '../../../api/addresses/schema.ts';
import { W, type FieldErrors, type FormField } from '../lib/wording.ts';
import { SelectField, TextField } from './fields.tsx';

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

export interface AddressFieldsProps {
  prefix: string;
  /** "billing" or "shipping": the autocomplete section, so browsers fill the right address. */
  section?: 'billing' | 'shipping';
  values: AddressValues;
  onChange: (values: AddressValues) => void;
  errors: FieldErrors;
  children?: ComponentChildren;
}

export function AddressFields({ prefix, section, values, onChange, errors }: AddressFieldsProps) {
  const auto = (token: string) => (section ? `${section} ${token}` : token);
  const set = (part: keyof AddressValues) => (value: string) => onChange({ ...values, [part]: value });
  return (
    <>
      <TextField id={partId(prefix, 'line1')} label="Street address" autoComplete={auto('address-line1')} value={values.line1} onValue={set('line1')} error={errors[partId(prefix, 'line1')]} />
      <TextField
        id={partId(prefix, 'line2')}
        label={
          <>
            Apartment, suite, etc. <span class="optional">(optional)</span>
          </>
        }
        autoComplete={auto('address-line2')}
        value={values.line2}
        onValue={set('line2')}
        error={errors[partId(prefix, 'line2')]}
      />
      <div class="row row--3">
        <TextField id={partId(prefix, 'city')} label="City" autoComplete={auto('address-level2')} value={values.city} onValue={set('city')} error={errors[partId(prefix, 'city')]} />
        <TextField id={partId(prefix, 'state')} label="State" autoComplete={auto('address-level1')} value={values.state} onValue={set('state')} error={errors[partId(prefix, 'state')]} />
        <TextField id={partId(prefix, 'postalCode')} label="ZIP code" autoComplete={auto('postal-code')} inputMode="numeric" value={values.postalCode} onValue={set('postalCode')} error={errors[partId(prefix, 'postalCode')]} />
      </div>
      <SelectField id={partId(prefix, 'country')} label="Country" autoComplete={auto('country')} value={values.country} onValue={set('country')} options={COUNTRIES} error={errors[partId(prefix, 'country')]} />
    </>
  );
}

/** An address as lines of text, with the parts in `changed` marked (a suggestion's corrections). */
export function AddressLines({ address, changed = new Set() }: { address: { line1: string; line2?: string | undefined; city: string; state: string; postalCode: string; country: string }; changed?: Set<string> }) {
  const part = (field: string, text: string) => (changed.has(field) ? <mark>{text}</mark> : text);
  return (
    <address class="address">
      <span>{part('line1', address.line1)}</span>
      {address.line2 ? <span>{part('line2', address.line2)}</span> : null}
      <span>
        {part('city', address.city)}, {part('state', address.state)} {part('postalCode', address.postalCode)}
      </span>
      <span>{part('country', address.country)}</span>
    </address>
  );
}

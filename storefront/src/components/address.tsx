import type { ComponentChildren } from 'preact';
import { type FieldErrors } from '../lib/wording.ts';
import { SelectField, TextField } from './fields.tsx';
import { COUNTRIES, partId, type AddressValues } from './address-values.ts';

export { addressBody, addressFields, addressValuesOf, COUNTRIES, EMPTY_ADDRESS, partId, type AddressValues } from './address-values.ts';

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

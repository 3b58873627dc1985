import { useState } from 'preact/hooks';
import { NewSavedAddress, type CustomerProfile, type SavedAddress } from '../../../../api/customers/schema.ts';
import { fieldIssuesFromZod } from '../../../../platform/errors.ts';
import { AddressFields, addressBody, addressFields, AddressLines, addressValuesOf, EMPTY_ADDRESS, partId, type AddressValues } from '../../components/address.tsx';
import { ErrorSummary, TextField } from '../../components/fields.tsx';
import { api } from '../../lib/api.ts';
import { announce } from '../../lib/announce.ts';
import { setCustomer } from '../../lib/store.ts';
import { useFormErrors } from '../../lib/use-form-errors.ts';
import { W, type FormField } from '../../lib/wording.ts';

const FIELDS: FormField[] = [{ id: 'addr-label', paths: ['label'], wording: W.addressLabel }, ...addressFields('addr', 'address')];

/** Saved addresses: offered at checkout; adding, changing and removing them here. */
export function AddressesSection({ customer }: { customer: CustomerProfile }) {
  /** The address being edited, 'new' for the add form, or null. */
  const [editing, setEditing] = useState<string | null>(null);
  const [problem, setProblem] = useState('');

  async function remove(entry: SavedAddress) {
    setProblem('');
    const result = await api<CustomerProfile>('PATCH', '/api/customers/me', { body: { addresses: { remove: [entry.id] } } });
    if (!result.ok) return setProblem(result.error.message);
    setCustomer(result.data);
    announce(`${entry.label} removed.`);
  }

  return (
    <>
      {problem ? <p class="alert alert--error">{problem}</p> : null}
      {customer.addresses.length === 0 ? <p>You have no saved addresses. Add one to fill in checkout faster.</p> : null}
      <ul class="saved-list">
        {customer.addresses.map((entry) =>
          editing === entry.id ? (
            <li key={entry.id} class="saved-list__item">
              <AddressForm customer={customer} entry={entry} onDone={() => setEditing(null)} />
            </li>
          ) : (
            <li key={entry.id} class="saved-list__item" data-address-id={entry.id}>
              <div>
                <h3>{entry.label}</h3>
                <AddressLines address={entry.address} />
              </div>
              <div class="saved-list__actions">
                <button type="button" class="button button--small button--secondary" onClick={() => setEditing(entry.id)}>
                  Edit<span class="visually-hidden"> {entry.label}</span>
                </button>
                <button type="button" class="button button--small button--link" onClick={() => void remove(entry)}>
                  Remove<span class="visually-hidden"> {entry.label}</span>
                </button>
              </div>
            </li>
          ),
        )}
      </ul>
      {editing === 'new' ? (
        <AddressForm customer={customer} onDone={() => setEditing(null)} />
      ) : (
        <button type="button" class="button button--secondary" onClick={() => setEditing('new')} disabled={editing !== null}>
          Add an address
        </button>
      )}
    </>
  );
}

function AddressForm({ customer, entry, onDone }: { customer: CustomerProfile; entry?: SavedAddress; onDone: () => void }) {
  const [label, setLabel] = useState(entry?.label ?? (customer.addresses.length ? '' : 'Home'));
  const [address, setAddress] = useState<AddressValues>(entry ? addressValuesOf(entry.address) : EMPTY_ADDRESS);
  const [busy, setBusy] = useState(false);
  const valueOf = (id: string) => (id === 'addr-label' ? label : address[(Object.keys(address) as (keyof AddressValues)[]).find((part) => partId('addr', part) === id)!]);
  const form = useFormErrors(FIELDS, valueOf);

  async function submit(event: Event) {
    event.preventDefault();
    if (busy) return;
    const saved = { label: label.trim(), address: addressBody(address) };
    const parsed = NewSavedAddress.safeParse(saved);
    if (!parsed.success) return form.show(fieldIssuesFromZod(parsed.error, saved), 'Please check the highlighted fields.');
    setBusy(true);
    const changes = entry ? { update: [{ id: entry.id, ...saved }] } : { add: [saved] };
    const result = await api<CustomerProfile>('PATCH', '/api/customers/me', { body: { addresses: changes } });
    setBusy(false);
    if (!result.ok) {
      // The API names the change's index ("addresses.add.0.address.state"): the form has one.
      const issues = (result.error.fields ?? []).map((issue) => ({ ...issue, path: issue.path.replace(/^addresses\.(add|update)\.\d+\./, '') }));
      return form.show(issues, result.error.message);
    }
    setCustomer(result.data);
    announce(entry ? `${saved.label} saved.` : `${saved.label} added.`);
    onDone();
  }

  return (
    <form id="address-form" class="account-form" noValidate onSubmit={submit} aria-label={entry ? `Edit ${entry.label}` : 'Add an address'} data-address="saved">
      <h3>{entry ? `Edit ${entry.label}` : 'Add an address'}</h3>
      <ErrorSummary id="address-errors" message={form.summary?.message ?? null} unplaced={form.summary?.unplaced} focusKey={form.focusKey} errors={form.errors} />
      <TextField id="addr-label" label="Name of this address" value={label} onValue={setLabel} error={form.errors['addr-label']} hint="For example Home or Office." narrow />
      <AddressFields prefix="addr" values={address} onChange={setAddress} errors={form.errors} />
      <div class="actions">
        <button type="submit" class="button button--primary" disabled={busy}>
          Save address
        </button>
        <button type="button" class="button button--secondary" onClick={onDone}>
          Cancel
        </button>
      </div>
    </form>
  );
}

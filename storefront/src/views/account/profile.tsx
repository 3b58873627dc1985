import { useState } from 'preact/hooks';
import { ChangePasswordInput, ProfileUpdateInput, type CustomerProfile } from '../../../../api/customers/schema.ts';
import { fieldIssuesFromZod } from '../../../../platform/errors.ts';
import { ErrorSummary, SelectField, TextField } from '../../components/fields.tsx';
import { api } from '../../lib/api.ts';
import { phoneForDisplay } from '../../lib/format.ts';
import { setCustomer } from '../../lib/store.ts';
import { useFormErrors } from '../../lib/use-form-errors.ts';
import { W, type FormField } from '../../lib/wording.ts';
import { conflictIssues, MONTH_OPTIONS } from '../register.tsx';

const PROFILE_FIELDS: FormField[] = [
  { id: 'profile-first', paths: ['firstName'], wording: W.firstName },
  { id: 'profile-last', paths: ['lastName'], wording: W.lastName },
  { id: 'profile-email', paths: ['email'], wording: W.email },
  { id: 'profile-phone', paths: ['phone'], wording: W.phone },
  { id: 'profile-birth-month', paths: ['birthMonth'], wording: W.birthMonth },
];

const PASSWORD_FIELDS: FormField[] = [
  { id: 'password-current', paths: ['currentPassword'], wording: W.currentPassword },
  { id: 'password-new', paths: ['newPassword'], wording: W.newPassword },
];

export function ProfileSection({ customer }: { customer: CustomerProfile }) {
  return (
    <>
      <ProfileForm customer={customer} />
      <PasswordForm />
    </>
  );
}

function ProfileForm({ customer }: { customer: CustomerProfile }) {
  const initial = () => ({
    firstName: customer.firstName,
    lastName: customer.lastName,
    email: customer.email ?? '',
    phone: customer.phone ? phoneForDisplay(customer.phone) : '',
    birthMonth: customer.birthMonth ? String(customer.birthMonth) : '',
  });
  const [values, setValues] = useState(initial);
  const [saved, setSaved] = useState('');
  const [busy, setBusy] = useState(false);
  const ids: Record<string, string> = { 'profile-first': values.firstName, 'profile-last': values.lastName, 'profile-email': values.email, 'profile-phone': values.phone, 'profile-birth-month': values.birthMonth };
  const form = useFormErrors(PROFILE_FIELDS, (id) => ids[id]);
  const set = (patch: Partial<typeof values>) => {
    setSaved('');
    setValues((current) => ({ ...current, ...patch }));
  };

  async function submit(event: Event) {
    event.preventDefault();
    if (busy) return;
    setSaved('');
    const body: Record<string, unknown> = {};
    if (values.firstName.trim() !== customer.firstName) body.firstName = values.firstName.trim();
    if (values.lastName.trim() !== customer.lastName) body.lastName = values.lastName.trim();
    if (values.email.trim() !== (customer.email ?? '')) body.email = values.email.trim();
    if (values.phone.trim() !== (customer.phone ? phoneForDisplay(customer.phone) : '')) body.phone = values.phone.trim();
    const month = values.birthMonth ? Number(values.birthMonth) : null;
    if (month !== customer.birthMonth) body.birthMonth = month;
    if (Object.keys(body).length === 0) {
      form.clear();
      setSaved('Nothing to save: your details are as shown.');
      return;
    }
    const parsed = ProfileUpdateInput.safeParse(body);
    if (!parsed.success) return form.show(fieldIssuesFromZod(parsed.error, body), 'Please check the highlighted fields.');
    setBusy(true);
    const result = await api<CustomerProfile>('PATCH', '/api/customers/me', { body });
    setBusy(false);
    if (!result.ok) return form.show(conflictIssues(result.error), result.error.message);
    form.clear();
    setCustomer(result.data);
    setSaved('Your details are saved.');
  }

  return (
    <form id="profile-form" class="account-form" noValidate onSubmit={submit} aria-label="Your details">
      <ErrorSummary id="profile-errors" message={form.summary?.message ?? null} unplaced={form.summary?.unplaced} focusKey={form.focusKey} errors={form.errors} />
      <div class="row">
        <TextField id="profile-first" label="First name" autoComplete="given-name" value={values.firstName} onValue={(firstName) => set({ firstName })} error={form.errors['profile-first']} />
        <TextField id="profile-last" label="Last name" autoComplete="family-name" value={values.lastName} onValue={(lastName) => set({ lastName })} error={form.errors['profile-last']} />
      </div>
      <div class="row">
        <TextField id="profile-email" label="Email" type="email" autoComplete="email" value={values.email} onValue={(email) => set({ email })} error={form.errors['profile-email']} />
        <TextField id="profile-phone" label="Phone" type="tel" autoComplete="tel" value={values.phone} onValue={(phone) => set({ phone })} error={form.errors['profile-phone']} />
      </div>
      <SelectField id="profile-birth-month" label="Birth month" value={values.birthMonth} onValue={(birthMonth) => set({ birthMonth })} options={MONTH_OPTIONS} error={form.errors['profile-birth-month']} />
      <div class="actions">
        <button type="submit" class="button button--primary" disabled={busy}>
          Save details
        </button>
        <p class="muted" role="status">
          {saved}
        </p>
      </div>
    </form>
  );
}

function PasswordForm() {
  const [current, setCurrent] = useState('');
  const [next, setNext] = useState('');
  const [saved, setSaved] = useState('');
  const ids: Record<string, string> = { 'password-current': current, 'password-new': next };
  const form = useFormErrors(PASSWORD_FIELDS, (id) => ids[id]);

  async function submit(event: Event) {
    event.preventDefault();
    setSaved('');
    const body = { currentPassword: current, newPassword: next };
    const parsed = ChangePasswordInput.safeParse(body);
    if (!parsed.success) return form.show(fieldIssuesFromZod(parsed.error, body), 'Please check the highlighted fields.');
    const result = await api('POST', '/api/customers/me/password', { body });
    if (!result.ok) {
      const issues = result.error.code === 'customers.password_incorrect' ? [{ path: 'currentPassword', code: result.error.code, message: result.error.message }] : (result.error.fields ?? []);
      return form.show(issues, result.error.message);
    }
    form.clear();
    setCurrent('');
    setNext('');
    setSaved('Your password is changed.');
  }

  return (
    <form id="password-form" class="account-form" noValidate onSubmit={submit} aria-label="Change your password">
      <h3>Change your password</h3>
      <ErrorSummary id="password-errors" message={form.summary?.message ?? null} unplaced={form.summary?.unplaced} focusKey={form.focusKey} errors={form.errors} />
      <div class="row">
        <TextField id="password-current" label="Current password" type="password" autoComplete="current-password" value={current} onValue={setCurrent} error={form.errors['password-current']} />
        <TextField id="password-new" label="New password" type="password" autoComplete="new-password" value={next} onValue={setNext} error={form.errors['password-new']} hint="At least 10 characters." />
      </div>
      <div class="actions">
        <button type="submit" class="button button--secondary">
          Change password
        </button>
        <p class="muted" role="status">
          {saved}
        </p>
      </div>
    </form>
  );
}

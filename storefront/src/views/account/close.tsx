import { useState } from 'preact/hooks';
import { CloseAccountInput } from '../../../../api/customers/schema.ts';
import { fieldIssuesFromZod } from '../../../../platform/errors.ts';
import { ErrorSummary, TextField } from '../../components/fields.tsx';
import { api } from '../../lib/api.ts';
import { navigate } from '../../lib/router.ts';
import { notify, signedOut } from '../../lib/store.ts';
import { useFormErrors } from '../../lib/use-form-errors.ts';
import { W, type FormField } from '../../lib/wording.ts';

const FIELDS: FormField[] = [{ id: 'close-password', paths: ['password'], wording: W.closePassword }];

export function CloseSection() {
  const [password, setPassword] = useState('');
  const [busy, setBusy] = useState(false);
  const form = useFormErrors(FIELDS, () => password);

  async function submit(event: Event) {
    event.preventDefault();
    if (busy) return;
    const body = { password };
    const parsed = CloseAccountInput.safeParse(body);
    if (!parsed.success) return form.show(fieldIssuesFromZod(parsed.error, body), 'Please check the highlighted fields.');
    setBusy(true);
    const result = await api('POST', '/api/customers/me/close', { body });
    setBusy(false);
    if (!result.ok) {
      setPassword('');
      const issues = result.error.code === 'customers.password_incorrect' ? [{ path: 'password', code: result.error.code, message: result.error.message }] : (result.error.fields ?? []);
      return form.show(issues, result.error.message);
    }
    signedOut();
    navigate('/catalog');
    notify('Your account is closed and you are signed out. Thank you for shopping with us.', 'catalog');
  }

  return (
    <>
      <p>Closing the account signs you out everywhere, deletes your saved addresses and cards, and stops all marketing email. You cannot sign in to it again.</p>
      <p>We keep the records of your past orders for as long as the law requires; you can still look an order up with its number and your email or billing ZIP code.</p>
      <form id="close-form" class="account-form" noValidate onSubmit={submit} aria-label="Close your account">
        <ErrorSummary id="close-errors" message={form.summary?.message ?? null} unplaced={form.summary?.unplaced} focusKey={form.focusKey} errors={form.errors} />
        <TextField id="close-password" label="Your password" type="password" autoComplete="current-password" value={password} onValue={setPassword} error={form.errors['close-password']} hint="To be sure it is you." />
        <button type="submit" class="button button--danger" disabled={busy}>
          Close my account
        </button>
      </form>
    </>
  );
}

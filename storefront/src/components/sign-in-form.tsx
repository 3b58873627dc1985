import { useState } from 'preact/hooks';
import type { CustomerProfile } from '../../../api/customers/schema.ts';
import { LoginInput } from '../../../api/customers/schema.ts';
import { fieldIssuesFromZod } from '../../../platform/errors.ts';
import { api } from '../lib/api.ts';
import { signedIn } from '../lib/store.ts';
import { placeIssues, W, type FieldErrors, type FormField } from '../lib/wording.ts';
import { ErrorSummary, summaryHeading, TextField } from './fields.tsx';

interface LoginResponse {
  customer: CustomerProfile;
  session: { token: string };
}

/** Sign-in with the email address or login name; `idPrefix` keeps ids unique where two forms share a page. */
export function SignInForm({ idPrefix, onSignedIn }: { idPrefix: string; onSignedIn?: () => void }) {
  const ids = { login: `${idPrefix}-login`, password: `${idPrefix}-password` };
  const fields: FormField[] = [
    { id: ids.login, paths: ['login'], wording: W.login },
    { id: ids.password, paths: ['password'], wording: W.password },
  ];
  const [login, setLogin] = useState('');
  const [password, setPassword] = useState('');
  const [errors, setErrors] = useState<FieldErrors>({});
  const [summary, setSummary] = useState<{ message: string; unplaced: string[] } | null>(null);
  const [focusKey, setFocusKey] = useState(0);
  const [busy, setBusy] = useState(false);

  function show(placed: { errors: FieldErrors; unplaced: string[] }, fallback: string) {
    setErrors(placed.errors);
    setSummary({ message: summaryHeading(Object.keys(placed.errors).length, placed.unplaced.length, fallback), unplaced: Object.keys(placed.errors).length ? placed.unplaced : [] });
    setFocusKey((key) => key + 1);
  }

  async function submit(event: Event) {
    event.preventDefault();
    if (busy) return;
    const body = { login: login.trim(), password };
    const valueOf = (id: string) => (id === ids.login ? body.login : password);
    const parsed = LoginInput.safeParse(body);
    if (!parsed.success) return show(placeIssues(fieldIssuesFromZod(parsed.error, body), fields, valueOf), '');
    setBusy(true);
    const result = await api<LoginResponse>('POST', '/api/customers/login', { body });
    setBusy(false);
    if (!result.ok) {
      setPassword('');
      return show(placeIssues(result.error.fields ?? [], fields, valueOf), result.error.message);
    }
    setErrors({});
    setSummary(null);
    setPassword('');
    signedIn(result.data.session.token, result.data.customer);
    onSignedIn?.();
  }

  return (
    <form class="account-form" noValidate onSubmit={submit} aria-label="Sign in">
      <ErrorSummary id={`${idPrefix}-errors`} message={summary?.message ?? null} unplaced={summary?.unplaced} focusKey={focusKey} errors={errors} />
      <TextField id={ids.login} label="Email or login name" autoComplete="username" value={login} onValue={setLogin} error={errors[ids.login]} />
      <TextField id={ids.password} label="Password" type="password" autoComplete="current-password" value={password} onValue={setPassword} error={errors[ids.password]} />
      <button type="submit" class="button button--primary" disabled={busy}>
        Sign in
      </button>
    </form>
  );
}

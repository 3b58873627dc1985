import { useState } from 'preact/hooks';
import { RegisterInput, SECURITY_QUESTIONS, type CustomerProfile } from '../../../api/customers/schema.ts';
import { fieldIssuesFromZod, type FieldIssue } from '../../../platform/errors.ts';
import { CheckField, ErrorSummary, SelectField, summaryHeading, TextField } from '../components/fields.tsx';
import { api, type ApiError } from '../lib/api.ts';
import { monthName } from '../lib/format.ts';
import { navigate } from '../lib/router.ts';
import { signedIn, useShop } from '../lib/store.ts';
import { placeIssues, W, type FieldErrors, type FormField } from '../lib/wording.ts';

const FIELDS: FormField[] = [
  { id: 'reg-first', paths: ['firstName'], wording: W.firstName },
  { id: 'reg-last', paths: ['lastName'], wording: W.lastName },
  { id: 'reg-email', paths: ['email'], wording: W.email },
  { id: 'reg-phone', paths: ['phone'], wording: W.phone },
  { id: 'reg-login', paths: ['loginName'], wording: W.loginName },
  { id: 'reg-password', paths: ['password'], wording: W.newPassword },
  { id: 'reg-question', paths: ['securityQuestion.questionId', 'securityQuestion'], wording: W.securityQuestion },
  { id: 'reg-answer', paths: ['securityQuestion.answer'], wording: W.securityAnswer },
  { id: 'reg-birth-month', paths: ['birthMonth'], wording: W.birthMonth },
  { id: 'reg-age', paths: ['ageAttestation'], wording: W.ageAttestation },
  { id: 'reg-terms', paths: ['acceptTerms'], wording: W.acceptTerms },
];

export const QUESTION_OPTIONS = [{ value: '', label: 'Choose a question…' }, ...Object.entries(SECURITY_QUESTIONS).map(([value, label]) => ({ value, label }))];
export const MONTH_OPTIONS = [{ value: '', label: 'Prefer not to say' }, ...Array.from({ length: 12 }, (_, i) => ({ value: String(i + 1), label: monthName(i + 1) }))];

interface Values {
  firstName: string;
  lastName: string;
  email: string;
  phone: string;
  loginName: string;
  password: string;
  questionId: string;
  answer: string;
  birthMonth: string;
  age: boolean;
  terms: boolean;
  marketing: boolean;
  tracking: boolean;
}

const EMPTY: Values = { firstName: '', lastName: '', email: '', phone: '', loginName: '', password: '', questionId: '', answer: '', birthMonth: '', age: false, terms: false, marketing: false, tracking: false };

/** The API's "already taken" conflicts name their field in `details.field`: shown there. */
export function conflictIssues(error: ApiError): FieldIssue[] {
  const field = error.details?.field;
  return typeof field === 'string' ? [{ path: field, code: error.code, message: error.message }] : (error.fields ?? []);
}

export function RegisterPage({ next }: { next: string | null }) {
  const { session } = useShop();
  const [values, setValues] = useState<Values>(EMPTY);
  const [errors, setErrors] = useState<FieldErrors>({});
  const [summary, setSummary] = useState<{ message: string; unplaced: string[] } | null>(null);
  const [focusKey, setFocusKey] = useState(0);
  const [busy, setBusy] = useState(false);
  const set = (patch: Partial<Values>) => setValues((current) => ({ ...current, ...patch }));

  const valueOf = (id: string): unknown =>
    ({
      'reg-first': values.firstName,
      'reg-last': values.lastName,
      'reg-email': values.email,
      'reg-phone': values.phone,
      'reg-login': values.loginName,
      'reg-password': values.password,
      'reg-question': values.questionId,
      'reg-answer': values.answer,
      'reg-birth-month': values.birthMonth,
      'reg-age': values.age,
      'reg-terms': values.terms,
    })[id];

  function show(issues: FieldIssue[], fallback: string) {
    const placed = placeIssues(issues, FIELDS, valueOf);
    setErrors(placed.errors);
    setSummary({ message: summaryHeading(Object.keys(placed.errors).length, placed.unplaced.length, fallback), unplaced: Object.keys(placed.errors).length ? placed.unplaced : [] });
    setFocusKey((key) => key + 1);
  }

  async function submit(event: Event) {
    event.preventDefault();
    if (busy) return;
    const body = {
      firstName: values.firstName.trim(),
      lastName: values.lastName.trim(),
      email: values.email.trim(),
      phone: values.phone.trim(),
      loginName: values.loginName.trim(),
      password: values.password,
      securityQuestion: { questionId: values.questionId, answer: values.answer.trim() },
      ageAttestation: values.age,
      acceptTerms: values.terms,
      consents: { marketingEmail: values.marketing, tracking: values.tracking },
      // Opting in to marketing email subscribes to the new-release announcements; the rest are chosen in the account.
      ...(values.marketing ? { emailTopics: { product_updates: true } } : {}),
      ...(values.birthMonth ? { birthMonth: Number(values.birthMonth) } : {}),
    };
    const parsed = RegisterInput.safeParse(body);
    if (!parsed.success) return show(fieldIssuesFromZod(parsed.error, body), 'Please check the highlighted fields.');
    setBusy(true);
    const result = await api<{ customer: CustomerProfile; session: { token: string } }>('POST', '/api/customers/register', { body });
    setBusy(false);
    if (!result.ok) return show(conflictIssues(result.error), result.error.message);
    set({ password: '' });
    signedIn(result.data.session.token, result.data.customer);
    navigate(next ?? '/account/orders');
  }

  if (session) {
    return (
      <div class="account-narrow">
        <h1 id="register-title">Create an account</h1>
        <p>
          You are signed in. <a href="#/account/orders">Go to your account</a>.
        </p>
      </div>
    );
  }

  return (
    <div class="account-narrow">
      <h1 id="register-title">Create an account</h1>
      <p class="lede">Keep your addresses and cards for the next order, and follow every order in one place.</p>
      <form id="register-form" class="account-form" noValidate onSubmit={submit}>
        <ErrorSummary id="register-errors" message={summary?.message ?? null} unplaced={summary?.unplaced} focusKey={focusKey} errors={errors} />
        <fieldset>
          <legend>About you</legend>
          <div class="row">
            <TextField id="reg-first" label="First name" autoComplete="given-name" value={values.firstName} onValue={(firstName) => set({ firstName })} error={errors['reg-first']} />
            <TextField id="reg-last" label="Last name" autoComplete="family-name" value={values.lastName} onValue={(lastName) => set({ lastName })} error={errors['reg-last']} />
          </div>
          <div class="row">
            <TextField id="reg-email" label="Email" type="email" autoComplete="email" value={values.email} onValue={(email) => set({ email })} error={errors['reg-email']} />
            <TextField id="reg-phone" label="Phone" type="tel" autoComplete="tel" value={values.phone} onValue={(phone) => set({ phone })} error={errors['reg-phone']} />
          </div>
          <SelectField id="reg-birth-month" label={<>Birth month <span class="optional">(optional, for a birthday note)</span></>} value={values.birthMonth} onValue={(birthMonth) => set({ birthMonth })} options={MONTH_OPTIONS} error={errors['reg-birth-month']} />
        </fieldset>
        <fieldset>
          <legend>Signing in</legend>
          <TextField id="reg-login" label="Login name" autoComplete="username" value={values.loginName} onValue={(loginName) => set({ loginName })} error={errors['reg-login']} hint="3 to 40 letters, digits, dots, dashes or underscores. You can also sign in with your email." />
          <TextField id="reg-password" label="Password" type="password" autoComplete="new-password" value={values.password} onValue={(password) => set({ password })} error={errors['reg-password']} hint="At least 10 characters." />
          <SelectField id="reg-question" label="Security question" narrow={false} value={values.questionId} onValue={(questionId) => set({ questionId })} options={QUESTION_OPTIONS} error={errors['reg-question']} />
          <TextField id="reg-answer" label="Answer" autoComplete="off" value={values.answer} onValue={(answer) => set({ answer })} error={errors['reg-answer']} hint="Used only to reset your password." />
        </fieldset>
        <fieldset>
          <legend>Terms and choices</legend>
          <CheckField id="reg-age" label="I am 18 years of age or older." checked={values.age} onChecked={(age) => set({ age })} error={errors['reg-age']} />
          <CheckField id="reg-terms" label="I accept the terms of service." checked={values.terms} onChecked={(terms) => set({ terms })} error={errors['reg-terms']} />
          <CheckField id="reg-marketing" label={<>Email me about new releases <span class="optional">(optional)</span></>} checked={values.marketing} onChecked={(marketing) => set({ marketing })} />
          <CheckField id="reg-tracking" label={<>Keep my browsing and full IP address with my account to tailor the store <span class="optional">(optional)</span></>} checked={values.tracking} onChecked={(tracking) => set({ tracking })} />
          <p class="hint">You can change both choices, or close the account, at any time in your account.</p>
        </fieldset>
        <button type="submit" class="button button--primary" disabled={busy}>
          Create account
        </button>
      </form>
      <p>
        Already have an account? <a href={next ? `#/signin?next=${next}` : '#/signin'}>Sign in</a>.
      </p>
    </div>
  );
}

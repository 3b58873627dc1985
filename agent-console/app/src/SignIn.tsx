import { useEffect, useRef, useState } from 'preact/hooks';
import { HttpError } from '../lib/http.ts';
import { endedReason, signIn } from './session.ts';

/** Staff sign-in: username and password, then the authenticator code when the role needs one. */
export function SignIn() {
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const [totpCode, setTotpCode] = useState('');
  const [needsCode, setNeedsCode] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const usernameRef = useRef<HTMLInputElement>(null);
  const codeRef = useRef<HTMLInputElement>(null);

  useEffect(() => usernameRef.current?.focus(), []);
  useEffect(() => {
    if (needsCode) codeRef.current?.focus();
  }, [needsCode]);

  async function submit(event: Event) {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await signIn({ username, password, ...(needsCode && totpCode ? { totpCode } : {}) });
    } catch (e) {
      const code = e instanceof HttpError ? e.code : '';
      if (code === 'staff.totp_required') {
        setNeedsCode(true);
        setError(null);
      } else {
        setError((e as Error).message);
        if (code === 'staff.totp_invalid') setTotpCode('');
      }
    } finally {
      setBusy(false);
    }
  }

  return (
    <main id="main" class="signin">
      <form class="signin__card" onSubmit={submit} aria-labelledby="signin-title" noValidate>
        <div class="brand brand--large">
          <span class="brand__mark" aria-hidden="true" />
          <span class="brand__name">Mintdesk</span>
        </div>
        <h1 id="signin-title">Sign in to the console</h1>
        {endedReason.value && !error ? (
          <p class="notice notice--info" role="status">
            {endedReason.value}
          </p>
        ) : null}
        <label for="signin-username">Username</label>
        <input id="signin-username" ref={usernameRef} name="username" autocomplete="username" autocapitalize="none" spellcheck={false} required value={username} onInput={(e) => setUsername(e.currentTarget.value)} />
        <label for="signin-password">Password</label>
        <input id="signin-password" name="password" type="password" autocomplete="current-password" required value={password} onInput={(e) => setPassword(e.currentTarget.value)} />
        {needsCode ? (
          <>
            <label for="signin-code">Authenticator code</label>
            <input
              id="signin-code"
              ref={codeRef}
              name="totpCode"
              inputMode="numeric"
              autocomplete="one-time-code"
              pattern="[0-9]{6}"
              maxLength={6}
              aria-describedby="signin-code-help"
              value={totpCode}
              onInput={(e) => setTotpCode(e.currentTarget.value.replace(/\D/g, ''))}
            />
            <p id="signin-code-help" class="hint">
              Your role needs a second factor: the 6-digit code from your authenticator app.
            </p>
          </>
        ) : null}
        {error ? (
          <p class="notice notice--error" role="alert">
            {error}
          </p>
        ) : null}
        <button class="button button--primary button--block" type="submit" disabled={busy}>
          {busy ? 'Signing in…' : needsCode ? 'Verify and sign in' : 'Sign in'}
        </button>
      </form>
    </main>
  );
}

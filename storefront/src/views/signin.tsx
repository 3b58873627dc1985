import { SignInForm } from '../components/sign-in-form.tsx';
import { navigate } from '../lib/router.ts';
import { useShop } from '../lib/store.ts';

export function SignInPage({ next }: { next: string | null }) {
  const { session } = useShop();
  const register = next ? `#/register?next=${next}` : '#/register';
  return (
    <div class="account-narrow">
      <h1 id="signin-title">Sign in</h1>
      {session ? (
        <p>
          You are signed in as {session.customer.firstName} {session.customer.lastName}. <a href="#/account/orders">Go to your account</a>.
        </p>
      ) : (
        <>
          <SignInForm idPrefix="signin" onSignedIn={() => navigate(next ?? '/account/orders')} />
          <p>
            New to the store? <a href={register}>Create an account</a>.
          </p>
          <p class="hint">You can also check out as a guest: an account is not needed to order.</p>
        </>
      )}
    </div>
  );
}

import type { AccountSection } from '../../lib/router.ts';
import { signOut, useShop } from '../../lib/store.ts';
import { AddressesSection } from './addresses.tsx';
import { CardsSection } from './cards.tsx';
import { CloseSection } from './close.tsx';
import { OrdersSection } from './orders.tsx';
import { PrivacySection } from './privacy.tsx';
import { ProfileSection } from './profile.tsx';

const SECTIONS: { section: AccountSection; title: string }[] = [
  { section: 'orders', title: 'Orders' },
  { section: 'profile', title: 'Profile' },
  { section: 'addresses', title: 'Addresses' },
  { section: 'cards', title: 'Saved cards' },
  { section: 'privacy', title: 'Privacy and email' },
  { section: 'close', title: 'Close account' },
];

/** The signed-in customer's pages (PIA F.2, C.4): what the API lets a customer see and change about themselves. */
export function AccountPage({ section }: { section: AccountSection }) {
  const { session, sessionChecked } = useShop();
  if (!sessionChecked) return <p class="muted">Loading your account…</p>;
  if (!session) {
    return (
      <div class="account-narrow">
        <h1 id="account-title">Your account</h1>
        <p>
          <a href={`#/signin?next=/account/${section}`}>Sign in</a> to see your orders, addresses, saved cards and email choices, or <a href={`#/register?next=/account/${section}`}>create an account</a>.
        </p>
      </div>
    );
  }
  const current = SECTIONS.find((entry) => entry.section === section)!;
  return (
    <>
      <div class="view__head">
        <div>
          <h1 id="account-title">Your account</h1>
          <p class="lede">
            {session.customer.firstName} {session.customer.lastName}
            {session.customer.email ? ` · ${session.customer.email}` : ''}
          </p>
        </div>
        <button type="button" class="button button--secondary" onClick={() => void signOut()}>
          Sign out
        </button>
      </div>
      <div class="account">
        <nav class="account__nav" aria-label="Account">
          {SECTIONS.map((entry) => (
            <a key={entry.section} href={`#/account/${entry.section}`} aria-current={entry.section === section ? 'page' : undefined}>
              {entry.title}
            </a>
          ))}
        </nav>
        <section class="account__section" aria-labelledby="account-section-title">
          <h2 id="account-section-title">{current.title}</h2>
          {section === 'orders' ? <OrdersSection /> : null}
          {section === 'profile' ? <ProfileSection customer={session.customer} /> : null}
          {section === 'addresses' ? <AddressesSection customer={session.customer} /> : null}
          {section === 'cards' ? <CardsSection /> : null}
          {section === 'privacy' ? <PrivacySection customer={session.customer} /> : null}
          {section === 'close' ? <CloseSection /> : null}
        </section>
      </div>
    </>
  );
}

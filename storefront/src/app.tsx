import type { ComponentChildren } from 'preact';
import { useEffect, useRef } from 'preact/hooks';
import { routeKey, useRoute, type Route } from './lib/router.ts';
import { itemCount, update, useShop } from './lib/store.ts';
import { AccountPage } from './views/account/account.tsx';
import { CartPage } from './views/cart.tsx';
import { CatalogView } from './views/catalog.tsx';
import { CheckoutPage } from './views/checkout.tsx';
import { ConfirmationPage } from './views/confirmation.tsx';
import { RegisterPage } from './views/register.tsx';
import { SignInPage } from './views/signin.tsx';
import { StatusPage } from './views/status.tsx';

const TITLES: Record<string, string> = {
  catalog: 'Catalog',
  cart: 'Your cart',
  checkout: 'Checkout',
  confirmation: 'Thank you for your order',
  status: 'Order status',
  signin: 'Sign in',
  register: 'Create an account',
  account: 'Your account',
};

/**
 * The page: header, test-mode note, the current view and the footer. The shop's own views stay
 * mounted (hidden) while the shopper moves between them, so a half-filled checkout survives a look
 * at the cart; the account pages are built when opened.
 */
export function App() {
  const route = useRoute();
  const { config, cart, session, notice } = useShop();
  const key = routeKey(route);
  const first = useRef(true);

  useEffect(() => {
    document.title = `${TITLES[route.view] ?? ''} · ${config.storeName}`;
    // Moving focus to the new heading tells screen-reader users the page changed.
    if (!first.current) document.querySelector<HTMLElement>(`#view-${route.view} h1`)?.focus();
    first.current = false;
    if (notice && notice.page !== key) update({ notice: null });
  }, [key, config.storeName]);

  return (
    <>
      <a class="skip-link" href="#main" onClick={(event) => (event.preventDefault(), document.getElementById('main')?.focus())}>
        Skip to content
      </a>
      <header class="site-header">
        <div class="site-header__inner">
          <a class="brand" href="#/catalog">
            <span class="brand__mark" aria-hidden="true"></span>
            <span class="brand__name">{config.storeName}</span>
            <span class="brand__tagline">Coins · Proof sets · Medals</span>
          </a>
          <nav class="site-nav" aria-label="Main">
            <NavLink view="catalog" route={route} href="#/catalog">
              Catalog
            </NavLink>
            <NavLink view="cart" route={route} href="#/cart">
              Cart{' '}
              <span class="badge" id="cart-count" aria-label="items in cart">
                {itemCount(cart)}
              </span>
            </NavLink>
            <NavLink view="status" route={route} href="#/status">
              Order status
            </NavLink>
            {session ? (
              <NavLink view="account" route={route} href="#/account/orders">
                Account
              </NavLink>
            ) : (
              <NavLink view="signin" route={route} href="#/signin">
                Sign in
              </NavLink>
            )}
          </nav>
        </div>
      </header>

      {config.testMode ? (
        <aside id="test-mode" class="test-mode" aria-labelledby="test-mode-title">
          <details>
            <summary>
              <strong id="test-mode-title">Test mode</strong> — no real payments are taken. Show the test cards.
            </summary>
            <p>Use any future expiry date and any 3-digit security code.</p>
            <ul id="test-cards" class="test-cards">
              {config.testCards.map((card) => (
                <li key={card.number}>
                  <code>{card.number.replace(/(\d{4})(?=\d)/g, '$1 ')}</code> — {card.description}
                </li>
              ))}
            </ul>
          </details>
        </aside>
      ) : null}

      <main id="main" tabIndex={-1}>
        {notice && notice.page === key ? (
          <p class="alert alert--info" role="status">
            {notice.text}
          </p>
        ) : null}
        <ShopSection route={route} view="catalog">
          <CatalogView />
        </ShopSection>
        <ShopSection route={route} view="cart">
          <CartPage active={route.view === 'cart'} />
        </ShopSection>
        <ShopSection route={route} view="checkout">
          <CheckoutPage active={route.view === 'checkout'} />
        </ShopSection>
        <ShopSection route={route} view="confirmation">
          <ConfirmationPage active={route.view === 'confirmation'} />
        </ShopSection>
        <ShopSection route={route} view="status">
          <StatusPage active={route.view === 'status'} />
        </ShopSection>
        {route.view === 'signin' ? (
          <section id="view-signin" class="view" aria-labelledby="signin-title">
            <SignInPage next={route.next} />
          </section>
        ) : null}
        {route.view === 'register' ? (
          <section id="view-register" class="view" aria-labelledby="register-title">
            <RegisterPage next={route.next} />
          </section>
        ) : null}
        {route.view === 'account' ? (
          <section id="view-account" class="view" aria-labelledby="account-title">
            <AccountPage section={route.section} />
          </section>
        ) : null}
      </main>

      <footer class="site-footer">
        <p>
          {config.storeName} · Orders are reviewed before payment is taken. · <a href="/api/docs">API reference</a>
        </p>
      </footer>
      <div id="announcer" class="visually-hidden" aria-live="polite"></div>
    </>
  );
}

function ShopSection({ route, view, children }: { route: Route; view: string; children: ComponentChildren }) {
  return (
    <section id={`view-${view}`} class="view" aria-labelledby={`${view}-title`} hidden={route.view !== view}>
      {children}
    </section>
  );
}

function NavLink({ view, route, href, children }: { view: string; route: Route; href: string; children: ComponentChildren }) {
  return (
    <a href={href} data-nav={view} aria-current={route.view === view ? 'page' : undefined}>
      {children}
    </a>
  );
}

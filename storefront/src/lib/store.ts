import { useEffect, useState } from 'preact/hooks';
import type { CartView } from '../../../api/carts/schema.ts';
import type { CustomerProfile } from '../../../api/customers/schema.ts';
import type { OrderView } from '../../../api/orders/schema.ts';
import type { StorefrontConfig } from '../../../api/storefront/routes.ts';
import { api, setSessionToken, whenSessionEnds } from './api.ts';

/**
 * The state the views share: settings, the cart, the signed-in customer and the order just placed.
 * Views read it with `useShop()` and change it through the functions below, which re-render every
 * view that reads it.
 *
 * Kept in the browser: the cart id, the waiting-room visitor token and the customer's session token
 * (localStorage). Never a card number or security code: those live in the checkout form's fields
 * and, during one placement, in the request body in memory.
 */
export const CART_KEY = 'mintdesk.cartId';
export const VISITOR_KEY = 'mintdesk.visitorToken';
export const SESSION_KEY = 'mintdesk.customerSession';

export interface Session {
  token: string;
  customer: CustomerProfile;
}

export interface ShopState {
  config: StorefrontConfig;
  /** The cart as the API last returned it, or null before one exists. */
  cart: CartView | null;
  session: Session | null;
  /** Set once the stored session was checked at start-up (or there was none). */
  sessionChecked: boolean;
  /** A message for the shopper at the top of the page, shown until they move to another page. */
  notice: { text: string; page: string } | null;
  lastOrder: OrderView | null;
  /** Names of products seen in the catalog, for the waiting-room message. */
  productNames: Map<string, string>;
}

const storeNameMeta = typeof document === 'undefined' ? null : document.querySelector('meta[name="mintdesk-store-name"]')?.getAttribute('content');

let state: ShopState = {
  config: { storeName: storeNameMeta && !storeNameMeta.includes('{{') ? storeNameMeta : 'Mint Store', testMode: false, testCards: [] },
  cart: null,
  session: null,
  sessionChecked: false,
  notice: null,
  lastOrder: null,
  productNames: new Map(),
};
const listeners = new Set<() => void>();

export function shop(): ShopState {
  return state;
}

export function update(patch: Partial<ShopState>): void {
  state = { ...state, ...patch };
  for (const listener of [...listeners]) listener();
}

/** The shared state, re-rendering the calling component whenever it changes. */
export function useShop(): ShopState {
  const [, setTick] = useState(0);
  useEffect(() => {
    const rerender = () => setTick((tick) => tick + 1);
    listeners.add(rerender);
    return () => void listeners.delete(rerender);
  }, []);
  return state;
}

// --- settings -------------------------------------------------------------------------------------

export async function loadConfig(): Promise<void> {
  const result = await api<StorefrontConfig>('GET', '/api/storefront/config');
  if (result.ok) update({ config: result.data });
}

// --- cart ------------------------------------------------------------------------------------------

export function setCart(cart: CartView | null): CartView | null {
  update({ cart });
  return cart;
}

export async function loadCart(): Promise<CartView | null> {
  const cartId = localStorage.getItem(CART_KEY);
  if (!cartId) return setCart(null);
  const result = await api<CartView>('GET', `/api/carts/${encodeURIComponent(cartId)}`);
  if (result.ok) return setCart(result.data);
  // Expired, unknown, or another customer's: forget it; a new one is made on the next add.
  if (result.status === 404) localStorage.removeItem(CART_KEY);
  return setCart(null);
}

export function forgetCart(): void {
  localStorage.removeItem(CART_KEY);
  setCart(null);
}

async function ensureCart(): Promise<CartView> {
  if (state.cart) return state.cart;
  const created = await api<CartView>('POST', '/api/carts');
  if (!created.ok) throw created.error;
  localStorage.setItem(CART_KEY, created.data.cartId);
  return setCart(created.data)!;
}

/** Sets one line's quantity; starts a new cart once if the stored one has expired. */
export async function setLine(sku: string, quantity: number): Promise<CartView | null> {
  for (let attempt = 0; attempt < 2; attempt += 1) {
    const cart = await ensureCart();
    const result = await api<CartView>('PUT', `/api/carts/${encodeURIComponent(cart.cartId)}/lines`, { body: { sku, quantity } });
    if (result.ok) return setCart(result.data);
    if (result.error.code !== 'cart.not_found' || attempt > 0) throw result.error;
    forgetCart();
  }
  return state.cart;
}

export const itemCount = (cart: CartView | null) => (cart ? cart.lines.reduce((sum, line) => sum + line.quantity, 0) : 0);

// --- customer session -----------------------------------------------------------------------------

function storeSession(session: Session | null): void {
  setSessionToken(session?.token ?? null);
  if (session) localStorage.setItem(SESSION_KEY, session.token);
  else localStorage.removeItem(SESSION_KEY);
  update({ session });
}

export function signedIn(token: string, customer: CustomerProfile): void {
  update({ notice: null });
  storeSession({ token, customer });
}

/** Shows `text` above the page until the shopper leaves it (or the page named by `page`). */
export function notify(text: string, page: string = currentPage()): void {
  update({ notice: { text, page } });
}

const currentPage = () => location.hash.replace(/^#\/?/, '').split('?')[0] || 'catalog';

export function setCustomer(customer: CustomerProfile): void {
  if (state.session) update({ session: { ...state.session, customer } });
}

/** Ends the session here; a cart bound to the account is not the next shopper's, so it is forgotten too. */
export function signedOut(reason: string | null = null): void {
  storeSession(null);
  forgetCart();
  if (reason) notify(reason);
}

export async function signOut(): Promise<void> {
  if (state.session) await api('POST', '/api/customers/logout');
  signedOut();
}

/** Restores a stored session if the API still accepts it. */
export async function restoreSession(): Promise<void> {
  const token = localStorage.getItem(SESSION_KEY);
  if (token) {
    setSessionToken(token);
    const result = await api<CustomerProfile>('GET', '/api/customers/me');
    if (result.ok) storeSession({ token, customer: result.data });
    else storeSession(null);
  }
  update({ sessionChecked: true });
}

whenSessionEnds(() => signedOut('Your session has ended. Please sign in again.'));

import { useEffect, useState } from 'preact/hooks';

/**
 * Hash routes (#/catalog, #/account/orders…): the server only ever serves one page, and a reload or
 * a bookmark lands on the same view.
 */
export const SHOP_VIEWS = ['catalog', 'cart', 'checkout', 'confirmation', 'status'] as const;
export const ACCOUNT_SECTIONS = ['orders', 'profile', 'addresses', 'cards', 'privacy', 'close'] as const;
export type ShopView = (typeof SHOP_VIEWS)[number];
export type AccountSection = (typeof ACCOUNT_SECTIONS)[number];

export type Route =
  | { view: ShopView }
  | { view: 'signin'; next: string | null }
  | { view: 'register'; next: string | null }
  | { view: 'account'; section: AccountSection };

/** Only our own routes are followed after sign-in: never a URL from the query. */
const safeNext = (value: string | null) => (value && /^\/[a-z/]*$/.test(value) ? value : null);

export function parseRoute(hash: string): Route {
  const [path = '', query = ''] = hash.replace(/^#/, '').split('?');
  const parts = path.split('/').filter(Boolean);
  const next = safeNext(new URLSearchParams(query).get('next'));
  const [first, second] = parts;
  if (first === 'signin') return { view: 'signin', next };
  if (first === 'register') return { view: 'register', next };
  if (first === 'account') {
    const section = (ACCOUNT_SECTIONS as readonly string[]).includes(second ?? '') ? (second as AccountSection) : 'orders';
    return { view: 'account', section };
  }
  if ((SHOP_VIEWS as readonly string[]).includes(first ?? '')) return { view: first as ShopView };
  return { view: 'catalog' };
}

export function navigate(path: string): void {
  location.hash = `#${path}`;
}

export function useRoute(): Route {
  const [route, setRoute] = useState(() => parseRoute(location.hash));
  useEffect(() => {
    const onChange = () => setRoute(parseRoute(location.hash));
    window.addEventListener('hashchange', onChange);
    return () => window.removeEventListener('hashchange', onChange);
  }, []);
  return route;
}

export const routeKey = (route: Route) => (route.view === 'account' ? `account/${route.section}` : route.view);

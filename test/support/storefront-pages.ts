import type { Page, Request } from 'playwright-core';
import type { BrowserSuite } from './browser.ts';

/** What the storefront's browser suites do on its pages, written once. */

export interface AddressFields {
  line1: string;
  city: string;
  state: string;
  postalCode: string;
}

export const POSTAL_FORM: AddressFields = { line1: '1500 PENNSYLVANIA AVE NW', city: 'WASHINGTON', state: 'DC', postalCode: '20220' };
export const TEST_CARD = '4242 4242 4242 4242';
export const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
/** An expiry two years ahead of today's date, as the card's own date would be. */
export const futureExpiry = () => `12/${String((new Date().getUTCFullYear() + 2) % 100).padStart(2, '0')}`;
/** Set to a directory to keep screenshots of the pages (for a person to look at; never committed). */
const SCREENSHOT_DIR = process.env.STOREFRONT_SCREENSHOT_DIR;

/** Words a developer would write and a shopper should never read. */
export const VALIDATOR_JARGON = /expected|>=|<=|too small|too big|too_small|too_big|invalid_|regex|required\.|undefined|NaN|\bnull\b|zod|\bstring\b|\[object/i;

/** A fresh browser profile per call (own localStorage), with page errors and the order requests recorded. */
export async function openStore(suite: BrowserSuite, path = '/') {
  const context = await suite.newContext({ viewport: { width: 1280, height: 1000 } });
  const page = await context.newPage();
  const problems: string[] = [];
  page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
  page.on('console', (message) => {
    // Chromium reports every 4xx fetch on the console; the tests provoke some on purpose.
    if (message.type() === 'error' && !/Failed to load resource/.test(message.text())) problems.push(`console: ${message.text()}`);
  });
  const orderRequests: Request[] = [];
  page.on('request', (request) => {
    if (request.method() === 'POST' && new URL(request.url()).pathname === '/api/orders') orderRequests.push(request);
  });
  await page.goto(`${suite.ctx.baseUrl}${path}`);
  return { page, problems, orderRequests };
}

export async function addToCart(page: Page, sku: string) {
  const card = page.locator(`article[data-sku="${sku}"]`);
  await card.getByRole('button', { name: 'Add to cart' }).click();
  await card.getByText('Added to your cart.').waitFor();
}

export async function goToCheckout(page: Page) {
  await page.getByRole('link', { name: /^Cart/ }).click();
  await page.getByRole('link', { name: 'Proceed to checkout' }).click();
  await page.locator('#view-checkout').waitFor();
  await page.locator('#checkout-summary table').waitFor();
}

export async function fillAddress(page: Page, which: 'billing' | 'shipping', address: AddressFields) {
  const group = page.locator(`[data-address="${which}"]`).first();
  await group.getByLabel('Street address').fill(address.line1);
  await group.getByLabel('City').fill(address.city);
  await group.getByLabel('State').fill(address.state);
  await group.getByLabel('ZIP code').fill(address.postalCode);
}

export interface CheckoutOptions {
  card?: string;
  billing?: AddressFields;
  shipping?: AddressFields;
  recipient?: [string, string];
}

export async function fillCheckout(page: Page, options: CheckoutOptions = {}) {
  await page.getByLabel('First name', { exact: true }).fill('Ada');
  await page.getByLabel('Last name', { exact: true }).fill('Lovelace');
  await page.getByLabel('Email', { exact: true }).fill('ada@example.com');
  await page.getByLabel('Phone').fill('(202) 555-0100');
  await fillAddress(page, 'billing', options.billing ?? POSTAL_FORM);
  if (options.shipping) {
    await page.getByLabel('Ship to my billing address').uncheck();
    await fillAddress(page, 'shipping', options.shipping);
  }
  if (options.recipient) {
    await page.getByLabel('This is a gift').check();
    await page.getByLabel("Recipient's first name").fill(options.recipient[0]);
    await page.getByLabel("Recipient's last name").fill(options.recipient[1]);
  }
  await page.getByLabel('Card number').fill(options.card ?? TEST_CARD);
  await page.getByLabel('Expiry (MM/YY)').fill(futureExpiry());
  await page.getByLabel('Security code').fill('123');
  await page.getByLabel('Name on card').fill('Ada Lovelace');
  await page.getByLabel('I accept the terms of sale.').check();
  await page.getByLabel('I am 18 years of age or older.').check();
}

export async function confirmationNumber(page: Page): Promise<string> {
  await page.locator('#view-confirmation').waitFor();
  return (await page.locator('#confirmation-number').textContent()) ?? '';
}

/**
 * With STOREFRONT_SCREENSHOT_DIR set, the whole page at a desktop window (1280x800) and, with
 * `phone`, at a phone's width too; the viewport is put back afterwards.
 */
export async function screenshot(page: Page, name: string, options: { phone?: boolean } = {}) {
  if (!SCREENSHOT_DIR) return;
  const original = page.viewportSize();
  await page.setViewportSize({ width: 1280, height: 800 });
  await settle(page);
  await page.screenshot({ path: `${SCREENSHOT_DIR}/storefront-${name}.png`, fullPage: true });
  if (options.phone) {
    await page.setViewportSize({ width: 390, height: 844 });
    await settle(page);
    await page.screenshot({ path: `${SCREENSHOT_DIR}/storefront-${name}-phone.png`, fullPage: true });
  }
  if (original) await page.setViewportSize(original);
}

/** Two frames after a resize: the new layout is painted before the capture (a full-page shot taken sooner has blank bands). */
const settle = (page: Page) => page.evaluate(() => new Promise<void>((resolve) => requestAnimationFrame(() => requestAnimationFrame(() => resolve()))));

/** Every message a shopper can read in the form: field errors and the summary above it. */
export async function visibleMessages(page: Page, scope = 'main'): Promise<string[]> {
  return page.locator(`${scope} .field-error, ${scope} .alert`).evaluateAll((nodes) => nodes.filter((n) => (n as HTMLElement).offsetParent !== null).map((n) => (n.textContent ?? '').trim()));
}

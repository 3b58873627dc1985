import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { expect } from 'chai';
import express from 'express';
import type { Page, Request } from 'playwright-core';
import { createStorefrontRoutes } from '../../api/storefront/routes.ts';
import { browserSuite } from '../support/browser.ts';
import { createProduct } from '../support/fixtures.ts';
import { api } from '../support/http.ts';

interface AddressFields {
  line1: string;
  city: string;
  state: string;
  postalCode: string;
}

const POSTAL_FORM: AddressFields = { line1: '1500 PENNSYLVANIA AVE NW', city: 'WASHINGTON', state: 'DC', postalCode: '20220' };
const TEST_CARD = '4242 4242 4242 4242';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
/** Set to a directory to keep screenshots of the pages (for a person to look at; never committed). */
const SCREENSHOT_DIR = process.env.STOREFRONT_SCREENSHOT_DIR;

describe('storefront: a shopper buys in Chromium', function () {
  this.timeout(120_000);
  const suite = browserSuite();

  /** A fresh browser profile per test (own localStorage), with page errors and the order requests recorded. */
  async function openStore() {
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
    await page.goto(`${suite.ctx.baseUrl}/`);
    return { page, problems, orderRequests };
  }

  async function addToCart(page: Page, sku: string) {
    const card = page.locator(`article[data-sku="${sku}"]`);
    await card.getByRole('button', { name: 'Add to cart' }).click();
    await card.getByText('Added to your cart.').waitFor();
  }

  async function goToCheckout(page: Page) {
    await page.getByRole('link', { name: /^Cart/ }).click();
    await page.getByRole('link', { name: 'Proceed to checkout' }).click();
    await page.locator('#view-checkout').waitFor();
    await page.locator('#checkout-summary table').waitFor();
  }

  async function fillAddress(page: Page, which: 'billing' | 'shipping', address: AddressFields) {
    const group = page.locator(`[data-address="${which}"]`).first();
    await group.getByLabel('Street address').fill(address.line1);
    await group.getByLabel('City').fill(address.city);
    await group.getByLabel('State').fill(address.state);
    await group.getByLabel('ZIP code').fill(address.postalCode);
  }

  async function fillCheckout(page: Page, options: { card?: string; billing?: AddressFields; shipping?: AddressFields; recipient?: [string, string] } = {}) {
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
    await page.getByLabel('Expiry (MM/YY)').fill(`12/${String((new Date().getUTCFullYear() + 2) % 100).padStart(2, '0')}`);
    await page.getByLabel('Security code').fill('123');
    await page.getByLabel('Name on card').fill('Ada Lovelace');
    await page.getByLabel('I accept the terms of sale.').check();
    await page.getByLabel('I am 18 years of age or older.').check();
  }

  async function confirmationNumber(page: Page): Promise<string> {
    await page.locator('#view-confirmation').waitFor();
    return (await page.locator('#confirmation-number').textContent()) ?? '';
  }

  async function screenshot(page: Page, name: string) {
    if (SCREENSHOT_DIR) await page.screenshot({ path: `${SCREENSHOT_DIR}/storefront-${name}.png`, fullPage: true });
  }

  it('lists the product as text, takes the order with the suggested billing and the typed shipping address, and finds it again', async () => {
    const product = await createProduct(suite.ctx.services, { name: 'Liberty <b>Eagle</b> & "Friends"', priceCents: 12_345, metal: 'Silver', year: 2026, mintMark: 'W', totalStock: 10 });
    const { page, problems, orderRequests } = await openStore();

    const card = page.locator(`article[data-sku="${product.sku}"]`);
    await card.waitFor();
    expect(await card.locator('h2').textContent()).to.equal('Liberty <b>Eagle</b> & "Friends"');
    expect(await card.locator('b').count(), 'product text must not become markup').to.equal(0);
    expect(await card.locator('.product__price').textContent()).to.equal('$123.45');
    expect(await card.locator('.availability').textContent()).to.equal('In stock');
    expect(await page.locator('#test-mode').isVisible(), 'test-mode note outside production').to.equal(true);
    await screenshot(page, 'catalog');

    await addToCart(page, product.sku);
    expect(await page.locator('#cart-count').textContent()).to.equal('1');
    await goToCheckout(page);
    await fillCheckout(page, {
      billing: { line1: '1500 pennsylvania avenue northwest', city: 'washington', state: 'dc', postalCode: '20220' },
      shipping: { line1: '801 9th st nw', city: 'Washington', state: 'DC', postalCode: '20001' },
      recipient: ['Grace', 'Hopper'],
    });
    await page.getByRole('button', { name: 'Place order' }).click();

    const billingSuggestion = page.locator('.suggestion[data-address="billing"]');
    const shippingSuggestion = page.locator('.suggestion[data-address="shipping"]');
    await billingSuggestion.waitFor();
    await shippingSuggestion.waitFor();
    expect(await billingSuggestion.locator('address').first().textContent()).to.contain('1500 PENNSYLVANIA AVE NW');
    await screenshot(page, 'suggestion');
    await billingSuggestion.getByRole('button', { name: 'Use suggested address' }).click();
    await shippingSuggestion.getByRole('button', { name: 'Keep mine' }).click();

    const orderNumber = await confirmationNumber(page);
    expect(orderNumber).to.match(/^\d{8}$/);
    await screenshot(page, 'confirmation');

    const order = await suite.ctx.services.orders.findByNumber(orderNumber);
    expect(order, 'order stored').to.not.equal(null);
    expect(order!.status).to.equal('pending_fraud_check');
    expect(order!.lines.map((l) => [l.sku, l.quantity])).to.deep.equal([[product.sku, 1]]);
    expect(order!.billingAddress).to.include({ line1: '1500 PENNSYLVANIA AVE NW', city: 'WASHINGTON', state: 'DC' });
    expect(order!.shipments[0]!.address).to.include({ line1: '801 9th st nw', city: 'Washington' });
    expect(order!.shipments[0]!.recipient).to.deep.include({ firstName: 'Grace', lastName: 'Hopper' });
    expect(order!.shipments[0]!.gift).to.equal(true);
    expect(order!.payment.last4).to.equal('4242');

    expect(orderRequests).to.have.length(1);
    expect(orderRequests[0]!.headers()['idempotency-key']).to.match(UUID);
    const storage = await page.evaluate(() => JSON.stringify({ local: { ...localStorage }, session: { ...sessionStorage } }));
    expect(storage).not.to.match(/4242\s?4242\s?4242\s?4242/);
    expect(await page.locator('#card-number').inputValue(), 'card number cleared').to.equal('');
    expect(await page.locator('#card-cvv').inputValue(), 'security code cleared').to.equal('');
    expect(await page.locator('#cart-count').textContent()).to.equal('0');

    await page.getByRole('link', { name: 'check the order status' }).click();
    expect(await page.getByLabel('Order number').inputValue()).to.equal(orderNumber);
    await page.getByLabel('Email used for the order').fill('ADA@example.com');
    await page.getByRole('button', { name: 'Find my order' }).click();
    await page.locator('.status-card').waitFor();
    expect(await page.locator('.status-card__status').textContent()).to.equal('received and being verified');
    expect(problems).to.deep.equal([]);
  });

  it('marks a mistyped card number before sending anything, shows a decline next to the card field, then places the order with the same Idempotency-Key', async () => {
    const product = await createProduct(suite.ctx.services, { totalStock: 5 });
    const { page, problems, orderRequests } = await openStore();
    await addToCart(page, product.sku);
    await goToCheckout(page);
    await fillCheckout(page, { card: '4242 4242 4242 4241' });
    await page.getByRole('button', { name: 'Place order' }).click();

    // The check digit is the API's own rule (api/vault/cards.ts), run in the browser: no request for a typo.
    const cardField = page.locator('.field', { has: page.locator('#card-number') });
    await cardField.locator('.field-error').waitFor();
    expect(await cardField.locator('.field-error').textContent()).to.contain('The card number is not valid');
    expect(await page.getByLabel('Card number').getAttribute('aria-invalid')).to.equal('true');
    expect(await page.locator('.field-error').count(), 'only the card field is in error').to.equal(1);
    expect(await page.locator('#form-errors').textContent()).to.equal('Please check the highlighted fields.');
    await screenshot(page, 'card-error');
    expect(orderRequests, 'nothing sent for a number that fails its check digit').to.have.length(0);
    expect(await suite.ctx.services.inventory.getStock(product.sku), 'nothing reserved').to.equal(5);

    // A card only the issuer can refuse: the API's decline goes next to the card field.
    await page.getByLabel('Card number').fill('4000 0000 0000 0002');
    await page.getByRole('button', { name: 'Place order' }).click();
    await cardField.locator('.field-error').filter({ hasText: 'Your card was declined. Please use another card.' }).waitFor();
    expect(await page.getByLabel('Card number').getAttribute('aria-invalid')).to.equal('true');
    expect(await page.locator('#card-cvv').inputValue(), 'the security code is cleared after a decline').to.equal('');
    expect(await suite.ctx.services.inventory.getStock(product.sku), 'the declined attempt released its reservation').to.equal(5);

    await page.getByLabel('Card number').fill(TEST_CARD);
    await page.getByLabel('Security code').fill('123');
    await page.getByRole('button', { name: 'Place order' }).click();
    const orderNumber = await confirmationNumber(page);
    expect(orderNumber).to.match(/^\d{8}$/);
    expect((await suite.ctx.services.orders.findByNumber(orderNumber))!.status).to.equal('pending_fraud_check');
    expect(orderRequests).to.have.length(2);
    const [first, second] = orderRequests.map((request) => request.headers()['idempotency-key']);
    expect(first).to.match(UUID);
    expect(second, 'one key for the whole checkout attempt').to.equal(first);
    expect(await suite.ctx.services.inventory.getStock(product.sku)).to.equal(4);
    expect(problems).to.deep.equal([]);
  });

  it('sends the shopper through the waiting room of a launch and places the order with the admission token', async () => {
    const product = await createProduct(suite.ctx.services, { totalStock: 5 });
    // Opened a minute ago at a high rate: whoever joins now is admitted at once, so nothing waits on a clock.
    await suite.ctx.services.waitingRoom.openRoom({ roomId: product.sku, opensAt: new Date(Date.now() - 60_000), admitPerSecond: 1000 });
    const { page, problems, orderRequests } = await openStore();
    await addToCart(page, product.sku);
    await goToCheckout(page);
    await fillCheckout(page);
    await page.getByRole('button', { name: 'Place order' }).click();

    const orderNumber = await confirmationNumber(page);
    expect(orderNumber).to.match(/^\d{8}$/);
    expect(orderRequests).to.have.length(2);
    expect(orderRequests[0]!.postDataJSON()).not.to.have.property('admissionToken');
    expect(orderRequests[1]!.postDataJSON().admissionToken).to.be.a('string').and.not.equal('');
    const order = await suite.ctx.services.orders.findByNumber(orderNumber);
    expect(order!.status).to.equal('pending_fraud_check');
    expect((await suite.ctx.services.waitingRoom.roomStats(product.sku)).joined).to.equal(1);
    expect(problems).to.deep.equal([]);
  });

  it('waits in the line of each launch in a cart with two, and sends both admission tokens', async () => {
    const products = [await createProduct(suite.ctx.services, { totalStock: 5 }), await createProduct(suite.ctx.services, { totalStock: 5 })];
    for (const product of products) {
      await suite.ctx.services.waitingRoom.openRoom({ roomId: product.sku, opensAt: new Date(Date.now() - 60_000), admitPerSecond: 1000 });
    }
    const { page, problems, orderRequests } = await openStore();
    for (const product of products) await addToCart(page, product.sku);
    await goToCheckout(page);
    await fillCheckout(page);
    await page.getByRole('button', { name: 'Place order' }).click();

    const orderNumber = await confirmationNumber(page);
    expect(orderRequests).to.have.length(3);
    expect(orderRequests[1]!.postDataJSON().admissionToken).to.be.a('string');
    const tokens = orderRequests[2]!.postDataJSON().admissionToken as string[];
    expect(tokens).to.be.an('array').with.length(2);
    expect(new Set(tokens).size).to.equal(2);
    expect((await suite.ctx.services.orders.findByNumber(orderNumber))!.lines.map((line) => line.sku).sort()).to.deep.equal(products.map((p) => p.sku).sort());
    for (const product of products) expect((await suite.ctx.services.waitingRoom.roomStats(product.sku)).joined).to.equal(1);
    expect(problems).to.deep.equal([]);
  });

  it('shows the line before a launch opens and lets the shopper leave it without ordering', async () => {
    const product = await createProduct(suite.ctx.services, { totalStock: 5 });
    await suite.ctx.services.waitingRoom.openRoom({ roomId: product.sku, opensAt: new Date(Date.now() + 3600_000), admitPerSecond: 10 });
    const { page, problems, orderRequests } = await openStore();
    await addToCart(page, product.sku);
    await goToCheckout(page);
    await fillCheckout(page);
    await page.getByRole('button', { name: 'Place order' }).click();

    const panel = page.locator('#waiting-room');
    await panel.getByText('The sale opens').waitFor();
    expect(await panel.locator('h3').textContent()).to.equal(`You are in line for ${product.name}`);
    await screenshot(page, 'waiting-room');
    await panel.getByRole('button', { name: 'Leave the line' }).click();
    await page.locator('#form-errors').getByText('You left the line; your order was not placed.').waitFor();
    expect(await panel.isVisible()).to.equal(false);
    expect(orderRequests).to.have.length(1);
    expect(await suite.ctx.services.inventory.getStock(product.sku)).to.equal(5);
    expect(await page.evaluate(() => localStorage.getItem('mintdesk.visitorToken'))).to.be.a('string');
    expect(problems).to.deep.equal([]);
  });

  it('offers the simulated test cards outside production only', async () => {
    const settings = await api(suite.ctx.baseUrl, 'GET', '/api/storefront/config');
    expect(settings.body.testMode).to.equal(true);
    expect(settings.body.testCards.map((card: { number: string }) => card.number)).to.include('4242424242424242');

    expect(settings.body.storeName, 'STORE_NAME, the same name the emails and the phone line use').to.equal(suite.ctx.services.core.config.storeName);
    const production = express().use(createStorefrontRoutes({ config: { env: 'production', storeName: 'Mint Store' } }).api);
    const server = production.listen(0, '127.0.0.1');
    await once(server, 'listening');
    try {
      const response = await api(`http://127.0.0.1:${(server.address() as AddressInfo).port}`, 'GET', '/config');
      expect(response.body).to.deep.equal({ storeName: 'Mint Store', testMode: false, testCards: [] });
    } finally {
      server.close();
    }
  });

  it('serves the built page with a same-origin content security policy, the store name and hashed assets browsers may keep', async () => {
    const page = await fetch(`${suite.ctx.baseUrl}/`);
    expect(page.status).to.equal(200);
    expect(page.headers.get('content-type')).to.match(/^text\/html/);
    expect(page.headers.get('content-security-policy')).to.contain("script-src 'self'").and.to.contain("style-src 'self'").and.to.contain("default-src 'self'");
    expect(page.headers.get('cache-control')).to.equal('no-cache');
    const html = await page.text();
    const storeName = suite.ctx.services.core.config.storeName;
    expect(html).to.contain(`<title>${storeName}</title>`);
    expect(html, 'the chat widget has its mount point').to.contain('<div id="mintdesk-chat"></div>');
    expect(html, 'no inline script under the CSP').not.to.match(/<script(?![^>]*\ssrc=)[^>]*>/);
    const scripts = [...html.matchAll(/<script type="module" crossorigin src="(\/assets\/[\w.-]+-[\w-]{8}\.js)"><\/script>/g)].map((m) => m[1]!);
    const styles = [...html.matchAll(/<link rel="stylesheet" crossorigin href="(\/assets\/[\w.-]+-[\w-]{8}\.css)">/g)].map((m) => m[1]!);
    expect(scripts).to.have.length(1);
    expect(styles).to.have.length(1);
    for (const [asset, type] of [
      [scripts[0]!, /javascript/],
      [styles[0]!, /^text\/css/],
    ] as const) {
      const response = await fetch(`${suite.ctx.baseUrl}${asset}`);
      expect(response.status, asset).to.equal(200);
      expect(response.headers.get('content-type')).to.match(type);
      expect(response.headers.get('cache-control')).to.contain('immutable');
      await response.arrayBuffer();
    }
    // Only the page and its hashed files are served: not the build's list of sources.
    expect((await fetch(`${suite.ctx.baseUrl}/.sources.json`)).status).to.equal(404);
  });
});

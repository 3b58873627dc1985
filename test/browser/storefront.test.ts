import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { expect } from 'chai';
import express from 'express';
import { createStorefrontRoutes } from '../../api/storefront/routes.ts';
import { browserSuite } from '../support/browser.ts';
import { createProduct } from '../support/fixtures.ts';
import { api } from '../support/http.ts';
import { addToCart, confirmationNumber, fillCheckout, goToCheckout, openStore as openShop, screenshot, TEST_CARD, UUID } from '../support/storefront-pages.ts';

describe('storefront: a shopper buys in Chromium', function () {
  this.timeout(120_000);
  const suite = browserSuite();
  const openStore = () => openShop(suite);

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
    await screenshot(page, 'catalog', { phone: true });

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
    await screenshot(page, 'suggestion', { phone: true });
    await billingSuggestion.getByRole('button', { name: 'Use suggested address' }).click();
    await shippingSuggestion.getByRole('button', { name: 'Keep mine' }).click();

    const orderNumber = await confirmationNumber(page);
    expect(orderNumber).to.match(/^\d{8}$/);
    await screenshot(page, 'confirmation', { phone: true });

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
    expect(await page.locator('.status-card .order__payment').textContent(), 'nothing is taken before the order is verified').to.equal('Card VISA ending in 4242, not charged yet.');
    expect(await page.locator('.status-card .timeline li').allTextContents()).to.have.length(1);
    await screenshot(page, 'status', { phone: true });
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
    await screenshot(page, 'card-error', { phone: true });
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
    await screenshot(page, 'waiting-room', { phone: true });
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

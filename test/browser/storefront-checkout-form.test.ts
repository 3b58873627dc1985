import { expect } from 'chai';
import type { Page } from 'playwright-core';
import { browserSuite } from '../support/browser.ts';
import { createProduct } from '../support/fixtures.ts';
import { addToCart, goToCheckout, openStore, screenshot, VALIDATOR_JARGON, visibleMessages } from '../support/storefront-pages.ts';

/**
 * The checkout form as a shopper meets it with mistakes: every field's problem is marked on the
 * first submit (not the expiry first and the rest after), each in words written for a shopper.
 */
describe('storefront: the checkout form marks every problem at once, in shopper words', function () {
  this.timeout(120_000);
  const suite = browserSuite();

  async function checkoutWithAProduct() {
    const product = await createProduct(suite.ctx.services, { totalStock: 5 });
    const store = await openStore(suite);
    await addToCart(store.page, product.sku);
    await goToCheckout(store.page);
    return { ...store, product };
  }

  /** Element id -> its error message, for every field marked invalid. */
  async function markedFields(page: Page): Promise<Record<string, string>> {
    return page.locator('#checkout-form [aria-invalid="true"]').evaluateAll((nodes) =>
      Object.fromEntries(nodes.map((node) => [node.id, document.getElementById(node.getAttribute('aria-describedby')?.split(' ')[0] ?? '')?.textContent ?? '(no message)'])),
    );
  }

  async function submit(page: Page) {
    await page.getByRole('button', { name: 'Place order' }).click();
    await page.locator('#form-errors').filter({ hasText: 'Please check the highlighted fields.' }).waitFor();
  }

  function expectShopperWording(messages: string[]) {
    expect(messages.length).to.be.greaterThan(0);
    for (const message of messages) expect(message, 'written for a shopper').not.to.match(VALIDATOR_JARGON);
  }

  it('marks every empty field on the first submit and sends nothing', async () => {
    const { page, problems, orderRequests, product } = await checkoutWithAProduct();
    await submit(page);

    expect(await markedFields(page)).to.deep.equal({
      'purchaser-first': 'Enter your first name.',
      'purchaser-last': 'Enter your last name.',
      'purchaser-email': 'Enter your email address.',
      'purchaser-phone': 'Enter your phone number.',
      'billing-line1': 'Enter the street address.',
      'billing-city': 'Enter the city.',
      'billing-state': 'Enter the state.',
      'billing-zip': 'Enter the ZIP code.',
      'card-number': 'Enter your card number.',
      'card-exp': 'Enter the expiry date as MM/YY.',
      'card-cvv': 'Enter the security code.',
      'card-name': 'Enter the name as it is printed on the card.',
      terms: 'Accept the terms of sale to place your order.',
      age: 'Confirm that you are 18 or older to place your order.',
    });
    expect(await page.locator('#form-errors').textContent()).to.equal('Please check the highlighted fields.');
    expect(await page.evaluate(() => document.activeElement?.id), 'focus moves to the first problem').to.equal('purchaser-first');
    expectShopperWording(await visibleMessages(page));
    await screenshot(page, 'checkout-empty', { phone: true });
    expect(orderRequests, 'nothing is sent while the form has problems').to.have.length(0);
    expect(await suite.ctx.services.inventory.getStock(product.sku)).to.equal(5);
    expect(problems).to.deep.equal([]);
  });

  it('walks every field with bad input: all are marked on the first submit, none in validator jargon, and fixing one clears only its mark', async () => {
    const { page, problems, orderRequests } = await checkoutWithAProduct();
    const billing = page.locator('[data-address="billing"]');
    const shipping = page.locator('[data-address="shipping"]');
    await page.getByLabel('First name', { exact: true }).fill('A'.repeat(61));
    await page.getByLabel('Last name', { exact: true }).fill('Lovelace');
    await page.getByLabel('Email', { exact: true }).fill('ada@');
    await page.getByLabel('Phone').fill('555-01');
    await billing.getByLabel('Street address').fill('1500 Pennsylvania Ave NW');
    await billing.getByLabel('City').fill('Washington');
    await billing.getByLabel('State').fill('ZZ');
    await billing.getByLabel('ZIP code').fill('2022');
    await page.getByLabel('Ship to my billing address').uncheck();
    await shipping.getByLabel('City').fill('Washington');
    await page.getByLabel('This is a gift').check();
    await page.getByLabel("Recipient's first name").fill('Grace');
    await page.getByLabel('Card number').fill('4242 4242');
    await page.getByLabel('Expiry (MM/YY)').fill('13/30');
    await page.getByLabel('Security code').fill('12');
    await page.getByLabel('Name on card').fill('A');
    await submit(page);

    const marked = await markedFields(page);
    expect(marked).to.deep.equal({
      'purchaser-first': 'Use 60 characters or fewer.',
      'purchaser-email': 'Enter an email address like name@example.com.',
      'purchaser-phone': 'Enter a phone number with area code, like (202) 555-0100.',
      'billing-state': 'Enter the two-letter state code, like DC or IL.',
      'billing-zip': 'Enter a 5-digit ZIP code, or ZIP+4 like 20220-0001.',
      'shipping-line1': 'Enter the street address.',
      'shipping-state': 'Enter the state.',
      'shipping-zip': 'Enter the ZIP code.',
      'recipient-last': "Enter the recipient's last name.",
      'card-number': 'The card number is not valid. Check the digits on your card.',
      'card-exp': 'Enter the expiry date as MM/YY, like 08/29.',
      'card-cvv': 'Enter the security code: 3 digits on the back of the card, or 4 on the front of an American Express card.',
      'card-name': 'Enter the name as it is printed on the card.',
      terms: 'Accept the terms of sale to place your order.',
      age: 'Confirm that you are 18 or older to place your order.',
    });
    expectShopperWording(await visibleMessages(page));
    await screenshot(page, 'checkout-bad-input', { phone: true });

    // An expired card and a number of letters: their own words, still everything at once.
    await page.getByLabel('Expiry (MM/YY)').fill('01/20');
    await page.getByLabel('Card number').fill('abcd efgh');
    await page.getByLabel('Email', { exact: true }).fill('ada@example.com');
    await submit(page);
    const again = await markedFields(page);
    expect(again['card-exp']).to.equal('This card has expired. Check the expiry date or use another card.');
    expect(again['card-number']).to.equal('The card number is not valid. Check the digits on your card.');
    expect(again, 'a fixed field is no longer marked').not.to.have.property('purchaser-email');
    expect(Object.keys(again)).to.have.length(Object.keys(marked).length - 1);
    expectShopperWording(await visibleMessages(page));
    expect(orderRequests).to.have.length(0);
    expect(problems).to.deep.equal([]);
  });

  it('says what the order status lookup needs, in the same words', async () => {
    const { page, problems } = await openStore(suite, '/#/status');
    await page.getByRole('button', { name: 'Find my order' }).click();
    await page.locator('#status-errors').filter({ hasText: 'Please check the highlighted fields.' }).waitFor();
    const marked = await page.locator('#status-form [aria-invalid="true"]').evaluateAll((nodes) => nodes.map((node) => node.id));
    expect(marked).to.deep.equal(['status-number', 'status-email']);
    expect(await page.locator('#status-number-error').textContent()).to.equal('Enter your order number.');
    expect(await page.locator('#status-email-error').textContent()).to.equal('Enter the email used for the order or the billing ZIP code.');
    await page.getByLabel('Order number').fill('1234');
    await page.getByLabel('Email used for the order').fill('ada@');
    await page.getByRole('button', { name: 'Find my order' }).click();
    await page.locator('#status-number-error').filter({ hasText: 'Check the order number: it has 8 digits.' }).waitFor();
    expect(await page.locator('#status-email-error').textContent()).to.equal('Enter an email address like name@example.com.');
    expectShopperWording(await visibleMessages(page));
    expect(problems).to.deep.equal([]);
  });
});

import { randomBytes } from 'node:crypto';
import { expect } from 'chai';
import type { Page } from 'playwright-core';
import { browserSuite } from '../support/browser.ts';
import { createProduct } from '../support/fixtures.ts';
import { api } from '../support/http.ts';
import { addToCart, confirmationNumber, fillAddress, futureExpiry, goToCheckout, openStore, POSTAL_FORM, screenshot, TEST_CARD, VALIDATOR_JARGON, visibleMessages } from '../support/storefront-pages.ts';

/**
 * The account pages in Chromium: a shopper registers (with the 18+ attestation), signs out and in
 * again, orders once saving the card and once with the saved card, follows both orders and their
 * status history, edits the profile and addresses, changes their consents, and closes the account.
 */
describe('storefront: a customer account in Chromium', function () {
  this.timeout(180_000);
  const suite = browserSuite();

  const sessionToken = (page: Page) => page.evaluate(() => localStorage.getItem('mintdesk.customerSession'));
  const account = (page: Page) => page.locator('#view-account');
  const nav = (page: Page, name: string) => page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name });

  async function me(page: Page) {
    const token = await sessionToken(page);
    expect(token, 'signed in').to.be.a('string');
    const response = await api(suite.ctx.baseUrl, 'GET', '/api/customers/me', { token: token! });
    expect(response.status).to.equal(200);
    return response.body;
  }

  it('registers, signs in, orders with a saved card, follows the orders, changes consent and closes the account', async () => {
    const product = await createProduct(suite.ctx.services, { name: 'Silver Eagle proof', totalStock: 10 });
    const { page, problems, orderRequests } = await openStore(suite);
    const unique = randomBytes(4).toString('hex');
    const email = `ada-${unique}@example.com`;
    const password = 'difference-engine-1843';

    // --- registration: every problem at once, then the account ---
    await nav(page, 'Sign in').click();
    await page.getByRole('link', { name: 'Create an account' }).click();
    const register = page.locator('#view-register');
    await register.getByRole('button', { name: 'Create account' }).click();
    await register.locator('#register-errors').filter({ hasText: 'Please check the highlighted fields.' }).waitFor();
    const marked = await register.locator('[aria-invalid="true"]').evaluateAll((nodes) => nodes.map((node) => node.id));
    expect(marked).to.deep.equal(['reg-first', 'reg-last', 'reg-email', 'reg-phone', 'reg-login', 'reg-password', 'reg-question', 'reg-answer', 'reg-age', 'reg-terms']);
    expect(await register.locator('#reg-age-error').textContent()).to.equal('Confirm that you are 18 or older to open an account.');
    for (const message of await visibleMessages(page)) expect(message).not.to.match(VALIDATOR_JARGON);
    await screenshot(page, 'register-errors', { phone: true });

    await register.getByLabel('First name').fill('Ada');
    await register.getByLabel('Last name').fill('Lovelace');
    await register.getByLabel('Email', { exact: true }).fill(email);
    await register.getByLabel('Phone').fill('(202) 555-0143');
    await register.getByLabel('Login name').fill(`ada.${unique}`);
    await register.getByLabel('Password').fill(`ada.${unique}`);
    await register.getByLabel('Security question').selectOption('favourite_coin');
    await register.getByLabel('Answer', { exact: true }).fill('Buffalo nickel');
    await register.getByLabel('I am 18 years of age or older.').check();
    await register.getByLabel('I accept the terms of service.').check();
    await register.getByLabel(/Email me about new releases/).check();
    await register.getByRole('button', { name: 'Create account' }).click();
    await register.locator('#reg-password-error').filter({ hasText: 'Choose a password that is not your login name or email address.' }).waitFor();
    await register.getByLabel('Password').fill(password);
    await register.getByRole('button', { name: 'Create account' }).click();

    await account(page).getByText('You have no orders yet.').waitFor();
    const registered = await me(page);
    expect(registered).to.deep.include({ firstName: 'Ada', lastName: 'Lovelace', email, phone: '+12025550143', loginName: `ada.${unique}` });
    expect(registered.consents.age_attestation.granted, 'the 18+ attestation is recorded').to.equal(true);
    expect(registered.consents.terms.granted).to.equal(true);
    expect(registered.consents.marketing_email.granted).to.equal(true);
    expect(registered.consents.tracking?.granted ?? false).to.equal(false);
    await screenshot(page, 'account-orders-empty', { phone: true });

    // --- sign out and in again, with the email ---
    await account(page).getByRole('button', { name: 'Sign out' }).click();
    await nav(page, 'Sign in').click();
    const signIn = page.locator('#view-signin');
    await signIn.getByLabel('Email or login name').fill(email);
    await signIn.getByLabel('Password').fill('not the password');
    await signIn.getByRole('button', { name: 'Sign in' }).click();
    await signIn.getByText('The login or password is incorrect.').waitFor();
    await signIn.getByLabel('Password').fill(password);
    await signIn.getByRole('button', { name: 'Sign in' }).click();
    await account(page).getByText('You have no orders yet.').waitFor();
    await screenshot(page, 'signin', { phone: false });

    // --- first order: the profile fills the contact, the card is saved ---
    await nav(page, 'Catalog').click();
    await addToCart(page, product.sku);
    await goToCheckout(page);
    await page.locator('.account-panel').getByText('Signed in as').waitFor();
    expect(await page.getByLabel('First name', { exact: true }).inputValue()).to.equal('Ada');
    expect(await page.getByLabel('Email', { exact: true }).inputValue()).to.equal(email);
    await fillAddress(page, 'billing', POSTAL_FORM);
    await page.getByLabel('Card number').fill(TEST_CARD);
    await page.getByLabel('Expiry (MM/YY)').fill(futureExpiry());
    await page.getByLabel('Security code').fill('123');
    await page.getByLabel('Name on card').fill('Ada Lovelace');
    await page.getByLabel('Save this card to my account for later orders').check();
    await page.getByLabel('I accept the terms of sale.').check();
    await page.getByLabel('I am 18 years of age or older.').check();
    await screenshot(page, 'checkout-signed-in', { phone: true });
    await page.getByRole('button', { name: 'Place order' }).click();
    const firstOrder = await confirmationNumber(page);
    expect(orderRequests[0]!.postDataJSON().payment).to.deep.include({ type: 'card', saveCard: true });
    expect(orderRequests[0]!.headers().authorization, 'the order is placed as the customer').to.match(/^Bearer /);
    const customerId = registered.id as string;
    const saved = await suite.ctx.services.vault.listSaved(customerId);
    expect(saved.map((card) => card.last4)).to.deep.equal(['4242']);

    // --- second order: the saved card, with its security code ---
    await page.getByRole('link', { name: 'Continue shopping' }).click();
    await addToCart(page, product.sku);
    await goToCheckout(page);
    const savedCard = page.getByLabel(/VISA ending in 4242/);
    await savedCard.waitFor();
    expect(await savedCard.isChecked(), 'the saved card is offered first').to.equal(true);
    expect(await page.locator('#card-number').count(), 'no card number to type').to.equal(0);
    await fillAddress(page, 'billing', POSTAL_FORM);
    await page.getByLabel('I accept the terms of sale.').check();
    await page.getByLabel('I am 18 years of age or older.').check();
    await page.getByRole('button', { name: 'Place order' }).click();
    await page.locator('#card-cvv-error').filter({ hasText: 'Enter the security code.' }).waitFor();
    await page.getByLabel('Security code').fill('123');
    await page.getByRole('button', { name: 'Place order' }).click();
    const secondOrder = await confirmationNumber(page);
    expect(orderRequests).to.have.length(2);
    expect(orderRequests[1]!.postDataJSON().payment).to.deep.equal({ type: 'saved_card', cardToken: saved[0]!.cardToken, cvv: '123' });
    expect(await page.locator('#confirmation-details .order__payment').textContent()).to.equal('Card VISA ending in 4242, not charged yet.');

    // --- order history, each with its status timeline ---
    const first = await suite.ctx.services.orders.findByNumber(firstOrder);
    await suite.ctx.services.orders.transition(first!._id, 'payment_pending', { actor: 'test', reason: 'fraud check passed' });
    await suite.ctx.services.orders.transition(first!._id, 'paid', { actor: 'test', reason: 'captured', set: { 'payment.captureId': 'cap_test' } });
    await page.getByRole('link', { name: 'order history' }).click();
    const history = account(page).locator('.order-history__item');
    await history.first().waitFor();
    expect(await history.locator('h3').allTextContents()).to.deep.equal([`Order ${secondOrder}`, `Order ${firstOrder}`]);
    const paidOrder = account(page).locator(`[data-order="${firstOrder}"]`);
    expect(await paidOrder.locator('.timeline__status').allTextContents()).to.deep.equal(['Received and being verified', 'Awaiting payment authorisation', 'Paid and being prepared']);
    expect(await paidOrder.locator('.order__payment').textContent()).to.equal('Paid with VISA ending in 4242.');
    const newOrder = account(page).locator(`[data-order="${secondOrder}"]`);
    expect(await newOrder.locator('.timeline__status').allTextContents()).to.deep.equal(['Received and being verified']);
    expect(await newOrder.locator('.order__payment').textContent()).to.equal('Card VISA ending in 4242, not charged yet.');
    await screenshot(page, 'account-orders', { phone: true });

    // --- profile and addresses ---
    await account(page).getByRole('link', { name: 'Profile' }).click();
    await account(page).getByLabel('Phone').fill('555');
    await account(page).getByRole('button', { name: 'Save details' }).click();
    await account(page).locator('#profile-phone-error').filter({ hasText: 'Enter a phone number with area code, like (202) 555-0100.' }).waitFor();
    await account(page).getByLabel('Phone').fill('(202) 555-0177');
    await account(page).getByRole('button', { name: 'Save details' }).click();
    await account(page).getByText('Your details are saved.').waitFor();
    expect((await me(page)).phone).to.equal('+12025550177');
    await screenshot(page, 'account-profile', { phone: true });

    await account(page).getByRole('link', { name: 'Addresses' }).click();
    await account(page).getByRole('button', { name: 'Add an address' }).click();
    const addressForm = account(page).locator('#address-form');
    await addressForm.getByLabel('Street address').fill('801 9th St NW');
    await addressForm.getByLabel('City').fill('Washington');
    await addressForm.getByLabel('State').fill('Washington DC');
    await addressForm.getByLabel('ZIP code').fill('20001');
    await addressForm.getByRole('button', { name: 'Save address' }).click();
    await addressForm.locator('#addr-state-error').filter({ hasText: 'Enter the two-letter state code, like DC or IL.' }).waitFor();
    await addressForm.getByLabel('State').fill('DC');
    await addressForm.getByRole('button', { name: 'Save address' }).click();
    await account(page).locator('.saved-list__item').filter({ hasText: 'Home' }).waitFor();
    expect((await me(page)).addresses.map((entry: { label: string; address: { line1: string } }) => [entry.label, entry.address.line1])).to.deep.equal([['Home', '801 9th St NW']]);
    await screenshot(page, 'account-addresses', { phone: true });

    await account(page).getByRole('link', { name: 'Saved cards' }).click();
    await account(page).locator('.saved-list__item').filter({ hasText: 'VISA ending in 4242' }).waitFor();
    await screenshot(page, 'account-cards', { phone: true });

    // --- consent ---
    await account(page).getByRole('link', { name: 'Privacy and email' }).click();
    const marketing = account(page).getByLabel('Email me about new releases and offers');
    expect(await marketing.isChecked()).to.equal(true);
    await marketing.uncheck();
    await account(page).locator('#privacy-status').filter({ hasText: 'You will not receive marketing email.' }).waitFor();
    await account(page).getByLabel(/Keep my browsing/).check();
    await account(page).locator('#privacy-status').filter({ hasText: 'Your browsing is kept with your account.' }).waitFor();
    const changed = await me(page);
    expect(changed.consents.marketing_email.granted).to.equal(false);
    expect(changed.consents.tracking.granted).to.equal(true);
    expect(Object.values(changed.emailTopics).some(Boolean), 'no newsletter without marketing consent').to.equal(false);
    await screenshot(page, 'account-privacy', { phone: true });

    // --- closing the account ---
    await account(page).getByRole('link', { name: 'Close account' }).click();
    await screenshot(page, 'account-close', { phone: true });
    await account(page).getByLabel('Your password').fill('not the password');
    await account(page).getByRole('button', { name: 'Close my account' }).click();
    await account(page).locator('#close-password-error').filter({ hasText: 'That password is not correct.' }).waitFor();
    const token = await sessionToken(page);
    await account(page).getByLabel('Your password').fill(password);
    await account(page).getByRole('button', { name: 'Close my account' }).click();
    await page.getByText('Your account is closed and you are signed out.').waitFor();
    expect(await sessionToken(page)).to.equal(null);
    expect(await nav(page, 'Sign in').isVisible()).to.equal(true);
    expect((await api(suite.ctx.baseUrl, 'GET', '/api/customers/me', { token: token! })).status, 'the session ended').to.equal(401);
    expect((await api(suite.ctx.baseUrl, 'POST', '/api/customers/login', { body: { login: email, password } })).status, 'no sign-in to a closed account').to.equal(401);
    expect(await suite.ctx.services.vault.listSaved(customerId), 'a closed account keeps no card').to.deep.equal([]);
    expect(await suite.ctx.services.orders.findByNumber(secondOrder), 'orders are kept').to.not.equal(undefined);
    expect(problems).to.deep.equal([]);
  });
});

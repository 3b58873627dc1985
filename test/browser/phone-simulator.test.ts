import { expect } from 'chai';
import type { Page } from 'playwright-core';
import { browserSuite } from '../support/browser.ts';
import { createProduct } from '../support/fixtures.ts';
import { api } from '../support/http.ts';
import { placeWebOrder, uniqueShopper } from '../support/order-flow.ts';
import { createStaffUser, loginStaff } from '../support/staff-sessions.ts';

/** Set to a directory to keep screenshots of the page (for a person to look at; never committed). */
const SCREENSHOT_DIR = process.env.SIMULATOR_SCREENSHOT_DIR;

/**
 * The phone simulator page (/simulator/, served when no Twilio account is configured outside
 * production) in Chromium: a caller dials the IVR, hears the greeting and the recording notice,
 * asks for an order's status with the keypad, then waits for a rep, who accepts through the staff
 * API while the page shows the call queued and then connected.
 */
describe('phone simulator page: a caller in Chromium', function () {
  this.timeout(120_000);
  const suite = browserSuite(async (ctx) => {
    // Representatives answer around the clock here, so the caller queues whatever time the test runs.
    const { version, config } = await ctx.services.ivr.getConfig();
    await ctx.services.ivr.saveConfig(
      { type: 'staff', staffUserId: 'test-admin', username: 'test-admin', role: 'admin', sessionId: 'test', ip: undefined },
      { baseVersion: version, config: { ...config, hours: { ...config.hours, weekly: [{ days: ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'], open: '00:00', close: '24:00' }], holidays: [] } } },
    );
  });

  async function openSimulator(): Promise<{ page: Page; problems: string[] }> {
    const context = await suite.newContext({ viewport: { width: 1280, height: 1100 } });
    const page = await context.newPage();
    const problems: string[] = [];
    page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
    page.on('console', (message) => {
      if (message.type() === 'error') problems.push(`console: ${message.text()}`);
    });
    await page.goto(`${suite.ctx.baseUrl}/simulator/`);
    return { page, problems };
  }

  const transcript = (page: Page) => page.getByTestId('transcript');
  /** Waits until the IVR listens again and says `text` (a prompt of the step just reached). */
  async function heard(page: Page, text: string) {
    await transcript(page).getByText(text, { exact: false }).first().waitFor();
  }
  async function listeningFor(page: Page, what: RegExp) {
    await page.getByTestId('listening').filter({ hasText: what }).waitFor();
  }
  /** Presses keys one by one on the keypad; the page sends them when the Gather's digit count is reached. */
  async function pressKeys(page: Page, keys: string) {
    for (const key of keys) await page.locator(`#keypad button[data-key="${key}"]`).click();
  }

  it('calls the IVR, hears an order status by keypad, waits in the queue and is connected to a rep who accepts through the staff API', async () => {
    const product = await createProduct(suite.ctx.services, { name: 'Silver Eagle proof', totalStock: 10 });
    const shopper = uniqueShopper({ address: { line1: '1500 Pennsylvania Ave NW', city: 'Washington', state: 'DC', postalCode: '20220', country: 'US' } });
    const placed = await placeWebOrder(suite.ctx, shopper, [{ sku: product.sku, quantity: 2 }]);
    const orderNumber = placed.body.orderNumber as string;
    expect(orderNumber).to.match(/^\d{8}$/);

    const { page, problems } = await openSimulator();
    await page.getByLabel('Calling from').fill('+12025550142');
    await page.getByTestId('call').click();

    await heard(page, 'Thank you for calling Mint Store');
    await listeningFor(page, /1 digit/);
    expect(await page.getByTestId('call-state').textContent()).to.equal('awaiting_input');
    await pressKeys(page, '1'); // English
    await heard(page, 'Calls with our representatives may be recorded for quality and training.');
    await heard(page, 'If you do not want your call recorded, press 9 now.');
    await page.getByTestId('silence').click();
    await heard(page, 'Main menu.');
    await listeningFor(page, /1 digit/);
    await pressKeys(page, '1'); // order status
    await listeningFor(page, /8 digits/);
    await heard(page, 'Please enter your eight-digit order number');
    await pressKeys(page, orderNumber);
    await listeningFor(page, /5 digits/);
    await heard(page, 'please enter the five-digit ZIP code of the billing address');
    await pressKeys(page, '20220');
    await heard(page, 'I found order');
    const spoken = (await transcript(page).textContent()) ?? '';
    expect(spoken).to.contain('It has 2 items.');
    expect(spoken).to.contain('We have received it and are verifying it.');
    await screenshot(page, 'order-status');

    await listeningFor(page, /1 digit/);
    await pressKeys(page, '0'); // a representative
    await heard(page, 'Please hold for the next available representative.');
    await heard(page, 'You are number 1 in line.');
    await page.getByTestId('call-queue').filter({ hasText: 'mintdesk-customer-service' }).waitFor();
    const callSid = (await page.getByTestId('call-sid').textContent()) ?? '';
    expect(callSid).to.match(/^CA[0-9a-f]{32}$/);
    await screenshot(page, 'queued');

    const token = await loginStaff(suite.ctx, await createStaffUser(suite.ctx, 'csr'));
    const waiting = await api(suite.ctx.baseUrl, 'GET', '/api/staff/ivr/calls/waiting', { token });
    const entry = waiting.body.items.find((item: { callSid: string }) => item.callSid === callSid);
    expect(entry, 'the call is listed for reps').to.not.equal(undefined);
    expect(entry).to.deep.include({ callerId: '+12025550142', language: 'en', recordingDeclined: false });
    expect(entry.entered.verifiedOrderNumber, 'the rep sees the order the caller proved').to.be.a('string');
    const accepted = await api(suite.ctx.baseUrl, 'POST', `/api/staff/ivr/calls/${callSid}/accept`, { token, body: {} });
    expect(accepted.status, JSON.stringify(accepted.body)).to.equal(202);

    await heard(page, 'Connecting you to a representative now.');
    await page.getByTestId('call-rep').filter({ hasText: 'Connected to a representative' }).waitFor();
    expect(await page.getByTestId('call-rep').textContent(), 'the notice was played and not declined').to.equal('Connected to a representative (recorded)');
    expect(await page.getByTestId('call-queue').textContent(), 'no longer waiting in the queue').to.equal('');
    await screenshot(page, 'connected');

    await page.getByTestId('hangup').click();
    await page.getByTestId('call-state').filter({ hasText: /^completed$/ }).waitFor();
    await heard(page, 'Call ended');
    expect(await page.getByTestId('call-rep').textContent(), 'the rep leg ended with the call').to.equal('');
    await screenshot(page, 'ended');

    expect(await transcript(page).locator('li.error').allTextContents(), 'no application error on the page').to.deep.equal([]);
    expect(await transcript(page).locator('li.warn').allTextContents()).to.deep.equal([]);
    const record = await suite.ctx.services.core.mongo.db!.collection('ivr_calls').findOne({ _id: callSid as never });
    expect(record?.outcome).to.equal('connected');
    expect(problems).to.deep.equal([]);
  });

  async function screenshot(page: Page, name: string) {
    if (SCREENSHOT_DIR) await page.screenshot({ path: `${SCREENSHOT_DIR}/phone-simulator-${name}.png`, fullPage: true });
  }
});

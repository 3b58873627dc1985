import { expect } from 'chai';
import type { ConsoleSockets } from '../../agent-console/server.ts';
import { startWorkers, type RunningWorkers } from '../../workers/start.ts';
import { browserSuite } from '../support/browser.ts';
import { createProduct, SYSTEM } from '../support/fixtures.ts';
import { placeWebOrder, uniqueShopper, waitForStatus } from '../support/order-flow.ts';
import { createStaffUser } from '../support/staff-sessions.ts';
import { attachSockets, buildConsoleIfNeeded, expectAccessible, openConsole, screenshot, signIn } from './console-helpers.ts';

/** AVS no match (25) + total over $2,500 (10) and over $10,000 (20): 55, above the review threshold of 50. */
const AVS_MISMATCH_CARD = '4000000000000010';

describe('agent console: sign-in, screens by role, session end, fraud review queue', function () {
  this.timeout(180_000);
  let sockets: ConsoleSockets | undefined;
  let workers: RunningWorkers | undefined;
  // Registered before browserSuite's hooks so they run before the runtime closes.
  after(async () => {
    await workers?.close();
    await sockets?.close();
  });
  const suite = browserSuite(async (ctx) => {
    await buildConsoleIfNeeded();
    sockets = attachSockets(ctx);
  });
  const newPage = async () => openConsole(await suite.newContext({ viewport: { width: 1280, height: 800 } }), suite.ctx.baseUrl);
  const navLinks = async (page: import('playwright-core').Page) => page.getByRole('navigation', { name: 'Screens' }).getByRole('link').allTextContents();

  it('serves the console as hashed assets: index.html revalidated under a strict CSP, assets cached for a year', async () => {
    const index = await fetch(`${suite.ctx.baseUrl}/console/`);
    expect(index.status).to.equal(200);
    expect(index.headers.get('cache-control')).to.equal('no-cache');
    expect(index.headers.get('content-security-policy')).to.contain("script-src 'self'").and.not.contain('unsafe-inline');
    const html = await index.text();
    const script = html.match(/src="(\/console\/assets\/index-[\w-]+\.js)"/)?.[1];
    expect(script, 'hashed entry script').to.be.a('string');
    const asset = await fetch(`${suite.ctx.baseUrl}${script}`);
    expect(asset.status).to.equal(200);
    expect(asset.headers.get('cache-control')).to.equal('public, max-age=31536000, immutable');
    expect((await fetch(`${suite.ctx.baseUrl}/console/assets/nope-123.js`)).status).to.equal(404);
    const redirect = await fetch(`${suite.ctx.baseUrl}/console`, { redirect: 'manual' });
    expect(redirect.status).to.equal(301);
    expect(redirect.headers.get('location')).to.equal('/console/');
    const widget = await fetch(`${suite.ctx.baseUrl}/chat-widget/widget.js`);
    expect(widget.status).to.equal(200);
    expect(widget.headers.get('cache-control')).to.equal('no-cache');
  });

  it('signs each role in (TOTP for admins and auditors) and shows only the screens its permissions allow', async () => {
    const { page, problems } = await newPage();
    await expectAccessible(page, 'sign-in');
    await screenshot(page, 'console-signin');

    const csr = await createStaffUser(suite.ctx, 'csr');
    await page.getByLabel('Username').fill(csr.username);
    await page.getByLabel('Password').fill('not the password at all');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('alert').filter({ hasText: 'Wrong username or password.' }).waitFor();
    await screenshot(page, 'console-signin-error');

    await signIn(page, csr);
    expect(await navLinks(page)).to.deep.equal(['Desk']);
    // Asking for a screen the role does not have shows the role's own screen.
    await page.goto(`${suite.ctx.baseUrl}/console/#/floor`);
    await page.getByRole('heading', { name: 'Offers' }).waitFor();
    expect(await page.getByRole('heading', { name: 'Chats in progress' }).count()).to.equal(0);
    await expectAccessible(page, 'desk (empty)');
    await screenshot(page, 'console-desk-empty');

    // The visible shortcut list.
    await page.keyboard.press('Alt+Shift+Slash');
    const help = page.getByRole('dialog', { name: 'Keyboard shortcuts' });
    await help.waitFor();
    for (const keys of ['Alt+Shift+A', 'Alt+Shift+E', 'Alt+Shift+W']) expect(await help.getByText(keys, { exact: true }).count(), keys).to.equal(1);
    await expectAccessible(page, 'shortcut help');
    await screenshot(page, 'console-shortcuts');
    await page.keyboard.press('Escape');
    await help.waitFor({ state: 'hidden' });

    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByText('You signed out.').waitFor();
    expect(await page.evaluate(() => sessionStorage.length)).to.equal(0);

    const analyst = await createStaffUser(suite.ctx, 'fraud_analyst');
    await signIn(page, analyst);
    expect(await navLinks(page)).to.deep.equal(['Fraud reviews']);
    await page.getByRole('button', { name: 'Sign out' }).click();

    const admin = await createStaffUser(suite.ctx, 'admin');
    await signIn(page, admin);
    expect(await navLinks(page)).to.deep.equal(['Canned responses']);
    await page.getByRole('heading', { name: /Canned responses/ }).waitFor();
    await expectAccessible(page, 'canned responses');
    await screenshot(page, 'console-canned');
    await page.getByRole('button', { name: 'Sign out' }).click();

    const auditor = await createStaffUser(suite.ctx, 'auditor');
    await signIn(page, auditor);
    expect(await navLinks(page)).to.deep.equal([]);
    await page.getByRole('heading', { name: 'Nothing to work on here' }).waitFor();
    expect(problems).to.deep.equal([]);
  });

  it('warns before the idle timeout, stays signed in on request, and clears the screen at the deadline', async () => {
    const context = await suite.newContext({ viewport: { width: 1280, height: 800 } });
    await context.clock.install();
    const { page } = await openConsole(context, suite.ctx.baseUrl);
    const csr = await createStaffUser(suite.ctx, 'csr');
    await signIn(page, csr);

    // Idle timeout 15 min; the server records use once a minute, so the console counts 14 and warns 2 before.
    await page.clock.fastForward('12:30');
    const warning = page.getByRole('alertdialog', { name: 'Are you still there?' });
    await warning.waitFor();
    expect(await page.getByTestId('idle-countdown').textContent()).to.match(/^1:\d\d$/);
    await expectAccessible(page, 'idle warning');
    await screenshot(page, 'console-idle-warning');
    await warning.getByRole('button', { name: 'Stay signed in' }).click();
    await warning.waitFor({ state: 'hidden' });

    // No activity after that: the session ends on screen at the deadline, with the reason.
    await page.clock.fastForward('14:05');
    await page.getByText('You were signed out after a period without activity.').waitFor();
    expect(await page.getByRole('button', { name: 'Sign out' }).count()).to.equal(0);
    expect(await page.evaluate(() => sessionStorage.getItem('mintdesk.console.session'))).to.equal(null);
  });

  it('clears the screen at once when the user is suspended', async () => {
    const { page } = await newPage();
    const csr = await createStaffUser(suite.ctx, 'csr');
    await signIn(page, csr);
    await page.getByText('Connected').waitFor();
    await suite.ctx.services.staff.suspend(csr.id, 'security_incident', SYSTEM);
    await page.getByText('Your account was suspended. Ask an administrator.').waitFor({ timeout: 15_000 });
    expect(await page.getByRole('navigation', { name: 'Screens' }).count()).to.equal(0);
    await screenshot(page, 'console-suspended');
  });

  it('lets an analyst approve a held order from the review queue, and the order moves on to payment', async () => {
    workers = await startWorkers(suite.ctx.runtime);
    const bullion = (await createProduct(suite.ctx.services, { totalStock: 5, priceCents: 1_000_000, name: 'Gold bar' })).sku;
    const placed = await placeWebOrder(suite.ctx, uniqueShopper({ cardNumber: AVS_MISMATCH_CARD }), [{ sku: bullion, quantity: 1 }]);
    const orderNumber = placed.body.orderNumber as string;
    await waitForStatus(suite.ctx, orderNumber, 'fraud_review');

    const { page, problems } = await newPage();
    const analyst = await createStaffUser(suite.ctx, 'fraud_analyst');
    await signIn(page, analyst);
    const item = page.getByRole('button', { name: new RegExp(orderNumber) });
    await item.click();
    await page.getByRole('heading', { name: `Order ${orderNumber}` }).waitFor();
    await page.getByText('Address verification: no match').waitFor();
    expect(await page.getByRole('main').getByLabel(/^Risk score 55/).count()).to.equal(1);
    await expectAccessible(page, 'fraud review');
    await screenshot(page, 'console-fraud-review');

    await page.getByRole('button', { name: 'Record decision' }).click();
    await page.getByRole('alert').filter({ hasText: 'Choose approve or decline.' }).waitFor();
    await page.getByLabel('Approve: send on to payment').check();
    await page.getByLabel('Reason').fill('Called the customer; known collector.');
    await page.getByRole('button', { name: 'Record decision' }).click();
    await page.getByText(`Approved by ${analyst.username}`).waitFor();
    await screenshot(page, 'console-fraud-approved');

    const paid = await waitForStatus(suite.ctx, orderNumber, 'paid');
    expect(paid.fraud?.reviewDecision).to.equal('approved');
    expect(paid.statusHistory.map((h) => h.to)).to.deep.equal(['pending_fraud_check', 'fraud_review', 'payment_pending', 'paid']);
    const decisions = await suite.ctx.services.audit.query({ action: 'fraud.review_decision', actor: analyst.username, page: 1, pageSize: 10 });
    expect(decisions.total).to.equal(1);
    expect(problems).to.deep.equal([]);
  });
});

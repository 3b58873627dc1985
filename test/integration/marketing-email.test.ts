import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import type { NewsletterTopic } from '../../api/customers/schema.ts';
import type { ReceivedMail } from '../../platform/embedded/index.ts';
import { createEmailWorker } from '../../workers/email/worker.ts';
import { api } from '../support/http.ts';
import { createTestContext, type TestContext } from '../support/infra.ts';
import { waitFor } from '../support/order-flow.ts';
import { createStaffUser, loginStaff } from '../support/staff-sessions.ts';

/** Folded header lines joined again (RFC 5322 unfolding). */
const unfold = (value: string | undefined) => (value ?? '').replace(/\r?\n(?=[ \t])/g, '');

describe('marketing email: opt-in only, one-click unsubscribe', function () {
  this.timeout(120_000);
  let ctx: TestContext;
  let adminToken: string;
  let worker: ReturnType<typeof createEmailWorker> | undefined;
  const mailbox = () => ctx.services.core.mailbox!;

  const startWorker = () => {
    worker = createEmailWorker({ services: ctx.services, connection: ctx.runtime.bullConnection });
  };

  async function customer(name: string, topics: Partial<Record<NewsletterTopic, boolean>>, marketingEmail = Object.values(topics).some(Boolean)) {
    const tag = randomBytes(4).toString('hex');
    const result = await ctx.services.customers.register({
      firstName: name,
      lastName: 'Collector',
      email: `${name.toLowerCase()}.${tag}@example.com`,
      phone: '202-555-0142',
      loginName: `${name.toLowerCase()}_${tag}`,
      password: 'correct horse battery',
      securityQuestion: { questionId: 'first_pet', answer: 'Rex the Dog' },
      ageAttestation: true,
      acceptTerms: true,
      consents: { marketingEmail },
      emailTopics: topics,
    });
    return { id: result.customer.id, email: result.customer.email! };
  }

  async function campaign(topic: NewsletterTopic, subject: string) {
    const response = await api(ctx.baseUrl, 'POST', '/api/staff/email/campaigns', {
      token: adminToken,
      body: { topic, subject, html: '<p style="margin:0;">The <strong>2025 Proof Set</strong> is here.</p>', text: 'The 2025 Proof Set is here.' },
    });
    expect(response.status, JSON.stringify(response.body)).to.equal(202);
    return response.body as { campaignId: string; queued: number };
  }

  /** Until every queued email of the campaign was sent, skipped or failed. */
  async function finished(campaignId: string) {
    return waitFor(`campaign ${campaignId} to finish`, async () => {
      const view = await api(ctx.baseUrl, 'GET', `/api/staff/email/campaigns/${campaignId}`, { token: adminToken });
      const { sent = 0, skipped = 0, failed = 0 } = view.body.progress as Record<string, number>;
      return sent + skipped + failed >= view.body.queued ? view.body : undefined;
    });
  }

  /** What a mailbox provider sends for RFC 8058 one-click (the shared api() helper only speaks JSON). */
  async function oneClickPost(path: string, accept = '*/*') {
    const response = await fetch(`${ctx.baseUrl}${path}`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', accept }, body: 'List-Unsubscribe=One-Click' });
    const text = await response.text();
    return { status: response.status, text, json: () => JSON.parse(text) as { error: { code: string } } };
  }

  const mailsTo = (address: string, subject: string): ReceivedMail[] => mailbox().list().filter((m) => m.envelopeTo.includes(address) && m.subject === subject);
  const pathOf = (url: string) => new URL(url).pathname;

  before(async () => {
    ctx = await createTestContext();
    adminToken = await loginStaff(ctx, await createStaffUser(ctx, 'admin'));
  });
  afterEach(async () => {
    await worker?.close();
    worker = undefined;
  });
  after(async () => ctx?.close());

  let alice: { id: string; email: string };
  let aliceMail: ReceivedMail;

  it('sends a campaign only to customers who opted in to its topic, with RFC 8058 headers', async () => {
    startWorker();
    alice = await customer('Alice', { news_releases: true, coins_online: true });
    const bob = await customer('Bob', {});
    const carol = await customer('Carol', { coins_online: true });
    const dave = await customer('Dave', { news_releases: true });
    // Dave withdraws marketing consent: every newsletter stops with it.
    await ctx.services.customers.recordConsent(dave.id, { type: 'marketing_email', granted: false }, { source: 'web' });

    const subject = `News <releases> ${randomBytes(3).toString('hex')}`;
    const sent = await campaign('news_releases', subject);
    const done = await finished(sent.campaignId);
    expect(done.progress.sent).to.equal(1);

    aliceMail = mailsTo(alice.email, subject)[0]!;
    expect(aliceMail, 'Alice opted in').to.not.equal(undefined);
    for (const other of [bob, carol, dave]) expect(mailsTo(other.email, subject), other.email).to.have.length(0);

    const listUnsubscribe = unfold(aliceMail.headers['list-unsubscribe']);
    expect(listUnsubscribe).to.match(/^<https?:\/\/[^<>\s]+\/api\/email\/unsubscribe\/[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{43}>, <mailto:[^<>\s@]+@[^<>\s]+\?subject=[^<>\s]+>$/);
    expect(unfold(aliceMail.headers['list-unsubscribe-post'])).to.equal('List-Unsubscribe=One-Click');
    expect(aliceMail.headers.precedence).to.equal('bulk');
    const url = /^<([^>]+)>/.exec(listUnsubscribe)![1]!;
    expect(aliceMail.html).to.contain(`href="${url}"`);
    expect(aliceMail.text).to.contain(url);
    expect(aliceMail.html).to.contain('<strong>2025 Proof Set</strong>');
    expect(aliceMail.html).to.contain('Dear Alice');

    // Jobs carry ids only; the content is stored once with the campaign.
    const job = await ctx.services.core.queues.queue('email').getJob(`campaign-${sent.campaignId}-${alice.id}`);
    expect(job!.data).to.deep.equal({ eventId: `campaign-${sent.campaignId}-${alice.id}`, template: 'marketing_newsletter', customerId: alice.id, data: { campaignId: sent.campaignId } });
  });

  it('GET only shows the confirmation page; a tampered token is refused; the one-click POST unsubscribes at once', async () => {
    const url = /^<([^>]+)>/.exec(unfold(aliceMail.headers['list-unsubscribe']))![1]!;
    const path = pathOf(url);

    const page = await api(ctx.baseUrl, 'GET', path, { headers: { accept: 'text/html' } });
    expect(page.status).to.equal(200);
    expect(page.body).to.contain('News Releases').and.to.contain('<form method="post">').and.to.contain('name="List-Unsubscribe" value="One-Click"');
    expect(page.headers.get('cache-control')).to.equal('no-store');
    expect(await ctx.services.customers.mayEmailNewsletter(alice.id, 'news_releases'), 'GET must not unsubscribe').to.equal(true);

    const token = path.split('/').at(-1)!;
    // Change a character in the middle of the MAC: the last one carries unused bits.
    const tampered = `${token.slice(0, -10)}${token.at(-10) === 'A' ? 'B' : 'A'}${token.slice(-9)}`;
    const forged = await oneClickPost(`/api/email/unsubscribe/${tampered}`);
    expect(forged.status).to.equal(400);
    expect(forged.json().error.code).to.equal('email.unsubscribe_invalid');
    expect((await api(ctx.baseUrl, 'GET', `/api/email/unsubscribe/${tampered}`)).status).to.equal(400);
    expect(await ctx.services.customers.mayEmailNewsletter(alice.id, 'news_releases')).to.equal(true);

    const oneClick = await oneClickPost(path);
    expect(oneClick.status).to.equal(200);
    expect(await ctx.services.customers.mayEmailNewsletter(alice.id, 'news_releases')).to.equal(false);
    // Only that newsletter: the other subscription stays.
    expect(await ctx.services.customers.mayEmailNewsletter(alice.id, 'coins_online')).to.equal(true);
    // Clicking again (a second client, a reload) is harmless.
    // The confirmation page's button posts the same form from a browser and gets a page back.
    const again = await oneClickPost(path, 'text/html');
    expect(again.status).to.equal(200);
    expect(again.text).to.contain('You are unsubscribed');

    startWorker();
    const subject = `Second news ${randomBytes(3).toString('hex')}`;
    const second = await campaign('news_releases', subject);
    await finished(second.campaignId);
    expect(mailsTo(alice.email, subject)).to.have.length(0);
  });

  it('honours an unsubscribe that arrives between queueing and sending', async () => {
    const frank = await customer('Frank', { lessons_that_make_cents: true });
    const gina = await customer('Gina', { lessons_that_make_cents: true });
    const subject = `Lessons ${randomBytes(3).toString('hex')}`;
    // No worker runs: the campaign waits in the queue.
    const queued = await campaign('lessons_that_make_cents', subject);
    expect(queued.queued).to.equal(2);

    const link = ctx.services.email.unsubscribeFor(frank.id, 'lessons_that_make_cents').url;
    expect((await oneClickPost(pathOf(link))).status).to.equal(200);

    startWorker();
    const done = await finished(queued.campaignId);
    expect(done.progress).to.deep.equal({ sent: 1, skipped: 1 });
    expect(mailsTo(gina.email, subject)).to.have.length(1);
    expect(mailsTo(frank.email, subject)).to.have.length(0);
    expect(await ctx.services.email.entry(`campaign-${queued.campaignId}-${frank.id}`)).to.deep.include({ state: 'skipped', skipReason: 'no_consent' });
  });

  it('accepts campaigns from admins only, and refuses active content', async () => {
    const csrToken = await loginStaff(ctx, await createStaffUser(ctx, 'csr'));
    const body = { topic: 'news_releases', subject: 'Hello there', html: '<p>x</p>', text: 'x' };
    expect((await api(ctx.baseUrl, 'POST', '/api/staff/email/campaigns', { token: csrToken, body })).status).to.equal(403);
    const scripted = await api(ctx.baseUrl, 'POST', '/api/staff/email/campaigns', { token: adminToken, body: { ...body, html: '<p onmouseover="steal()">x</p>' } });
    expect(scripted.status).to.equal(400);
    expect(scripted.body.error.fields[0].path).to.equal('html');
    const audited = await ctx.services.audit.query({ action: 'email_campaign.create', page: 1, pageSize: 10 });
    expect(audited.entries.length).to.be.greaterThan(0);
  });
});

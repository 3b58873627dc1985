import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import { checkoutGuestCustomers, createCustomerService } from '../../api/customers/service.ts';
import { validateCard } from '../../api/vault/cards.ts';
import { formatOrderNumberForDisplay, generateOrderNumber } from '../../api/orders/order-number.ts';
import type { Principal } from '../../api/http/principal.ts';
import { api } from '../support/http.ts';
import { createTestContext, type TestContext } from '../support/infra.ts';

type StaffPrincipal = Extract<Principal, { type: 'staff' }>;

const suffix = () => randomBytes(4).toString('hex');
const STAFF_PASSWORD = 'staff password for tests';
const system: Principal = { type: 'system', component: 'customers-test' };

/** A unique, valid registration; `over` replaces fields. */
function registration(over: Record<string, unknown> = {}) {
  const s = suffix();
  return {
    firstName: 'Jane',
    lastName: `Tester${s}`,
    email: `jane.${s}@example.com`,
    phone: `(202) 555-${String(1000 + (parseInt(s.slice(0, 4), 16) % 9000)).padStart(4, '0')}`,
    loginName: `jane_${s}`,
    password: 'correct horse battery',
    securityQuestion: { questionId: 'first_pet', answer: 'Rex the Dog' },
    ageAttestation: true,
    acceptTerms: true,
    ...over,
  };
}

describe('customers: accounts, self-service and staff lookup', function () {
  this.timeout(180_000);
  let ctx: TestContext;
  let csrToken: string;
  let fraudToken: string;
  let csrPrincipal: StaffPrincipal;

  const register = async (over: Record<string, unknown> = {}) => {
    const body = registration(over);
    const res = await api(ctx.baseUrl, 'POST', '/api/customers/register', { body });
    expect(res.status, JSON.stringify(res.body)).to.equal(201);
    return { body, token: res.body.session.token as string, customer: res.body.customer };
  };

  const auditEntries = async (action: string, resourceId?: string) =>
    (await ctx.services.audit.query({ action, ...(resourceId ? { resourceId } : {}), page: 1, pageSize: 200 })).entries;

  before(async () => {
    ctx = await createTestContext();
    const staffUser = async (role: 'csr' | 'fraud_analyst') => {
      const username = `${role.replace('_', '')}${suffix()}`;
      await ctx.services.staff.createUser({ username, displayName: `Test ${role}`, email: `${username}@mintdesk.local`, role, password: STAFF_PASSWORD }, system);
      return (await ctx.services.staff.login({ username, password: STAFF_PASSWORD })).token;
    };
    csrToken = await staffUser('csr');
    fraudToken = await staffUser('fraud_analyst');
    csrPrincipal = (await ctx.services.staff.authenticate(csrToken)) as StaffPrincipal;
  });
  after(async () => ctx?.close());

  describe('registration', () => {
    const mandatory = ['firstName', 'lastName', 'email', 'phone', 'loginName', 'password', 'securityQuestion', 'ageAttestation', 'acceptTerms'] as const;
    for (const field of mandatory) {
      it(`rejects a registration without ${field} (400, required at ${field})`, async () => {
        const body: Record<string, unknown> = registration();
        delete body[field];
        const res = await api(ctx.baseUrl, 'POST', '/api/customers/register', { body });
        expect(res.status).to.equal(400);
        expect(res.body.error.code).to.equal('validation_failed');
        expect(res.body.error.fields).to.deep.include({ path: field, code: 'required', message: 'This field is required.' });
      });
    }

    it('rejects a declined age attestation or terms, unknown fields and a full date of birth', async () => {
      const res = await api(ctx.baseUrl, 'POST', '/api/customers/register', {
        body: { ...registration(), ageAttestation: false, acceptTerms: false, dateOfBirth: '1990-01-02', birthMonth: 13 },
      });
      expect(res.status).to.equal(400);
      const found = res.body.error.fields.map((f: { path: string; code: string }) => `${f.path}:${f.code}`);
      expect(found).to.include.members(['ageAttestation:invalid_value', 'acceptTerms:invalid_value', 'dateOfBirth:unrecognized_key', 'birthMonth:too_big']);
    });

    it('names nested fields and rejects a phone number that cannot be normalised', async () => {
      const res = await api(ctx.baseUrl, 'POST', '/api/customers/register', {
        body: { ...registration(), phone: '555-0100', securityQuestion: { questionId: 'first_pet' } },
      });
      expect(res.status).to.equal(400);
      const found = res.body.error.fields.map((f: { path: string; code: string }) => `${f.path}:${f.code}`);
      expect(found).to.include.members(['phone:invalid_format', 'securityQuestion.answer:required']);
    });

    it('creates the account with normalised contact details, 18+ and terms consent records, and signs in', async () => {
      const { body, token, customer } = await register({ email: `  MiXeD.${suffix()}@Example.COM `, phone: '1-202-555-0199', birthMonth: 6, consents: { tracking: true } });
      expect(customer).to.include({ kind: 'registered', status: 'active', email: body.email.trim().toLowerCase(), phone: '+12025550199', birthMonth: 6, loginName: body.loginName });
      expect(customer.securityQuestion).to.deep.equal({ questionId: 'first_pet', question: 'What was the name of your first pet?' });
      expect(customer).to.not.have.any.keys('passwordHash', 'securityAnswerHash');
      expect(customer.consents.age_attestation).to.include({ granted: true, source: 'web' });
      expect(customer.consents.terms).to.include({ granted: true, source: 'web' });
      expect(customer.consents.tracking).to.include({ granted: true, source: 'web' });
      expect(customer.consents).to.not.have.property('marketing_email');
      const records = await ctx.services.core.mongo.collection('customer_consents').find({ customerId: customer.id }).toArray();
      expect(records.map((r) => r.type)).to.have.members(['age_attestation', 'terms', 'tracking']);
      // PIA C.2: only a truncated IP is kept with the consent evidence.
      for (const r of records) expect(r.ip).to.equal('127.0.0.0');
      const stored = await ctx.services.core.mongo.collection('customers').findOne({ _id: customer.id as never });
      expect(stored?.passwordHash).to.match(/^scrypt\$/);
      expect(stored?.securityAnswerHash).to.match(/^scrypt\$/);
      expect(JSON.stringify(stored)).to.not.include('Rex');
      const me = await api(ctx.baseUrl, 'GET', '/api/customers/me', { token });
      expect(me.status).to.equal(200);
      expect(me.body.id).to.equal(customer.id);
    });

    it('refuses a duplicate email (any case) or login name with 409', async () => {
      const { body } = await register();
      const sameEmail = await api(ctx.baseUrl, 'POST', '/api/customers/register', { body: registration({ email: body.email.toUpperCase() }) });
      expect(sameEmail.status).to.equal(409);
      expect(sameEmail.body.error.code).to.equal('customers.email_taken');
      const sameLogin = await api(ctx.baseUrl, 'POST', '/api/customers/register', { body: registration({ loginName: body.loginName.toUpperCase() }) });
      expect(sameLogin.status).to.equal(409);
      expect(sameLogin.body.error.code).to.equal('customers.login_taken');
    });

    it('keeps email unique when two registrations race', async () => {
      const email = `race.${suffix()}@example.com`;
      const results = await Promise.all([0, 1, 2].map(() => api(ctx.baseUrl, 'POST', '/api/customers/register', { body: registration({ email }) })));
      expect(results.map((r) => r.status).sort()).to.deep.equal([201, 409, 409]);
    });
  });

  describe('sign-in', () => {
    it('signs in by login name or email, and logout ends the session', async () => {
      const { body } = await register();
      const byLogin = await api(ctx.baseUrl, 'POST', '/api/customers/login', { body: { login: body.loginName.toUpperCase(), password: body.password } });
      expect(byLogin.status).to.equal(200);
      expect(byLogin.body.session.token).to.match(/^mdc_/);
      expect(byLogin.body.session.idleTimeoutSeconds).to.equal(1800);
      const expiresIn = Date.parse(byLogin.body.session.expiresAt) - Date.now();
      expect(expiresIn).to.be.within(7 * 86_400_000 - 60_000, 7 * 86_400_000 + 1000);
      const byEmail = await api(ctx.baseUrl, 'POST', '/api/customers/login', { body: { login: body.email, password: body.password } });
      expect(byEmail.status).to.equal(200);

      const token = byLogin.body.session.token;
      expect((await api(ctx.baseUrl, 'POST', '/api/customers/logout', { token })).status).to.equal(204);
      const after = await api(ctx.baseUrl, 'GET', '/api/customers/me', { token });
      expect(after.status).to.equal(401);
      expect(after.body.error.code).to.equal('customer.unauthenticated');
      expect((await api(ctx.baseUrl, 'GET', '/api/customers/me', { token: byEmail.body.session.token })).status).to.equal(200);
    });

    it('answers a wrong password and an unknown login the same way', async () => {
      const { body } = await register();
      const wrong = await api(ctx.baseUrl, 'POST', '/api/customers/login', { body: { login: body.loginName, password: 'not the password' } });
      const unknown = await api(ctx.baseUrl, 'POST', '/api/customers/login', { body: { login: `nobody_${suffix()}`, password: 'not the password' } });
      expect(wrong.status).to.equal(401);
      expect(unknown.status).to.equal(401);
      expect(wrong.body.error).to.deep.include({ code: 'customers.invalid_credentials' });
      expect(unknown.body.error.code).to.equal(wrong.body.error.code);
      expect(unknown.body.error.message).to.equal(wrong.body.error.message);
    });

    it('does not let a staff token act as a customer, nor a customer token as staff', async () => {
      const { token } = await register();
      expect((await api(ctx.baseUrl, 'GET', '/api/customers/me', { token: csrToken })).status).to.equal(401);
      expect((await api(ctx.baseUrl, 'GET', '/api/staff/customers?name=jane', { token })).status).to.equal(401);
    });

    it('rate-limits sign-in attempts per IP and login', async () => {
      const login = `limited_${suffix()}`;
      const statuses: number[] = [];
      for (let i = 0; i < 11; i += 1) statuses.push((await api(ctx.baseUrl, 'POST', '/api/customers/login', { body: { login, password: 'guess guess guess' } })).status);
      expect(statuses.slice(0, 10).every((s) => s === 401)).to.equal(true);
      expect(statuses[10]).to.equal(429);
    });

    it('rate-limits sign-in attempts on one login from many addresses', async () => {
      // Behind the store's proxy the client address comes from X-Forwarded-For; a context of its own trusts it.
      const proxied = await createTestContext({ env: { TRUST_PROXY: 'true' } });
      try {
        const attempt = (login: string, address: string) =>
          api(proxied.baseUrl, 'POST', '/api/customers/login', { body: { login, password: 'guess guess guess' }, headers: { 'x-forwarded-for': address } });
        const login = `stuffed_${suffix()}`;
        const statuses: number[] = [];
        for (let i = 0; i < 31; i += 1) statuses.push((await attempt(login, `198.51.100.${i + 1}`)).status);
        expect(statuses.slice(0, 30).every((s) => s === 401), statuses.join()).to.equal(true);
        expect(statuses[30]).to.equal(429);
        expect((await attempt(`other_${suffix()}`, '198.51.100.1')).status, 'another login from the same address').to.equal(401);
      } finally {
        await proxied.close();
      }
    });

    it('ends a session after 30 idle minutes or 7 days, whatever the activity', async () => {
      let now = new Date('2030-01-01T00:00:00Z');
      const service = createCustomerService({ mongo: ctx.services.core.mongo, clock: () => now, logger: ctx.services.core.logger, appSecret: 'x'.repeat(32), audit: ctx.services.audit, forgetSavedCards: ctx.services.vault.forgetSaved });
      const { body } = await register();
      const idle = await service.login({ login: body.loginName, password: body.password });
      now = new Date(now.getTime() + 29 * 60_000);
      expect(await service.authenticate(idle.token)).to.include({ type: 'customer' });
      now = new Date(now.getTime() + 30 * 60_000);
      expect(await service.authenticate(idle.token)).to.equal(undefined);

      // A session kept busy still ends 7 days after sign-in (activity is simulated by refreshing lastSeenAt).
      const busy = await service.login({ login: body.loginName, password: body.password });
      const sessionsCollection = ctx.services.core.mongo.collection('customer_sessions');
      const keepBusy = () => sessionsCollection.updateOne({ _id: busy.sessionId as never }, { $set: { lastSeenAt: new Date(now.getTime() - 60_000) } });
      now = new Date(busy.expiresAt.getTime() - 60_000);
      await keepBusy();
      expect(await service.authenticate(busy.token)).to.include({ type: 'customer', sessionId: busy.sessionId });
      now = new Date(busy.expiresAt.getTime() + 1);
      await keepBusy();
      expect(await service.authenticate(busy.token)).to.equal(undefined);
      expect(await sessionsCollection.countDocuments({ _id: busy.sessionId as never })).to.equal(0);
    });
  });

  describe('self-service', () => {
    it('updates profile fields, birth month, phone and saved addresses', async () => {
      const { token } = await register();
      const address = { line1: '801 9th St NW', city: 'Washington', state: 'DC', postalCode: '20220', country: 'US' };
      const added = await api(ctx.baseUrl, 'PATCH', '/api/customers/me', {
        token,
        body: { firstName: 'Janet', phone: '202 555 0177', birthMonth: 12, addresses: { add: [{ label: 'Home', address }] } },
      });
      expect(added.status, JSON.stringify(added.body)).to.equal(200);
      expect(added.body).to.include({ firstName: 'Janet', phone: '+12025550177', birthMonth: 12 });
      expect(added.body.addresses).to.have.length(1);
      const id = added.body.addresses[0].id;
      expect(added.body.addresses[0]).to.deep.include({ label: 'Home', address });

      const changed = await api(ctx.baseUrl, 'PATCH', '/api/customers/me', {
        token,
        body: { birthMonth: null, addresses: { update: [{ id, label: 'Office' }], add: [{ label: 'Cabin', address: { ...address, line1: '1 Lake Rd', postalCode: '59801', state: 'MT', city: 'Missoula' } }] } },
      });
      expect(changed.status).to.equal(200);
      expect(changed.body.birthMonth).to.equal(null);
      expect(changed.body.addresses.map((a: { label: string }) => a.label)).to.deep.equal(['Office', 'Cabin']);

      const removed = await api(ctx.baseUrl, 'PATCH', '/api/customers/me', { token, body: { addresses: { remove: [id] } } });
      expect(removed.body.addresses.map((a: { label: string }) => a.label)).to.deep.equal(['Cabin']);

      const missing = await api(ctx.baseUrl, 'PATCH', '/api/customers/me', { token, body: { addresses: { remove: [id] } } });
      expect(missing.status).to.equal(400);
      expect(missing.body.error.fields[0]).to.include({ path: 'addresses.remove.0', code: 'not_found' });

      const bad = await api(ctx.baseUrl, 'PATCH', '/api/customers/me', { token, body: { birthMonth: 0, status: 'closed', addresses: { add: [{ label: 'X', address: { ...address, postalCode: 'ABCDE' } }] } } });
      expect(bad.status).to.equal(400);
      const found = bad.body.error.fields.map((f: { path: string; code: string }) => `${f.path}:${f.code}`);
      expect(found).to.include.members(['birthMonth:too_small', 'status:unrecognized_key', 'addresses.add.0.address.postalCode:custom']);
    });

    it('refuses to take an email another account uses', async () => {
      const first = await register();
      const second = await register();
      const res = await api(ctx.baseUrl, 'PATCH', '/api/customers/me', { token: second.token, body: { email: first.body.email } });
      expect(res.status).to.equal(409);
      expect(res.body.error.code).to.equal('customers.email_taken');
      const ok = await api(ctx.baseUrl, 'PATCH', '/api/customers/me', { token: second.token, body: { email: `New.${first.body.email}` } });
      expect(ok.status).to.equal(200);
      expect(ok.body.email).to.equal(`new.${first.body.email}`);
    });

    it('subscribes to newsletters (recording marketing consent) and unsubscribes at once', async () => {
      const { token, customer } = await register();
      expect(customer.emailTopics).to.deep.equal({ product_updates: false, lessons_that_make_cents: false, news_releases: false, coins_online: false });
      const sub = await api(ctx.baseUrl, 'PUT', '/api/customers/me/preferences', { token, body: { emailTopics: { coins_online: true, news_releases: true } } });
      expect(sub.status).to.equal(200);
      expect(sub.body.emailTopics).to.include({ coins_online: true, news_releases: true, product_updates: false });
      expect(sub.body.consents.marketing_email).to.include({ granted: true, source: 'web' });
      expect(await ctx.services.customers.mayEmailNewsletter(customer.id, 'coins_online')).to.equal(true);

      const unsub = await api(ctx.baseUrl, 'PUT', '/api/customers/me/preferences', { token, body: { emailTopics: { coins_online: false } } });
      expect(unsub.body.emailTopics).to.include({ coins_online: false, news_releases: true });
      expect(await ctx.services.customers.mayEmailNewsletter(customer.id, 'coins_online')).to.equal(false);
      expect(await ctx.services.customers.mayEmailNewsletter(customer.id, 'news_releases')).to.equal(true);

      const all = await api(ctx.baseUrl, 'PUT', '/api/customers/me/preferences', { token, body: { unsubscribeAll: true } });
      expect(Object.values(all.body.emailTopics).every((v) => v === false)).to.equal(true);
      expect(await ctx.services.customers.mayEmailNewsletter(customer.id, 'news_releases')).to.equal(false);

      const bad = await api(ctx.baseUrl, 'PUT', '/api/customers/me/preferences', { token, body: { emailTopics: { junk_mail: true } } });
      expect(bad.status).to.equal(400);
      expect(bad.body.error.fields[0]).to.include({ path: 'emailTopics.junk_mail', code: 'unrecognized_key' });
    });

    it('grants and withdraws tracking and marketing consent with time and source; withdrawing marketing unsubscribes', async () => {
      const { token, customer } = await register({ emailTopics: { product_updates: true } });
      expect(customer.consents.marketing_email).to.include({ granted: true });
      expect(customer.emailTopics.product_updates).to.equal(true);

      const granted = await api(ctx.baseUrl, 'POST', '/api/customers/me/consents', { token, body: { type: 'tracking', granted: true } });
      expect(granted.status).to.equal(201);
      expect(granted.body.consents.tracking).to.include({ granted: true, source: 'web' });
      expect(Date.parse(granted.body.consents.tracking.at)).to.be.closeTo(Date.now(), 60_000);
      expect(await ctx.services.customers.hasTrackingConsent(customer.id)).to.equal(true);

      const withdrawn = await api(ctx.baseUrl, 'POST', '/api/customers/me/consents', { token, body: { type: 'tracking', granted: false } });
      expect(withdrawn.body.consents.tracking.granted).to.equal(false);
      expect(await ctx.services.customers.hasTrackingConsent(customer.id)).to.equal(false);

      await api(ctx.baseUrl, 'POST', '/api/customers/me/consents', { token, body: { type: 'marketing_email', granted: false } });
      const me = await api(ctx.baseUrl, 'GET', '/api/customers/me', { token });
      expect(me.body.consents.marketing_email.granted).to.equal(false);
      expect(me.body.emailTopics.product_updates).to.equal(false);

      const history = await ctx.services.core.mongo.collection('customer_consents').find({ customerId: customer.id, type: 'tracking' }).toArray();
      expect(history.map((r) => r.granted)).to.deep.equal([true, false]);

      const terms = await api(ctx.baseUrl, 'POST', '/api/customers/me/consents', { token, body: { type: 'terms', granted: false } });
      expect(terms.status).to.equal(400);
      expect(terms.body.error.fields[0]).to.include({ path: 'type', code: 'invalid_value' });
    });

    it('changes the password, ending the other sessions', async () => {
      const { body, token } = await register();
      const other = (await api(ctx.baseUrl, 'POST', '/api/customers/login', { body: { login: body.loginName, password: body.password } })).body.session.token;
      const wrong = await api(ctx.baseUrl, 'POST', '/api/customers/me/password', { token, body: { currentPassword: 'nope nope nope', newPassword: 'a brand new passphrase' } });
      expect(wrong.status).to.equal(403);
      expect(wrong.body.error.code).to.equal('customers.password_incorrect');
      const ok = await api(ctx.baseUrl, 'POST', '/api/customers/me/password', { token, body: { currentPassword: body.password, newPassword: 'a brand new passphrase' } });
      expect(ok.status).to.equal(204);
      expect((await api(ctx.baseUrl, 'GET', '/api/customers/me', { token })).status).to.equal(200);
      expect((await api(ctx.baseUrl, 'GET', '/api/customers/me', { token: other })).status).to.equal(401);
      expect((await api(ctx.baseUrl, 'POST', '/api/customers/login', { body: { login: body.loginName, password: body.password } })).status).to.equal(401);
      expect((await api(ctx.baseUrl, 'POST', '/api/customers/login', { body: { login: body.loginName, password: 'a brand new passphrase' } })).status).to.equal(200);
    });

    it('resets a forgotten password by the security question, with one generic failure', async () => {
      const { body, token } = await register({ securityQuestion: { questionId: 'birth_city', answer: 'New York' } });
      const question = await api(ctx.baseUrl, 'POST', '/api/customers/password-reset/question', { body: { login: body.email } });
      expect(question.body).to.deep.equal({ questionId: 'birth_city', question: 'In what city were you born?' });
      const decoy1 = await api(ctx.baseUrl, 'POST', '/api/customers/password-reset/question', { body: { login: 'nobody_at_all' } });
      const decoy2 = await api(ctx.baseUrl, 'POST', '/api/customers/password-reset/question', { body: { login: 'NOBODY_AT_ALL' } });
      expect(decoy1.status).to.equal(200);
      expect(decoy1.body).to.deep.equal(decoy2.body);

      const wrong = await api(ctx.baseUrl, 'POST', '/api/customers/password-reset/security-question', { body: { login: body.loginName, answer: 'Boston', newPassword: 'reset passphrase 1' } });
      const unknown = await api(ctx.baseUrl, 'POST', '/api/customers/password-reset/security-question', { body: { login: `ghost_${suffix()}`, answer: 'Boston', newPassword: 'reset passphrase 1' } });
      expect(wrong.status).to.equal(401);
      expect(wrong.body.error.code).to.equal('customers.reset_failed');
      expect(unknown.body.error).to.deep.equal({ ...wrong.body.error, requestId: unknown.body.error.requestId });

      const ok = await api(ctx.baseUrl, 'POST', '/api/customers/password-reset/security-question', { body: { login: body.loginName, answer: '  new   YORK ', newPassword: 'reset passphrase 1' } });
      expect(ok.status, JSON.stringify(ok.body)).to.equal(204);
      expect((await api(ctx.baseUrl, 'GET', '/api/customers/me', { token })).status).to.equal(401);
      expect((await api(ctx.baseUrl, 'POST', '/api/customers/login', { body: { login: body.loginName, password: 'reset passphrase 1' } })).status).to.equal(200);
    });

    it('rate-limits security-question attempts', async () => {
      const { body } = await register();
      const statuses: number[] = [];
      for (let i = 0; i < 6; i += 1) {
        statuses.push((await api(ctx.baseUrl, 'POST', '/api/customers/password-reset/security-question', { body: { login: body.loginName, answer: `guess ${i}`, newPassword: 'reset passphrase 2' } })).status);
      }
      expect(statuses).to.deep.equal([401, 401, 401, 401, 401, 429]);
      // Even the right answer waits out the window.
      const right = await api(ctx.baseUrl, 'POST', '/api/customers/password-reset/security-question', { body: { login: body.loginName, answer: 'rex the dog', newPassword: 'reset passphrase 2' } });
      expect(right.status).to.equal(429);
    });

    it('closes the account: sessions end, marketing is withdrawn, only order-relevant fields are kept', async () => {
      const { body, token, customer } = await register({
        birthMonth: 3,
        emailTopics: { coins_online: true },
        consents: { tracking: true },
        addresses: [{ label: 'Home', address: { line1: '1 Main St', city: 'Denver', state: 'CO', postalCode: '80202' } }],
      });
      const other = (await api(ctx.baseUrl, 'POST', '/api/customers/login', { body: { login: body.loginName, password: body.password } })).body.session.token;
      const refused = await api(ctx.baseUrl, 'POST', '/api/customers/me/close', { token, body: { password: 'wrong wrong wrong' } });
      expect(refused.status).to.equal(403);
      expect((await api(ctx.baseUrl, 'POST', '/api/customers/me/close', { token, body: {} })).body.error.fields[0]).to.include({ path: 'password', code: 'required' });

      const closed = await api(ctx.baseUrl, 'POST', '/api/customers/me/close', { token, body: { password: body.password } });
      expect([closed.status, closed.body]).to.deep.equal([200, { status: 'closed', savedCardsForgotten: 0 }]);
      expect((await api(ctx.baseUrl, 'GET', '/api/customers/me', { token })).status).to.equal(401);
      expect((await api(ctx.baseUrl, 'GET', '/api/customers/me', { token: other })).status).to.equal(401);
      expect((await api(ctx.baseUrl, 'POST', '/api/customers/login', { body: { login: body.loginName, password: body.password } })).status).to.equal(401);

      const view = await api(ctx.baseUrl, 'GET', `/api/staff/customers/${customer.id}`, { token: csrToken });
      expect(view.status).to.equal(200);
      expect(view.body).to.include({ status: 'closed', firstName: 'Jane', email: body.email, loginName: null, birthMonth: null, securityQuestion: null });
      expect(view.body.addresses).to.deep.equal([]);
      expect(Object.values(view.body.emailTopics).every((v) => v === false)).to.equal(true);
      expect(view.body.consents.marketing_email.granted).to.equal(false);
      expect(view.body.consents.tracking.granted).to.equal(false);
      expect(view.body.consents.age_attestation.granted).to.equal(true);
      const stored = await ctx.services.core.mongo.collection('customers').findOne({ _id: customer.id as never });
      expect(stored).to.include({ passwordHash: null, securityAnswerHash: null });
      expect(await ctx.services.customers.mayEmailNewsletter(customer.id, 'coins_online')).to.equal(false);

      // The email and login name are free again.
      await register({ email: body.email, loginName: body.loginName });

      await ctx.services.customers.anonymiseClosedCustomer(customer.id);
      const anonymised = await ctx.services.core.mongo.collection('customers').findOne({ _id: customer.id as never });
      expect(anonymised).to.include({ firstName: '', lastName: '', email: null, phone: null });
    });
  });

  it('closing an account forgets its saved cards through the vault, and the answer says how many (issue 10, item 7)', async () => {
    const { body, token, customer } = await register();
    const now = new Date();
    const card = (number: string) => validateCard({ number, expMonth: 12, expYear: now.getUTCFullYear() + 3, cvv: '123' }, now);
    const saved = await Promise.all(['4242424242424242', '5555555555554444'].map((pan) => ctx.services.vault.tokenise(card(pan), { nameOnCard: 'Jane Doe', customerId: customer.id, save: true })));
    // A single-use card of an order still in flight is the order's, forgotten when it settles.
    const singleUse = await ctx.services.vault.tokenise(card('4000056655665556'), { nameOnCard: 'Jane Doe', customerId: customer.id, save: false });
    const other = await register();
    const othersCard = await ctx.services.vault.tokenise(card('4242424242424242'), { nameOnCard: 'Someone Else', customerId: other.customer.id, save: true });
    expect((await api(ctx.baseUrl, 'GET', '/api/customers/me/cards', { token })).body.items).to.have.length(2);

    const closed = await api(ctx.baseUrl, 'POST', '/api/customers/me/close', { token, body: { password: body.password } });
    expect([closed.status, closed.body]).to.deep.equal([200, { status: 'closed', savedCardsForgotten: 2 }]);

    const cards = ctx.services.core.mongo.collection<{ _id: string; sealed: unknown; saved: boolean; forgottenAt: Date | null; last4: string }>('vault_cards');
    for (const { cardToken } of saved) {
      const doc = await cards.findOne({ _id: cardToken });
      expect(doc).to.include({ sealed: null, saved: false });
      expect(doc!.forgottenAt).to.be.instanceOf(Date);
      // The number can no longer be opened for a payment.
      let refused: unknown;
      await ctx.services.vault.withCardForAuthorisation(cardToken, async () => undefined).catch((error: unknown) => (refused = error));
      expect((refused as { code?: string })?.code).to.equal('card.not_found');
    }
    expect((await cards.findOne({ _id: singleUse.cardToken }))!.sealed).to.not.equal(null);
    expect((await ctx.services.vault.listSaved(other.customer.id)).map((kept) => kept.cardToken)).to.deep.equal([othersCard.cardToken]);
  });

  describe('guest customers', () => {
    it('upserts one guest record per email and records what was ticked at checkout', async () => {
      const email = `guest.${suffix()}@example.com`;
      const first = await ctx.services.customers.upsertGuest(
        { firstName: 'Gail', lastName: 'Guest', email: email.toUpperCase(), phone: '202-555-0111', consents: { ageAttestation: true, terms: true, tracking: false } },
        { ip: '198.51.100.23' },
      );
      expect(first.created).to.equal(true);
      const again = await ctx.services.customers.upsertGuest({ firstName: 'Gail', lastName: 'Guest-Smith', email, phone: '202-555-0112' });
      expect(again).to.deep.equal({ customerId: first.customerId, created: false });
      const view = await ctx.services.customers.staffGet(csrPrincipal, first.customerId);
      expect(view).to.include({ kind: 'guest', lastName: 'Guest-Smith', phone: '+12025550112', loginName: null, email });
      expect(view.consents.tracking?.granted).to.equal(false);
      const ips = await ctx.services.core.mongo.collection('customer_consents').distinct('ip', { customerId: first.customerId });
      expect(ips).to.deep.equal(['198.51.100.0']);

      // What checkout calls (its GuestCustomers port): same record, consents from the order's attestation.
      const viaCheckout = await checkoutGuestCustomers(ctx.services.customers).upsertGuest({ firstName: 'Gail', lastName: 'Guest', email, phone: '2025550111', marketingOptIn: true, source: 'phone' });
      expect(viaCheckout).to.equal(first.customerId);
      expect((await ctx.services.customers.consentsOf(viaCheckout)).marketing_email).to.include({ granted: true, source: 'phone' });

      // A guest's email does not block registering with it.
      await register({ email });
      try {
        await ctx.services.customers.upsertGuest({ firstName: 'G', lastName: 'G', email: 'not-an-email' });
        expect.fail('should reject');
      } catch (error) {
        expect((error as { fields: { path: string }[] }).fields.map((f) => f.path)).to.have.members(['email', 'phone']);
      }
    });
  });

  describe('staff lookup', () => {
    let target: Awaited<ReturnType<typeof register>>;
    const surname = `Numis${suffix()}`;

    before(async () => {
      target = await register({
        firstName: 'Harriet',
        lastName: surname,
        phone: '(303) 555-0123',
        addresses: [{ label: 'Home', address: { line1: '4510 Peachtree Rd', city: 'Atlanta', state: 'GA', postalCode: '30319-1234' } }],
      });
      // Decoys sharing one criterion each.
      await register({ firstName: 'Harold', lastName: `Other${suffix()}` });
    });

    const search = (query: string, token = csrToken) => api(ctx.baseUrl, 'GET', `/api/staff/customers?${query}`, { token });
    const ids = (res: { body: { items: { id: string }[] } }) => res.body.items.map((i) => i.id);

    it('finds a customer by name, email, phone, postal code, street, login name', async () => {
      const criteria: Record<string, string> = {
        name: `harr ${surname.slice(0, 8).toLowerCase()}`,
        email: target.body.email.toUpperCase(),
        phone: '303.555.0123',
        postalCode: '30319',
        line1: '4510 peachtree',
        loginName: target.body.loginName,
      };
      for (const [key, value] of Object.entries(criteria)) {
        const res = await search(`${key}=${encodeURIComponent(value)}`);
        expect(res.status, `${key}: ${JSON.stringify(res.body)}`).to.equal(200);
        expect(ids(res), key).to.deep.equal([target.customer.id]);
      }
      const full = await search(`postalCode=30319-1234&name=${surname}`);
      expect(ids(full)).to.deep.equal([target.customer.id]);
    });

    it('returns minimal summaries only', async () => {
      const res = await search(`name=${surname}`);
      expect(res.body.items[0]).to.deep.equal({
        id: target.customer.id,
        kind: 'registered',
        status: 'active',
        firstName: 'Harriet',
        lastName: surname,
        emailMasked: `j***@example.com`,
        phoneLast4: '0123',
        places: [{ city: 'Atlanta', state: 'GA', postalCode: '30319-1234' }],
      });
      expect(JSON.stringify(res.body)).to.not.include(target.body.email);
      expect(JSON.stringify(res.body)).to.not.include('Peachtree');
    });

    it('finds by order number through the orders service', async () => {
      const orderNumber = generateOrderNumber();
      // A bare order document is enough for the lookup; placing a real order is checkout's test.
      await ctx.services.core.mongo.collection('orders').insertOne({ _id: `ord_${suffix()}` as never, orderNumber, customerId: target.customer.id });
      const res = await search(`orderNumber=${encodeURIComponent(formatOrderNumberForDisplay(orderNumber))}`);
      expect(res.status, JSON.stringify(res.body)).to.equal(200);
      expect(ids(res)).to.deep.equal([target.customer.id]);
      const unknown = await search(`orderNumber=${generateOrderNumber()}`);
      expect(unknown.body).to.deep.include({ items: [], total: 0 });
    });

    it('takes the order lookup as an injected dependency (and finds nobody without one)', async () => {
      const without = createCustomerService({ mongo: ctx.services.core.mongo, clock: () => new Date(), logger: ctx.services.core.logger, appSecret: 'x'.repeat(32), audit: ctx.services.audit, forgetSavedCards: ctx.services.vault.forgetSaved });
      expect((await without.staffSearch(csrPrincipal, { orderNumber: '12345674' })).total).to.equal(0);

      const withOrders = createCustomerService({
        mongo: ctx.services.core.mongo,
        clock: () => new Date(),
        logger: ctx.services.core.logger,
        appSecret: 'x'.repeat(32),
        audit: ctx.services.audit,
        forgetSavedCards: ctx.services.vault.forgetSaved,
        findCustomerIdsByOrderNumber: async (n) => (n === '12345674' ? [target.customer.id] : []),
      });
      const page = await withOrders.staffSearch(csrPrincipal, { orderNumber: '1234-5674' });
      expect(page.items.map((i) => i.id)).to.deep.equal([target.customer.id]);
      expect((await withOrders.staffSearch(csrPrincipal, { orderNumber: '12345674', name: 'nobody' })).total).to.equal(0);
    });

    it('never searches by card number', async () => {
      for (const query of ['name=4111111111111111', 'phone=4111%201111%201111%201111', 'line1=5555-5555-5555-4444', 'card=4111111111111112', 'orderNumber=4111111111111111']) {
        const res = await search(query);
        expect(res.status, query).to.equal(400);
        expect(res.body.error.code, query).to.equal('customers.search_by_card_forbidden');
        expect(JSON.stringify(res.body)).to.not.match(/4111|5555/);
      }
      const denied = await auditEntries('customer.search');
      expect(denied.some((e) => e.outcome === 'denied' && e.actor.id === csrPrincipal.staffUserId)).to.equal(true);
      expect(JSON.stringify(denied)).to.not.match(/4111|5555/);
    });

    it('needs at least one criterion and caps the page size', async () => {
      const none = await search('page=1');
      expect(none.status).to.equal(400);
      expect(none.body.error.code).to.equal('customers.search_criteria_required');
      const big = await search(`name=${surname}&pageSize=51`);
      expect(big.status).to.equal(400);
      expect(big.body.error.fields[0]).to.include({ path: 'pageSize', code: 'too_big' });
      const unknown = await search('ssn=123');
      expect(unknown.body.error.fields[0]).to.include({ path: 'ssn', code: 'unrecognized_key' });
    });

    it('paginates in a stable order', async () => {
      const family = `Pager${suffix()}`;
      for (let i = 0; i < 5; i += 1) await register({ lastName: family, firstName: `Kid${i}` });
      const seen: string[] = [];
      for (const page of [1, 2, 3]) {
        const res = await search(`name=${family}&pageSize=2&page=${page}`);
        expect(res.body).to.include({ total: 5, page, pageSize: 2 });
        expect(res.body.items).to.have.length(page === 3 ? 1 : 2);
        seen.push(...ids(res));
      }
      expect(new Set(seen).size).to.equal(5);
      expect((await search(`name=${family}&pageSize=2&page=4`)).body.items).to.deep.equal([]);
    });

    it('audits every search (criteria and count, not values), read and update', async () => {
      await search(`email=${encodeURIComponent(target.body.email)}&name=Harriet`);
      const searches = await auditEntries('customer.search');
      const mine = searches.find((e) => e.outcome === 'success' && JSON.stringify(e.details?.criteria) === JSON.stringify(['name', 'email']));
      expect(mine, JSON.stringify(searches)).to.not.equal(undefined);
      expect(mine!.details).to.include({ resultCount: 1 });
      expect(mine!.actor).to.include({ type: 'staff', id: csrPrincipal.staffUserId });
      expect(JSON.stringify(searches)).to.not.include(target.body.email);
      expect(JSON.stringify(searches)).to.not.include('Harriet');

      const read = await api(ctx.baseUrl, 'GET', `/api/staff/customers/${target.customer.id}`, { token: csrToken });
      expect(read.status).to.equal(200);
      expect(read.body).to.include({ id: target.customer.id, email: target.body.email, phone: '+13035550123' });
      expect(read.body.consentHistory.map((c: { type: string }) => c.type)).to.include.members(['age_attestation', 'terms']);
      expect(read.body).to.not.have.any.keys('passwordHash', 'securityAnswerHash');
      const reads = await auditEntries('customer.read', target.customer.id);
      expect(reads.filter((e) => e.outcome === 'success')).to.have.length.at.least(1);

      const missing = await api(ctx.baseUrl, 'GET', `/api/staff/customers/${'0'.repeat(8)}-0000-4000-8000-${'0'.repeat(12)}`, { token: csrToken });
      expect(missing.status).to.equal(404);
      expect((await auditEntries('customer.read', `${'0'.repeat(8)}-0000-4000-8000-${'0'.repeat(12)}`))[0]).to.include({ outcome: 'failure' });
    });

    it('lets staff update contact details and consents on a caller’s behalf, recorded as phone and audited', async () => {
      const { customer, token } = await register({ emailTopics: { coins_online: true } });
      const res = await api(ctx.baseUrl, 'PATCH', `/api/staff/customers/${customer.id}`, {
        token: csrToken,
        body: { phone: '+1 415 555 0100', lastName: 'Changed', consents: [{ type: 'marketing_email', granted: false }], addresses: { add: [{ label: 'Work', address: { line1: '1 Market St', city: 'San Francisco', state: 'CA', postalCode: '94105' } }] } },
      });
      expect(res.status, JSON.stringify(res.body)).to.equal(200);
      expect(res.body).to.include({ phone: '+14155550100', lastName: 'Changed' });
      expect(res.body.consents.marketing_email).to.include({ granted: false, source: 'phone' });
      expect(res.body.emailTopics.coins_online).to.equal(false);
      const record = await ctx.services.core.mongo.collection('customer_consents').findOne({ customerId: customer.id, source: 'phone' });
      expect(record).to.include({ ip: null, recordedBy: `staff:${csrPrincipal.username}` });
      const updates = await auditEntries('customer.update', customer.id);
      expect(updates[0]).to.include({ outcome: 'success' });
      expect(updates[0]!.details).to.deep.include({ source: 'phone' });
      expect(updates[0]!.details!.fields).to.have.members(['phone', 'lastName', 'consents', 'addresses']);
      expect(JSON.stringify(updates)).to.not.include('4155550100');
      // The customer sees the change.
      expect((await api(ctx.baseUrl, 'GET', '/api/customers/me', { token })).body.lastName).to.equal('Changed');

      const bad = await api(ctx.baseUrl, 'PATCH', `/api/staff/customers/${customer.id}`, { token: csrToken, body: { passwordHash: 'x' } });
      expect(bad.status).to.equal(400);
    });

    it('is closed to roles without customers:read/write and to anonymous callers', async () => {
      expect((await search(`name=${surname}`, fraudToken)).status).to.equal(403);
      expect((await api(ctx.baseUrl, 'GET', `/api/staff/customers/${target.customer.id}`, { token: fraudToken })).status).to.equal(403);
      expect((await api(ctx.baseUrl, 'PATCH', `/api/staff/customers/${target.customer.id}`, { token: fraudToken, body: { firstName: 'X' } })).status).to.equal(403);
      expect((await api(ctx.baseUrl, 'GET', `/api/staff/customers?name=${surname}`)).status).to.equal(401);
    });

    it('registers its staff routes for the permission matrix', () => {
      const app = ctx.runtime.createHttpApp();
      const routes = (app.locals.staffRoutes as { method: string; path: string; permission: string }[]).filter((r) => r.path.startsWith('/api/staff/customers'));
      expect(routes).to.deep.include.members([
        { method: 'get', path: '/api/staff/customers/', permission: 'customers:read' },
        { method: 'get', path: '/api/staff/customers/:customerId', permission: 'customers:read' },
        { method: 'patch', path: '/api/staff/customers/:customerId', permission: 'customers:write' },
      ]);
    });
  });
});

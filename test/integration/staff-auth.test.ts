import { createHash } from 'node:crypto';
import { expect } from 'chai';
import type { DomainEventData } from '../../platform/events.ts';
import { api } from '../support/http.ts';
import { createTestContext, type TestContext } from '../support/infra.ts';
import { createStaffUser, freshTotpCode, HOUR, loginStaff, MINUTE, movableClock, totpCode, type TestStaffUser } from '../support/staff-sessions.ts';

const login = (ctx: TestContext, body: Record<string, unknown>) => api(ctx.baseUrl, 'POST', '/api/staff/login', { body });
const me = (ctx: TestContext, token: string) => api(ctx.baseUrl, 'GET', '/api/staff/me', { token });
const revocations = async (ctx: TestContext) =>
  (await ctx.services.core.events.readSince('0')).filter((e) => e.type === 'staff.access_revoked').map((e) => e.data as DomainEventData<'staff.access_revoked'>);

describe('staff authentication', function () {
  this.timeout(180_000);

  describe('sessions', () => {
    let ctx: TestContext;
    const time = movableClock();
    before(async () => {
      ctx = await createTestContext({ clock: time.clock });
    });
    after(async () => ctx?.close());

    it('logs in, answers /me with the role and its permissions, and logs out', async () => {
      const csr = await createStaffUser(ctx, 'csr');
      const response = await login(ctx, { username: csr.username.toUpperCase(), password: csr.password });
      expect(response.status, JSON.stringify(response.body)).to.equal(200);
      expect(response.headers.get('cache-control')).to.equal('no-store');
      const { token } = response.body;
      expect(token).to.match(/^[A-Za-z0-9_-]{43}$/);
      expect(response.body.user).to.include({ id: csr.id, username: csr.username, role: 'csr', status: 'active' });
      expect(response.body.user).to.not.have.property('passwordHash');
      expect(new Date(response.body.expiresAt).getTime()).to.equal(time.now() + 12 * HOUR);

      const mine = await me(ctx, token);
      expect(mine.status).to.equal(200);
      expect(mine.body.user.role).to.equal('csr');
      expect(mine.body.permissions).to.include('orders:read').and.not.include('staff:manage');
      expect(mine.body.session.idleTimeoutMinutes).to.equal(15);

      expect((await api(ctx.baseUrl, 'POST', '/api/staff/logout', { token })).status).to.equal(204);
      const after = await me(ctx, token);
      expect(after.status).to.equal(401);
      expect(after.body.error.code).to.equal('staff.session_invalid');
    });

    it('stores only a hash of the session token', async () => {
      const csr = await createStaffUser(ctx, 'csr');
      const token = await loginStaff(ctx, csr, time.now());
      const sessions = ctx.services.core.mongo.collection('staff_sessions');
      const stored = await sessions.findOne({ tokenHash: createHash('sha256').update(token).digest('hex') });
      expect(stored).to.not.equal(null);
      expect(JSON.stringify(await sessions.find({}).toArray())).to.not.include(token);
    });

    it('refuses requests without a token, with a malformed token and with an unknown one', async () => {
      expect((await api(ctx.baseUrl, 'GET', '/api/staff/me')).body.error.code).to.equal('staff.unauthenticated');
      expect((await me(ctx, 'not-a-token')).status).to.equal(401);
      expect((await me(ctx, 'A'.repeat(43))).status).to.equal(401);
    });

    it('ends a session after 15 idle minutes, counted from its last use', async () => {
      const csr = await createStaffUser(ctx, 'csr');
      const token = await loginStaff(ctx, csr, time.now());
      time.advance(14 * MINUTE);
      expect((await me(ctx, token)).status).to.equal(200);
      time.advance(14 * MINUTE);
      expect((await me(ctx, token)).status, 'used 14 minutes ago').to.equal(200);
      time.advance(15 * MINUTE);
      expect((await me(ctx, token)).status, 'idle for 15 minutes').to.equal(401);
      time.advance(-10 * MINUTE);
      expect((await me(ctx, token)).status, 'an idle-expired session does not come back').to.equal(401);
    });

    it('ends a session after 12 hours however busy it is', async () => {
      const csr = await createStaffUser(ctx, 'csr');
      const started = time.now();
      const token = await loginStaff(ctx, csr, started);
      for (let elapsed = 10 * MINUTE; elapsed < 12 * HOUR; elapsed += 10 * MINUTE) {
        time.set(started + elapsed);
        const response = await me(ctx, token);
        expect(response.status, `after ${elapsed / MINUTE} minutes`).to.equal(200);
      }
      time.set(started + 12 * HOUR);
      expect((await me(ctx, token)).status).to.equal(401);
    });

    it('writes lastSeenAt at most once a minute', async () => {
      const csr = await createStaffUser(ctx, 'csr');
      const token = await loginStaff(ctx, csr, time.now());
      const sessions = ctx.services.core.mongo.collection('staff_sessions');
      const tokenHash = createHash('sha256').update(token).digest('hex');
      const loggedInAt = (await sessions.findOne({ tokenHash }))!.lastSeenAt as Date;
      time.advance(30_000);
      await me(ctx, token);
      expect(((await sessions.findOne({ tokenHash }))!.lastSeenAt as Date).getTime()).to.equal(loggedInAt.getTime());
      time.advance(31_000);
      await me(ctx, token);
      expect(((await sessions.findOne({ tokenHash }))!.lastSeenAt as Date).getTime()).to.equal(time.now());
    });
  });

  describe('lockout (default threshold 6, 30 minutes)', () => {
    let ctx: TestContext;
    const time = movableClock();
    before(async () => {
      ctx = await createTestContext({ clock: time.clock });
    });
    after(async () => ctx?.close());

    it('locks after 6 consecutive failures, refuses even the right password for 30 minutes, then lets in', async () => {
      const user = await createStaffUser(ctx, 'supervisor');
      for (let i = 1; i <= 6; i += 1) {
        const response = await login(ctx, { username: user.username, password: 'wrong password!' });
        expect(response.status, `failure ${i}`).to.equal(401);
        expect(response.body.error.code).to.equal('staff.invalid_credentials');
      }
      const locked = await login(ctx, { username: user.username, password: user.password });
      expect(locked.status).to.equal(429);
      expect(locked.body.error.code).to.equal('staff.locked');
      expect(Number(locked.headers.get('retry-after'))).to.be.within(29 * 60, 30 * 60);

      const stored = await ctx.services.staff.getUser(user.id);
      expect(stored.lockedUntil).to.equal(new Date(time.now() + 30 * MINUTE).toISOString());

      time.advance(29 * MINUTE);
      expect((await login(ctx, { username: user.username, password: user.password })).body.error.code).to.equal('staff.locked');
      time.advance(61_000);
      const unlocked = await login(ctx, { username: user.username, password: user.password });
      expect(unlocked.status, JSON.stringify(unlocked.body)).to.equal(200);
      expect((await ctx.services.staff.getUser(user.id)).lockedUntil).to.equal(null);
    });

    it('audits the lockout', async () => {
      const user = await createStaffUser(ctx, 'csr');
      for (let i = 0; i < 6; i += 1) await login(ctx, { username: user.username, password: 'wrong password!' });
      const page = await ctx.services.audit.query({ action: 'staff.lockout', resourceId: user.id, page: 1, pageSize: 10 });
      expect(page.entries).to.have.length(1);
      expect(page.entries[0]).to.deep.include({ outcome: 'success', resource: { type: 'staff_user', id: user.id } });
      expect(page.entries[0]!.actor).to.include({ type: 'staff', id: user.id, username: user.username });
      expect(page.entries[0]!.details).to.include({ consecutiveFailures: 6, lockoutMinutes: 30 });
      const denied = await login(ctx, { username: user.username, password: user.password });
      expect(denied.body.error.code).to.equal('staff.locked');
      const deniedEntries = await ctx.services.audit.query({ action: 'staff.login', outcome: 'denied', resourceId: user.id, page: 1, pageSize: 10 });
      expect(deniedEntries.entries[0]!.details).to.deep.equal({ reason: 'locked' });
    });

    it('counts consecutive failures only: a success resets the counter', async () => {
      const user = await createStaffUser(ctx, 'csr');
      for (let round = 0; round < 2; round += 1) {
        for (let i = 0; i < 5; i += 1) expect((await login(ctx, { username: user.username, password: 'nope nope nope' })).status).to.equal(401);
        expect((await login(ctx, { username: user.username, password: user.password })).status, `round ${round}`).to.equal(200);
      }
    });

    it('cannot be outrun by parallel guesses', async () => {
      const user = await createStaffUser(ctx, 'csr');
      const results = await Promise.all(Array.from({ length: 12 }, () => login(ctx, { username: user.username, password: 'parallel guess' })));
      const codes = results.map((r) => r.body.error.code);
      expect(codes.filter((c) => c === 'staff.invalid_credentials')).to.have.length(6);
      expect(codes.filter((c) => c === 'staff.locked')).to.have.length(6);
      expect((await login(ctx, { username: user.username, password: user.password })).body.error.code).to.equal('staff.locked');
    });

    it('lets an administrator lift a lock by reactivating the account', async () => {
      const user = await createStaffUser(ctx, 'csr');
      for (let i = 0; i < 6; i += 1) await login(ctx, { username: user.username, password: 'wrong password!' });
      await ctx.services.staff.reactivate(user.id, { type: 'system', component: 'test' });
      expect((await login(ctx, { username: user.username, password: user.password })).status).to.equal(200);
    });
  });

  describe('lockout with LOGIN_LOCKOUT_THRESHOLD=3', () => {
    let ctx: TestContext;
    const time = movableClock();
    before(async () => {
      ctx = await createTestContext({ clock: time.clock, env: { LOGIN_LOCKOUT_THRESHOLD: '3', LOGIN_LOCKOUT_MINUTES: '10' } });
    });
    after(async () => ctx?.close());

    it('locks after the configured number of failures for the configured time', async () => {
      const user = await createStaffUser(ctx, 'csr');
      for (let i = 0; i < 3; i += 1) expect((await login(ctx, { username: user.username, password: 'wrong password!' })).body.error.code).to.equal('staff.invalid_credentials');
      expect((await login(ctx, { username: user.username, password: user.password })).body.error.code).to.equal('staff.locked');
      time.advance(10 * MINUTE + 1000);
      expect((await login(ctx, { username: user.username, password: user.password })).status).to.equal(200);
    });
  });

  describe('second factor', () => {
    let ctx: TestContext;
    const time = movableClock();
    before(async () => {
      ctx = await createTestContext({ clock: time.clock });
    });
    after(async () => ctx?.close());

    for (const role of ['admin', 'auditor'] as const) {
      it(`requires a valid, unused TOTP code from ${role}s`, async () => {
        time.advance(5 * MINUTE);
        const user = await createStaffUser(ctx, role);
        expect(user.totpUri).to.match(/^otpauth:\/\/totp\/mintdesk:.+\?.*secret=/);
        const noCode = await login(ctx, { username: user.username, password: user.password });
        expect(noCode.status).to.equal(401);
        expect(noCode.body.error.code).to.equal('staff.totp_required');
        const wrongCode = await login(ctx, { username: user.username, password: user.password, totpCode: totpCode(user.totpUri!, time.now(), 5) });
        expect(wrongCode.body.error.code).to.equal('staff.totp_invalid');
        const wrongPassword = await login(ctx, { username: user.username, password: 'wrong password!', totpCode: totpCode(user.totpUri!, time.now()) });
        expect(wrongPassword.body.error.code).to.equal('staff.invalid_credentials');

        const code = totpCode(user.totpUri!, time.now());
        const ok = await login(ctx, { username: user.username, password: user.password, totpCode: code });
        expect(ok.status, JSON.stringify(ok.body)).to.equal(200);
        const replay = await login(ctx, { username: user.username, password: user.password, totpCode: code });
        expect(replay.body.error.code, 'a code is good once').to.equal('staff.totp_invalid');
        const older = await login(ctx, { username: user.username, password: user.password, totpCode: totpCode(user.totpUri!, time.now(), -1) });
        expect(older.body.error.code, 'an older step after a newer one').to.equal('staff.totp_invalid');
        const next = await login(ctx, { username: user.username, password: user.password, totpCode: totpCode(user.totpUri!, time.now(), 1) });
        expect(next.status, 'one step of drift is accepted').to.equal(200);
        const tooFar = await login(ctx, { username: user.username, password: user.password, totpCode: totpCode(user.totpUri!, time.now(), 3) });
        expect(tooFar.body.error.code).to.equal('staff.totp_invalid');
      });
    }

    it('does not ask other roles for a code', async () => {
      const csr = await createStaffUser(ctx, 'csr');
      expect(csr.totpUri).to.equal(undefined);
      expect((await login(ctx, { username: csr.username, password: csr.password })).status).to.equal(200);
    });

    it('stores the TOTP secret encrypted', async () => {
      const admin = await createStaffUser(ctx, 'admin');
      const secret = new URL(admin.totpUri!).searchParams.get('secret')!;
      const stored = await ctx.services.core.mongo.collection('staff_users').findOne({ username: admin.username });
      expect(stored!.totpSecretSealed).to.be.a('string').and.match(/^v1:/);
      expect(JSON.stringify(stored)).to.not.include(secret);
      // Sealed to its user: copying it onto another account does not work.
      const other = await createStaffUser(ctx, 'admin');
      await ctx.services.core.mongo.collection('staff_users').updateOne({ username: other.username }, { $set: { totpSecretSealed: stored!.totpSecretSealed } });
      time.advance(2 * MINUTE);
      const response = await login(ctx, { username: other.username, password: other.password, totpCode: totpCode(admin.totpUri!, time.now()) });
      expect(response.status).to.equal(401);
      expect(response.body.error.code).to.equal('staff.totp_not_enrolled');
    });

    it('keeps an admin without an enrolled secret out until an administrator enrols one', async () => {
      const boss = await createStaffUser(ctx, 'admin');
      const admin = await createStaffUser(ctx, 'admin');
      await ctx.services.core.mongo.collection('staff_users').updateOne({ username: admin.username }, { $set: { totpSecretSealed: null } });
      const refused = await login(ctx, { username: admin.username, password: admin.password });
      expect(refused.status).to.equal(401);
      expect(refused.body.error.code).to.equal('staff.totp_not_enrolled');

      time.advance(2 * MINUTE);
      const bossToken = await loginStaff(ctx, boss, time.now());
      const reset = await api(ctx.baseUrl, 'POST', `/api/staff/users/${admin.id}/totp/reset`, { token: bossToken, body: {} });
      expect(reset.status, JSON.stringify(reset.body)).to.equal(200);
      expect(reset.body.totpUri).to.match(/^otpauth:\/\/totp\//);
      const enrolled: TestStaffUser = { ...admin, totpUri: reset.body.totpUri };
      expect((await login(ctx, { username: admin.username, password: admin.password, totpCode: freshTotpCode(enrolled, time.now()) })).status).to.equal(200);
    });

    it('enrols a second factor when a user is promoted to a role that needs one', async () => {
      const boss = await createStaffUser(ctx, 'admin');
      const csr = await createStaffUser(ctx, 'csr');
      time.advance(2 * MINUTE);
      const bossToken = await loginStaff(ctx, boss, time.now());
      const promoted = await api(ctx.baseUrl, 'POST', `/api/staff/users/${csr.id}/role`, { token: bossToken, body: { role: 'auditor' } });
      expect(promoted.status, JSON.stringify(promoted.body)).to.equal(200);
      expect(promoted.body.user.role).to.equal('auditor');
      expect(promoted.body.totpUri).to.match(/^otpauth:/);
      expect((await login(ctx, { username: csr.username, password: csr.password })).body.error.code).to.equal('staff.totp_required');
    });
  });

  describe('administration and suspension', () => {
    let ctx: TestContext;
    let admin: TestStaffUser;
    let adminToken: string;
    before(async () => {
      ctx = await createTestContext();
      admin = await createStaffUser(ctx, 'admin');
      adminToken = await loginStaff(ctx, admin);
    });
    after(async () => ctx?.close());

    it('ends every open session of a suspended user at once and tells the console', async () => {
      const csr = await createStaffUser(ctx, 'csr');
      const tokens = [await loginStaff(ctx, csr), await loginStaff(ctx, csr)];
      for (const token of tokens) expect((await me(ctx, token)).status).to.equal(200);

      const suspended = await api(ctx.baseUrl, 'POST', `/api/staff/users/${csr.id}/suspend`, { token: adminToken, body: { reason: 'left_company' } });
      expect(suspended.status, JSON.stringify(suspended.body)).to.equal(200);
      expect(suspended.body.user.status).to.equal('suspended');
      for (const token of tokens) expect((await me(ctx, token)).status).to.equal(401);
      const csrDoc = await ctx.services.core.mongo.collection('staff_users').findOne({ username: csr.username });
      expect(await ctx.services.core.mongo.collection('staff_sessions').countDocuments({ staffUserId: csrDoc!._id, revokedAt: null })).to.equal(0);
      expect((await me(ctx, adminToken)).status, "other users' sessions are untouched").to.equal(200);

      expect(await revocations(ctx)).to.deep.include({ staffUserId: csr.id, reason: 'left_company' });

      const relogin = await login(ctx, { username: csr.username, password: csr.password });
      expect(relogin.status).to.equal(401);
      expect(relogin.body.error.code, 'a suspended account looks like a wrong password').to.equal('staff.invalid_credentials');

      const audited = await ctx.services.audit.query({ action: 'staff.suspend', resourceId: csr.id, page: 1, pageSize: 5 });
      expect(audited.entries[0]!.details).to.deep.equal({ reason: 'left_company', sessionsEnded: 2 });

      expect((await api(ctx.baseUrl, 'POST', `/api/staff/users/${csr.id}/reactivate`, { token: adminToken, body: {} })).status).to.equal(200);
      expect((await login(ctx, { username: csr.username, password: csr.password })).status).to.equal(200);
    });

    it('applies a role change to open sessions at once', async () => {
      const csr = await createStaffUser(ctx, 'csr');
      const token = await loginStaff(ctx, csr);
      expect((await api(ctx.baseUrl, 'GET', '/api/staff/users', { token })).status).to.equal(403);
      const changed = await api(ctx.baseUrl, 'POST', `/api/staff/users/${csr.id}/role`, { token: adminToken, body: { role: 'supervisor' } });
      expect(changed.status).to.equal(200);
      expect((await me(ctx, token)).body.user.role).to.equal('supervisor');
      const audited = await ctx.services.audit.query({ action: 'staff.role_change', resourceId: csr.id, page: 1, pageSize: 5 });
      expect(audited.entries[0]!.details).to.deep.include({ from: 'csr', to: 'supervisor' });
      expect(await revocations(ctx)).to.deep.include({ staffUserId: csr.id, reason: 'role_changed' });
    });

    it('creates users over the API, refuses duplicates and never lists secrets', async () => {
      const body = { username: `Auditor-${Date.now()}`, displayName: 'New Auditor', email: 'auditor@staff.example.com', role: 'auditor', password: 'a long enough password' };
      const created = await api(ctx.baseUrl, 'POST', '/api/staff/users', { token: adminToken, body });
      expect(created.status, JSON.stringify(created.body)).to.equal(201);
      expect(created.body.user.username).to.equal(body.username.toLowerCase());
      expect(created.body.totpUri).to.match(/^otpauth:/);
      expect((await api(ctx.baseUrl, 'POST', '/api/staff/users', { token: adminToken, body })).body.error.code).to.equal('staff.username_taken');
      const weak = await api(ctx.baseUrl, 'POST', '/api/staff/users', { token: adminToken, body: { ...body, username: 'other-user', password: 'short' } });
      expect(weak.status).to.equal(400);
      expect(weak.body.error.fields[0].path).to.equal('password');
      const list = await api(ctx.baseUrl, 'GET', '/api/staff/users', { token: adminToken });
      expect(list.body.users.map((u: { username: string }) => u.username)).to.include(body.username.toLowerCase());
      expect(JSON.stringify(list.body)).to.not.match(/passwordHash|totpSecret|scrypt/);
    });

    it('refuses to let an administrator suspend themselves or demote the last administrator', async () => {
      const self = await api(ctx.baseUrl, 'POST', `/api/staff/users/${admin.id}/suspend`, { token: adminToken, body: {} });
      expect(self.status).to.equal(422);
      expect(self.body.error.code).to.equal('staff.cannot_suspend_self');
      await expectRejects(ctx.services.staff.changeRole(admin.id, 'csr', { type: 'system', component: 'test' }), 'staff.last_admin');
    });

    it('lets staff change their own password, ending their other sessions', async () => {
      const csr = await createStaffUser(ctx, 'csr');
      const [current, other] = [await loginStaff(ctx, csr), await loginStaff(ctx, csr)];
      const wrong = await api(ctx.baseUrl, 'POST', '/api/staff/me/password', { token: current, body: { currentPassword: 'not it at all', newPassword: 'brand new password 1' } });
      expect(wrong.status).to.equal(401);
      const ok = await api(ctx.baseUrl, 'POST', '/api/staff/me/password', { token: current, body: { currentPassword: csr.password, newPassword: 'brand new password 1' } });
      expect(ok.status, JSON.stringify(ok.body)).to.equal(204);
      expect((await me(ctx, current)).status).to.equal(200);
      expect((await me(ctx, other)).status).to.equal(401);
      expect((await login(ctx, { username: csr.username, password: 'brand new password 1' })).status).to.equal(200);
      expect((await login(ctx, { username: csr.username, password: csr.password })).status).to.equal(401);
    });
  });

  describe('no user enumeration', () => {
    let ctx: TestContext;
    before(async () => {
      ctx = await createTestContext({ env: { LOGIN_LOCKOUT_THRESHOLD: '10' } });
    });
    after(async () => ctx?.close());

    it('answers an unknown username exactly like a wrong password, in similar time', async () => {
      const user = await createStaffUser(ctx, 'csr');
      // Warm up both paths (the dummy hash for unknown names is made on first use).
      await login(ctx, { username: 'nobody-warmup', password: 'whatever it is' });
      await login(ctx, { username: user.username, password: 'whatever it is' });
      const timed = async (body: Record<string, unknown>) => {
        const started = performance.now();
        const response = await login(ctx, body);
        return { response, ms: performance.now() - started };
      };
      const known: number[] = [];
      const unknown: number[] = [];
      for (let i = 0; i < 7; i += 1) {
        const a = await timed({ username: user.username, password: `wrong password ${i}` });
        const b = await timed({ username: `ghost-${i}-nobody`, password: `wrong password ${i}` });
        expect(b.response.status).to.equal(a.response.status).and.equal(401);
        expect(b.response.body.error.code).to.equal(a.response.body.error.code);
        expect(b.response.body.error.message).to.equal(a.response.body.error.message);
        known.push(a.ms);
        unknown.push(b.ms);
      }
      const median = (xs: number[]) => [...xs].sort((x, y) => x - y)[3]!;
      const ratio = median(unknown) / median(known);
      expect(ratio, `median unknown ${median(unknown).toFixed(0)} ms vs known ${median(known).toFixed(0)} ms`).to.be.within(0.5, 2);
    });

    it('locks unknown usernames like real ones', async () => {
      const ghost = 'no-such-staff-member';
      for (let i = 0; i < 10; i += 1) expect((await login(ctx, { username: ghost, password: 'wrong password!' })).body.error.code).to.equal('staff.invalid_credentials');
      const response = await login(ctx, { username: ghost, password: 'wrong password!' });
      expect(response.status).to.equal(429);
      expect(response.body.error.code).to.equal('staff.locked');
    });

    it('validates the logon body without naming the user', async () => {
      const response = await login(ctx, { username: 'someone' });
      expect(response.status).to.equal(400);
      expect(response.body.error.fields.map((f: { path: string }) => f.path)).to.deep.equal(['password']);
    });
  });
});

async function expectRejects(promise: Promise<unknown>, code: string) {
  try {
    await promise;
  } catch (error) {
    expect((error as { code?: string }).code).to.equal(code);
    return;
  }
  expect.fail(`expected a rejection with ${code}`);
}

import { createHash, createHmac, randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import { Types, type Connection } from 'mongoose';
import type { Clock } from '../../platform/clock.ts';
import type { Config } from '../../platform/config.ts';
import {
  AuthenticationError,
  BusinessRuleError,
  ConflictError,
  NotFoundError,
  parseOrThrow,
  RateLimitedError,
  ServiceUnavailableError,
} from '../../platform/errors.ts';
import type { EventBus } from '../../platform/events.ts';
import type { Logger } from '../../platform/logger.ts';
import type { AuditService } from '../audit/service.ts';
import { actorLabel, type Principal } from '../http/principal.ts';
import { staffUserModel, staffSessionModel, type StaffUserDoc } from './model.ts';
import { DEFAULT_SCRYPT_PARAMS, hashPassword, needsRehash, verifyPassword, type ScryptParams } from './password.ts';
import { permissionsOf, ROLES_REQUIRING_TOTP, type Permission, type StaffRole } from './permissions.ts';
import {
  changeOwnPasswordSchema,
  createStaffUserSchema,
  loginSchema,
  passwordSchema,
  staffRoleSchema,
  staffUserIdSchema,
  SUSPENSION_REASONS,
  type CreatedStaffUser,
  type LoginResult,
  type StaffUserView,
} from './schema.ts';
import { createTotpSealer, generateTotpSecret, matchTotp, totpUri } from './totp.ts';

/**
 * Staff accounts and sessions (PIA F: unique user IDs, authentication, password management,
 * immediate removal of access on suspension, least privilege through roles).
 *
 * Where state lives, and why (FerretDB has no transactions and its single-document updates are
 * not atomic under concurrency):
 * - The failed-logon counter is a Redis counter incremented atomically *before* the password is
 *   checked, so parallel guesses cannot overshoot the threshold. The lock itself is written to
 *   Redis and to the user record (durable; survives a Redis flush). Counters are keyed by an HMAC
 *   of the submitted username, so unknown usernames lock exactly like real ones (no enumeration).
 *   Logons need Redis: without it they fail closed with `staff.login_unavailable`.
 * - The user record is the authority on status and role and is read on every authenticated
 *   request, so a suspension or role change takes effect on the next request. Security-relevant
 *   admin writes are read back and re-applied if a concurrent write overwrote them.
 * - Sessions store only sha256(token). `lastSeenAt` is written at most once a minute, so the idle
 *   timeout is measured to within a minute (a session may end up to a minute early, never late).
 */

export interface StaffServiceDeps {
  mongo: Connection;
  redis: Redis;
  redisPrefix: string;
  clock: Clock;
  logger: Logger;
  settings: Config['staff'];
  /** core.secrets.appSecret: seals TOTP secrets and keys the logon counters. */
  appSecret: string;
  events: Pick<EventBus, 'publish'>;
  audit: Pick<AuditService, 'record'>;
  /** scrypt cost for new hashes; tests of other domains may lower it. */
  passwordParams?: ScryptParams;
}

export type StaffPrincipal = Extract<Principal, { type: 'staff' }>;

export interface LoginContext {
  ip?: string | undefined;
}

export interface MeView {
  user: StaffUserView;
  permissions: Permission[];
  session: { id: string; createdAt: string; expiresAt: string; idleTimeoutMinutes: number };
}

export interface StaffService {
  login(input: unknown, context?: LoginContext): Promise<LoginResult>;
  /** For the staff guard: the principal of a live session of an active user, else undefined. */
  /** `touch: false` checks without counting as activity (the console re-checking an idle socket). */
  authenticate(token: string, req?: { ip?: string | undefined; touch?: boolean }): Promise<Principal | undefined>;
  logout(principal: StaffPrincipal): Promise<void>;
  me(principal: StaffPrincipal): Promise<MeView>;
  changeOwnPassword(principal: StaffPrincipal, input: unknown): Promise<void>;

  createUser(input: unknown, actor: Principal): Promise<CreatedStaffUser>;
  listUsers(): Promise<StaffUserView[]>;
  getUser(staffUserId: string): Promise<StaffUserView>;
  /** Returns a TOTP URI when the new role needs a second factor the user has not enrolled. */
  changeRole(staffUserId: string, role: StaffRole, actor: Principal): Promise<CreatedStaffUser>;
  /** Ends every open session now and tells the console to drop the user's sockets. */
  suspend(staffUserId: string, reason: (typeof SUSPENSION_REASONS)[number], actor: Principal): Promise<StaffUserView>;
  /** Re-enables a suspended account and clears any logon lock. */
  reactivate(staffUserId: string, actor: Principal): Promise<StaffUserView>;
  resetTotp(staffUserId: string, actor: Principal): Promise<Required<CreatedStaffUser>>;
  revokeSessions(staffUserId: string, actor: Principal): Promise<{ revoked: number }>;
  /** Admin-set password (e.g. a forgotten one); ends the user's sessions. */
  setPassword(staffUserId: string, password: string, actor: Principal): Promise<StaffUserView>;
  /** Deletes session records that ended more than `olderThanDays` ago (no TTL indexes on FerretDB). */
  pruneSessions(olderThanDays?: number): Promise<number>;
}

const TOKEN_PATTERN = /^[A-Za-z0-9_-]{43}$/;
const LAST_SEEN_GRANULARITY_MS = 60_000;
/** Consecutive failures are counted while they are less than a day apart. */
const FAILURE_COUNTER_TTL_MS = 24 * 60 * 60 * 1000;
const TOTP_REPLAY_TTL_MS = 10 * 60 * 1000;

// Takes one logon attempt: refuses while locked (the lock value is the app clock's locked-until
// time, so a test clock can move past it) and counts the attempt before the password is checked.
const RESERVE_ATTEMPT = `
local now = tonumber(ARGV[1])
local lock = tonumber(redis.call('GET', KEYS[2]) or '0')
if lock > now then return { 0, lock } end
if lock > 0 then redis.call('DEL', KEYS[1], KEYS[2]) end
local n = redis.call('INCR', KEYS[1])
redis.call('PEXPIRE', KEYS[1], ARGV[3])
if n > tonumber(ARGV[2]) then return { 0, 0 } end
return { n, 0 }`;

// A TOTP code is good once: its time step must be newer than the last one used (RFC 6238 §5.2).
const CLAIM_TOTP_STEP = `
local last = tonumber(redis.call('GET', KEYS[1]) or '-1')
if tonumber(ARGV[1]) <= last then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return 1`;

type FailureReason = 'unknown_user' | 'bad_password' | 'suspended' | 'totp_required' | 'totp_invalid' | 'totp_replayed' | 'totp_not_enrolled';

const sha256 = (value: string) => createHash('sha256').update(value).digest('hex');
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export function toStaffUserView(user: StaffUserDoc): StaffUserView {
  return {
    id: user._id.toHexString(),
    username: user.username,
    displayName: user.displayName,
    email: user.email,
    role: user.role as StaffRole,
    status: user.status as StaffUserView['status'],
    totpEnrolled: Boolean(user.totpSecretSealed),
    lockedUntil: user.lockedUntil ? user.lockedUntil.toISOString() : null,
    createdAt: user.createdAt.toISOString(),
    createdBy: user.createdBy,
    suspendedAt: user.suspendedAt ? user.suspendedAt.toISOString() : null,
  };
}

function invalidCredentials() {
  return new AuthenticationError('staff.invalid_credentials', 'Wrong username or password.');
}

function errorFor(reason: FailureReason) {
  switch (reason) {
    case 'totp_required':
      return new AuthenticationError('staff.totp_required', 'Enter the 6-digit code from your authenticator app.');
    case 'totp_invalid':
    case 'totp_replayed':
      return new AuthenticationError('staff.totp_invalid', 'That code is not valid; wait for the next code and try again.');
    case 'totp_not_enrolled':
      return new AuthenticationError('staff.totp_not_enrolled', 'Your role needs a second factor; ask an administrator to enrol an authenticator for you.');
    default:
      // Unknown user, wrong password and suspended account look the same from outside.
      return invalidCredentials();
  }
}

export function createStaffService(deps: StaffServiceDeps): StaffService {
  const { clock, logger, settings, redis, audit, events } = deps;
  const Users = staffUserModel(deps.mongo);
  const Sessions = staffSessionModel(deps.mongo);
  const sealer = createTotpSealer(deps.appSecret);
  const passwordParams = deps.passwordParams ?? DEFAULT_SCRYPT_PARAMS;
  const counterKey = createHmac('sha256', deps.appSecret).update('staff-logon-counter-v1').digest();
  const idleMs = settings.idleTimeoutMinutes * 60_000;
  const lifetimeMs = settings.maxSessionHours * 3_600_000;
  const lockMs = settings.lockoutMinutes * 60_000;

  let indexes: Promise<unknown> | undefined;
  const ready = () =>
    (indexes ??= Promise.all([Users.init(), Sessions.init()]).catch((error: unknown) => {
      indexes = undefined;
      throw error;
    }));

  // Unknown usernames are checked against this hash so they cost the same scrypt work as real ones.
  let dummyHash: Promise<string> | undefined;
  const dummy = () => (dummyHash ??= hashPassword(randomBytes(16).toString('hex'), passwordParams));

  const subjectOf = (username: string) => createHmac('sha256', counterKey).update(username).digest('hex').slice(0, 32);
  const keys = (username: string) => {
    const subject = subjectOf(username);
    return { failures: `${deps.redisPrefix}:staff:logon:fail:${subject}`, lock: `${deps.redisPrefix}:staff:logon:lock:${subject}` };
  };
  const totpKey = (staffUserId: string) => `${deps.redisPrefix}:staff:totp-step:${staffUserId}`;

  const principalOf = (user: StaffUserDoc, sessionId: string, ip: string | undefined): StaffPrincipal => ({
    type: 'staff',
    staffUserId: user._id.toHexString(),
    username: user.username,
    role: user.role as StaffRole,
    sessionId,
    ip,
  });
  const loginActor = (user: StaffUserDoc | null, ip: string | undefined): Principal =>
    user ? principalOf(user, '', ip) : { type: 'system', component: 'staff-login' };
  const userResource = (user: StaffUserDoc | null) => (user ? { type: 'staff_user', id: user._id.toHexString() } : { type: 'staff_user' });
  const requiresTotp = (user: StaffUserDoc) => ROLES_REQUIRING_TOTP.includes(user.role as StaffRole) || Boolean(user.totpSecretSealed);

  async function loadUser(staffUserId: string): Promise<StaffUserDoc> {
    if (!staffUserIdSchema.safeParse(staffUserId).success) throw new NotFoundError('staff_user');
    const user = await Users.findById(staffUserId).lean<StaffUserDoc>();
    if (!user) throw new NotFoundError('staff_user');
    return user;
  }

  /**
   * Writes fields of one user and reads them back: on FerretDB a concurrent update of the same
   * document (a logon resetting its counter) can overwrite this one, and a suspension that silently
   * does not stick is exactly what must not happen.
   */
  async function setUserFields(staffUserId: Types.ObjectId, fields: Partial<StaffUserDoc>): Promise<StaffUserDoc> {
    for (let attempt = 0; attempt < 5; attempt += 1) {
      await Users.updateOne({ _id: staffUserId }, { $set: fields });
      await sleep(attempt === 0 ? 15 : 50);
      const current = await Users.findById(staffUserId).lean<StaffUserDoc>();
      if (!current) throw new NotFoundError('staff_user');
      const stuck = Object.entries(fields).every(([key, value]) => {
        const stored = (current as Record<string, unknown>)[key];
        if (value instanceof Date) return stored instanceof Date && stored.getTime() === value.getTime();
        return (stored ?? null) === (value ?? null);
      });
      if (stuck) return current;
    }
    throw new ServiceUnavailableError('staff.write_conflict', 'The change could not be saved; try again.');
  }

  /** Revokes open sessions (all, or all but one) and re-checks, for the same reason as setUserFields. */
  async function endSessions(staffUserId: Types.ObjectId, reason: string, exceptSessionId?: string): Promise<number> {
    const filter: Record<string, unknown> = { staffUserId, revokedAt: null };
    if (exceptSessionId) filter._id = { $ne: new Types.ObjectId(exceptSessionId) };
    const revoked = new Set<string>();
    for (let attempt = 0; attempt <= 5; attempt += 1) {
      const open = (await Sessions.find(filter, { _id: 1 }).lean<{ _id: Types.ObjectId }[]>()).map((s) => s._id);
      if (open.length === 0) return revoked.size;
      for (const id of open) revoked.add(id.toHexString());
      await Sessions.updateMany({ _id: { $in: open }, revokedAt: null }, { $set: { revokedAt: clock(), revokedReason: reason } });
      // Read again after a pause: a concurrent lastSeenAt refresh may have overwritten the revocation.
      await sleep(attempt === 0 ? 15 : 50);
    }
    throw new ServiceUnavailableError('staff.write_conflict', 'Sessions could not be ended; try again.');
  }

  async function clearLogonLock(username: string) {
    const { failures, lock } = keys(username);
    await redis.del(failures, lock);
  }

  async function reserveAttempt(username: string, now: Date): Promise<{ attempt: number } | { lockedUntil: Date }> {
    const { failures, lock } = keys(username);
    let result: [number, number];
    try {
      result = (await redis.eval(RESERVE_ATTEMPT, 2, failures, lock, String(now.getTime()), String(settings.lockoutThreshold), String(FAILURE_COUNTER_TTL_MS))) as [number, number];
    } catch (error) {
      throw new ServiceUnavailableError('staff.login_unavailable', 'Sign-in is temporarily unavailable; try again shortly.', error);
    }
    const [attempt, lockedUntil] = result;
    if (attempt > 0) return { attempt };
    // Over the threshold with no lock yet: the attempt that reached it is still being checked.
    return { lockedUntil: lockedUntil > 0 ? new Date(lockedUntil) : new Date(now.getTime() + lockMs) };
  }

  async function refuseLocked(user: StaffUserDoc | null, lockedUntil: Date, now: Date, ip: string | undefined): Promise<never> {
    await audit.record({ actor: loginActor(user, ip), action: 'staff.login', resource: userResource(user), outcome: 'denied', ...(ip ? { ip } : {}), details: { reason: 'locked' } });
    const seconds = Math.max(1, Math.ceil((lockedUntil.getTime() - now.getTime()) / 1000));
    throw new RateLimitedError(seconds, 'staff.locked', 'Too many failed sign-ins: this account is locked for a while.');
  }

  async function recordFailure(username: string, user: StaffUserDoc | null, attempt: number, reason: FailureReason, now: Date, ip: string | undefined) {
    await audit.record({
      actor: loginActor(user, ip),
      action: 'staff.login',
      resource: userResource(user),
      outcome: 'failure',
      ...(ip ? { ip } : {}),
      details: { reason, consecutiveFailures: attempt },
    });
    if (attempt < settings.lockoutThreshold) return;
    const lockedUntil = new Date(now.getTime() + lockMs);
    // The lock value is compared with the app clock; the key's own expiry only collects garbage.
    await redis.set(keys(username).lock, String(lockedUntil.getTime()), 'PX', lockMs + 60_000);
    if (user) await setUserFields(user._id, { failedLogins: attempt, lockedUntil });
    await audit.record({
      actor: loginActor(user, ip),
      action: 'staff.lockout',
      resource: userResource(user),
      outcome: 'success',
      ...(ip ? { ip } : {}),
      details: { consecutiveFailures: attempt, lockoutMinutes: settings.lockoutMinutes, lockedUntil: lockedUntil.toISOString(), ...(user ? {} : { reason: 'unknown_user' }) },
    });
    logger.warn({ staffUserId: user?._id.toHexString(), lockoutMinutes: settings.lockoutMinutes }, 'staff logon locked after repeated failures');
  }

  async function claimTotpStep(staffUserId: string, step: number): Promise<boolean> {
    const claimed = (await redis.eval(CLAIM_TOTP_STEP, 1, totpKey(staffUserId), String(step), String(TOTP_REPLAY_TTL_MS))) as number;
    return claimed === 1;
  }

  /** A secret that does not open (app secret changed, record edited) needs re-enrolment, not a 500. */
  function openSecret(user: StaffUserDoc): string | undefined {
    try {
      return sealer.open(user.totpSecretSealed ?? '', user._id.toHexString());
    } catch {
      logger.error({ staffUserId: user._id.toHexString() }, 'TOTP secret cannot be opened (app secret changed or record altered); an administrator must reset it');
      return undefined;
    }
  }

  function enrolSecret(staffUserId: Types.ObjectId, username: string) {
    const secret = generateTotpSecret();
    return { sealed: sealer.seal(secret, staffUserId.toHexString()), uri: totpUri(secret, username) };
  }

  async function assertNotLastAdmin(user: StaffUserDoc) {
    if (user.role !== 'admin' || user.status !== 'active') return;
    const others = await Users.countDocuments({ role: 'admin', status: 'active', _id: { $ne: user._id } });
    if (others === 0) throw new BusinessRuleError('staff.last_admin', 'This is the last active administrator; appoint another first.');
  }

  async function announceRevocation(staffUserId: string, reason: string) {
    await events.publish('staff.access_revoked', { staffUserId, reason });
  }

  const service: StaffService = {
    async login(raw, context = {}) {
      const input = parseOrThrow(loginSchema, raw);
      const ip = context.ip;
      await ready();
      const pendingDummy = dummy();
      const now = clock();
      const user = await Users.findOne({ username: input.username }).lean<StaffUserDoc>();

      if (user?.lockedUntil) {
        if (user.lockedUntil > now) return refuseLocked(user, user.lockedUntil, now, ip);
        await setUserFields(user._id, { lockedUntil: null, failedLogins: 0 });
      }
      const reservation = await reserveAttempt(input.username, now);
      if ('lockedUntil' in reservation) return refuseLocked(user, reservation.lockedUntil, now, ip);

      const passwordOk = await verifyPassword(input.password, user?.passwordHash ?? (await pendingDummy));
      let failure: FailureReason | undefined;
      if (!user) failure = 'unknown_user';
      else if (!passwordOk) failure = 'bad_password';
      else if (user.status !== 'active') failure = 'suspended';
      else if (requiresTotp(user)) {
        if (!user.totpSecretSealed) failure = 'totp_not_enrolled';
        else if (!input.totpCode) failure = 'totp_required';
        else {
          const secret = openSecret(user);
          const step = secret === undefined ? undefined : matchTotp(secret, user.username, input.totpCode, now);
          if (secret === undefined) failure = 'totp_not_enrolled';
          else if (step === undefined) failure = 'totp_invalid';
          else if (!(await claimTotpStep(user._id.toHexString(), step))) failure = 'totp_replayed';
        }
      }
      if (failure || !user) {
        await recordFailure(input.username, user, reservation.attempt, failure ?? 'unknown_user', now, ip);
        throw errorFor(failure ?? 'unknown_user');
      }

      await clearLogonLock(input.username).catch((error: Error) => logger.warn({ err: error.message }, 'could not reset the logon counter'));
      const updates: Partial<StaffUserDoc> = {};
      if (user.failedLogins || user.lockedUntil) Object.assign(updates, { failedLogins: 0, lockedUntil: null });
      if (needsRehash(user.passwordHash, passwordParams)) updates.passwordHash = await hashPassword(input.password, passwordParams);
      if (Object.keys(updates).length) await Users.updateOne({ _id: user._id }, { $set: updates });

      const token = randomBytes(32).toString('base64url');
      const expiresAt = new Date(now.getTime() + lifetimeMs);
      const session = await Sessions.create({ tokenHash: sha256(token), staffUserId: user._id, createdAt: now, lastSeenAt: now, expiresAt, ip: ip ?? null });
      const sessionId = session._id.toHexString();
      await audit.record({
        actor: principalOf(user, sessionId, ip),
        action: 'staff.login',
        resource: userResource(user),
        outcome: 'success',
        details: { sessionId, secondFactor: requiresTotp(user) },
      });
      return { token, expiresAt: expiresAt.toISOString(), idleTimeoutMinutes: settings.idleTimeoutMinutes, user: toStaffUserView(user) };
    },

    async authenticate(token, req) {
      if (typeof token !== 'string' || !TOKEN_PATTERN.test(token)) return undefined;
      const session = await Sessions.findOne({ tokenHash: sha256(token) }).lean();
      if (!session || session.revokedAt) return undefined;
      const now = clock();
      const ended = now >= session.expiresAt ? 'expired' : now.getTime() - session.lastSeenAt.getTime() >= idleMs ? 'idle_timeout' : undefined;
      if (ended) {
        // Recorded so that an API process whose clock lags cannot bring the session back.
        await Sessions.updateOne({ _id: session._id, revokedAt: null }, { $set: { revokedAt: now, revokedReason: ended } });
        return undefined;
      }
      // The user record decides status and role on every request: suspension and role changes bite at once.
      const user = await Users.findById(session.staffUserId).lean<StaffUserDoc>();
      if (!user || user.status !== 'active') return undefined;
      if (req?.touch !== false && now.getTime() - session.lastSeenAt.getTime() >= LAST_SEEN_GRANULARITY_MS) {
        await Sessions.updateOne({ _id: session._id, revokedAt: null }, { $set: { lastSeenAt: now } });
      }
      return principalOf(user, session._id.toHexString(), req?.ip);
    },

    async logout(principal) {
      await Sessions.updateOne({ _id: principal.sessionId, revokedAt: null }, { $set: { revokedAt: clock(), revokedReason: 'logout' } });
      await audit.record({ actor: principal, action: 'staff.logout', resource: { type: 'staff_user', id: principal.staffUserId }, outcome: 'success', details: { sessionId: principal.sessionId } });
    },

    async me(principal) {
      const [user, session] = await Promise.all([loadUser(principal.staffUserId), Sessions.findById(principal.sessionId).lean()]);
      if (!session) throw new AuthenticationError('staff.session_invalid', 'Your session has ended; sign in again.');
      return {
        user: toStaffUserView(user),
        permissions: permissionsOf(user.role as StaffRole),
        session: { id: principal.sessionId, createdAt: session.createdAt.toISOString(), expiresAt: session.expiresAt.toISOString(), idleTimeoutMinutes: settings.idleTimeoutMinutes },
      };
    },

    async changeOwnPassword(principal, raw) {
      const input = parseOrThrow(changeOwnPasswordSchema, raw);
      const user = await loadUser(principal.staffUserId);
      const now = clock();
      // A stolen session must not become a password-guessing oracle: same counter and lock as logon.
      if (user.lockedUntil && user.lockedUntil > now) return refuseLocked(user, user.lockedUntil, now, principal.ip);
      const reservation = await reserveAttempt(user.username, now);
      if ('lockedUntil' in reservation) return refuseLocked(user, reservation.lockedUntil, now, principal.ip);
      if (!(await verifyPassword(input.currentPassword, user.passwordHash))) {
        await recordFailure(user.username, user, reservation.attempt, 'bad_password', now, principal.ip);
        throw new AuthenticationError('staff.invalid_credentials', 'The current password is wrong.');
      }
      await clearLogonLock(user.username).catch(() => undefined);
      await setUserFields(user._id, { passwordHash: await hashPassword(input.newPassword, passwordParams), passwordChangedAt: now });
      const ended = await endSessions(user._id, 'password_changed', principal.sessionId);
      await audit.record({ actor: principal, action: 'staff.password_change', resource: { type: 'staff_user', id: principal.staffUserId }, outcome: 'success', details: { otherSessionsEnded: ended } });
    },

    async createUser(raw, actor) {
      const input = parseOrThrow(createStaffUserSchema, raw);
      await ready();
      const _id = new Types.ObjectId();
      const enrolment = ROLES_REQUIRING_TOTP.includes(input.role) ? enrolSecret(_id, input.username) : undefined;
      const now = clock();
      try {
        await Users.create({
          _id,
          username: input.username,
          displayName: input.displayName,
          email: input.email,
          role: input.role,
          status: 'active',
          passwordHash: await hashPassword(input.password, passwordParams),
          failedLogins: 0,
          lockedUntil: null,
          totpSecretSealed: enrolment?.sealed ?? null,
          createdAt: now,
          createdBy: actorLabel(actor),
        });
      } catch (error) {
        if ((error as { code?: number }).code === 11000) throw new ConflictError('staff.username_taken', 'That username is already taken.');
        throw error;
      }
      await audit.record({ actor, action: 'staff.create', resource: { type: 'staff_user', id: _id.toHexString() }, outcome: 'success', details: { role: input.role, totpEnrolled: Boolean(enrolment) } });
      const user = await loadUser(_id.toHexString());
      return { user: toStaffUserView(user), ...(enrolment ? { totpUri: enrolment.uri } : {}) };
    },

    async listUsers() {
      const users = await Users.find({}).sort({ username: 1 }).lean<StaffUserDoc[]>();
      return users.map(toStaffUserView);
    },

    async getUser(staffUserId) {
      return toStaffUserView(await loadUser(staffUserId));
    },

    async changeRole(staffUserId, role, actor) {
      const newRole = staffRoleSchema.parse(role);
      const user = await loadUser(staffUserId);
      if (actor.type === 'staff' && actor.staffUserId === staffUserId) throw new BusinessRuleError('staff.cannot_change_own_role', 'Another administrator must change your role.');
      if (user.role === newRole) return { user: toStaffUserView(user) };
      if (newRole !== 'admin') await assertNotLastAdmin(user);
      const enrolment = ROLES_REQUIRING_TOTP.includes(newRole) && !user.totpSecretSealed ? enrolSecret(user._id, user.username) : undefined;
      const updated = await setUserFields(user._id, { role: newRole, ...(enrolment ? { totpSecretSealed: enrolment.sealed } : {}) });
      await audit.record({ actor, action: 'staff.role_change', resource: { type: 'staff_user', id: staffUserId }, outcome: 'success', details: { from: user.role, to: newRole, totpEnrolled: Boolean(enrolment) } });
      // Open console sockets were authorised for the old role: make them reconnect under the new one.
      await announceRevocation(staffUserId, 'role_changed');
      return { user: toStaffUserView(updated), ...(enrolment ? { totpUri: enrolment.uri } : {}) };
    },

    async suspend(staffUserId, reason, actor) {
      const user = await loadUser(staffUserId);
      if (actor.type === 'staff' && actor.staffUserId === staffUserId) throw new BusinessRuleError('staff.cannot_suspend_self', 'Another administrator must suspend your account.');
      await assertNotLastAdmin(user);
      const updated = user.status === 'suspended' ? user : await setUserFields(user._id, { status: 'suspended', suspendedAt: clock() });
      const sessionsEnded = await endSessions(user._id, 'suspended');
      await announceRevocation(staffUserId, reason);
      await audit.record({ actor, action: 'staff.suspend', resource: { type: 'staff_user', id: staffUserId }, outcome: 'success', details: { reason, sessionsEnded } });
      return toStaffUserView(updated);
    },

    async reactivate(staffUserId, actor) {
      const user = await loadUser(staffUserId);
      const updated = await setUserFields(user._id, { status: 'active', suspendedAt: null, failedLogins: 0, lockedUntil: null });
      await clearLogonLock(user.username);
      await audit.record({ actor, action: 'staff.reactivate', resource: { type: 'staff_user', id: staffUserId }, outcome: 'success', details: { wasSuspended: user.status === 'suspended', wasLocked: Boolean(user.lockedUntil) } });
      return toStaffUserView(updated);
    },

    async resetTotp(staffUserId, actor) {
      const user = await loadUser(staffUserId);
      const enrolment = enrolSecret(user._id, user.username);
      const updated = await setUserFields(user._id, { totpSecretSealed: enrolment.sealed });
      await redis.del(totpKey(staffUserId));
      await audit.record({ actor, action: 'staff.totp_reset', resource: { type: 'staff_user', id: staffUserId }, outcome: 'success' });
      return { user: toStaffUserView(updated), totpUri: enrolment.uri };
    },

    async revokeSessions(staffUserId, actor) {
      const user = await loadUser(staffUserId);
      const revoked = await endSessions(user._id, 'revoked_by_admin');
      await announceRevocation(staffUserId, 'sessions_revoked');
      await audit.record({ actor, action: 'staff.sessions_revoke', resource: { type: 'staff_user', id: staffUserId }, outcome: 'success', details: { revoked } });
      return { revoked };
    },

    async setPassword(staffUserId, password, actor) {
      const newPassword = parseOrThrow(passwordSchema, password);
      const user = await loadUser(staffUserId);
      const updated = await setUserFields(user._id, { passwordHash: await hashPassword(newPassword, passwordParams), passwordChangedAt: clock() });
      const sessionsEnded = await endSessions(user._id, 'password_reset');
      await announceRevocation(staffUserId, 'password_reset');
      await audit.record({ actor, action: 'staff.password_reset', resource: { type: 'staff_user', id: staffUserId }, outcome: 'success', details: { sessionsEnded } });
      return toStaffUserView(updated);
    },

    async pruneSessions(olderThanDays = 30) {
      const before = new Date(clock().getTime() - olderThanDays * 86_400_000);
      const { deletedCount } = await Sessions.deleteMany({ $or: [{ expiresAt: { $lt: before } }, { revokedAt: { $lt: before } }] });
      return deletedCount;
    },
  };
  return service;
}

/** For `mintdesk admin create-user`: creates a staff account as the CLI (audited as `system:cli`). */
export function createStaffUserFromCli(
  runtime: { services: { staff: Pick<StaffService, 'createUser'> } },
  input: { username: string; displayName: string; email: string; role: StaffRole; password: string },
): Promise<CreatedStaffUser> {
  return runtime.services.staff.createUser(input, { type: 'system', component: 'cli' });
}

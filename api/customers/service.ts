import { createHmac, randomBytes, randomUUID } from 'node:crypto';
import type { Connection } from 'mongoose';
import type { Clock } from '../../platform/clock.ts';
import {
  AppError,
  AuthenticationError,
  BusinessRuleError,
  ConflictError,
  isAppError,
  NotFoundError,
  parseOrThrow,
  ValidationError,
  type FieldIssue,
} from '../../platform/errors.ts';
import type { Logger } from '../../platform/logger.ts';
import type { AuditRecordInput } from '../audit/service.ts';
import { actorLabel, type Principal } from '../http/principal.ts';
import { DEFAULT_SCRYPT_PARAMS, hashPassword, needsRehash, verifyPassword, type ScryptParams } from '../staff/password.ts';
import { customerConsentModel, customerModel, customerSessionModel, type ConsentDoc, type CustomerDoc } from './model.ts';
import { looksLikeCardNumber, maskEmail, normalizeEmail, normalizeLoginName, normalizeSecurityAnswer, truncateIp } from './normalize.ts';
import {
  ChangePasswordInput,
  CloseAccountInput,
  ConsentInput,
  CustomerSearchQuery,
  customerIdSchema,
  GuestInput,
  LoginInput,
  MAX_SAVED_ADDRESSES,
  NEWSLETTER_TOPICS,
  PreferencesInput,
  ProfileUpdateInput,
  RegisterInput,
  SEARCH_CRITERIA,
  SECURITY_QUESTION_IDS,
  SECURITY_QUESTIONS,
  SecurityQuestionLookupInput,
  SecurityQuestionResetInput,
  StaffUpdateInput,
  type AccountClosed,
  type AddressChanges,
  type ConsentRecordView,
  type ConsentSource,
  type ConsentState,
  type ConsentType,
  type CustomerProfile,
  type CustomerSearchPage,
  type CustomerSummary,
  type EmailTopicsInput,
  type NewsletterTopic,
  type SavedAddress,
  type SecurityQuestionId,
  type StaffCustomerView,
} from './schema.ts';
import { createCustomerSessions, type IssuedSession } from './sessions.ts';

/**
 * Customers: registered accounts and single-transaction (guest) records, their sessions,
 * self-service, consents, and staff lookup by personal identifier (PIA D.8).
 *
 * Closing an account (PIA C.4 "cancel their online shopping registration") keeps only what existing
 * orders still need and drops the rest at once:
 * - kept: id, kind, first and last name, email and phone (order service, transactional email about
 *   orders already placed, returns and fraud follow-up), createdAt/closedAt, and the consent
 *   history (evidence of what was agreed and when). `anonymiseClosedCustomer` blanks name, email
 *   and phone once the retention worker finds no order that still needs them.
 * - dropped: login name, password hash, security question and answer, birth month, saved
 *   addresses (orders carry their own address snapshots), newsletter subscriptions; marketing and
 *   tracking consents are withdrawn by new records; every session ends.
 * The email and login name are freed, so the person may register again later.
 */

export type AuditRecorder = { record(entry: AuditRecordInput): Promise<unknown> };
type StaffPrincipal = Extract<Principal, { type: 'staff' }>;

export interface CustomerServiceDeps {
  mongo: Connection;
  clock: Clock;
  logger: Logger;
  /** HMAC key (secrets.appSecret): picks the decoy security question shown for unknown logins. */
  appSecret: string;
  /** Every staff read or change of a customer is recorded here before data is returned. */
  audit: AuditRecorder;
  /** The vault's forget path for every saved card of a customer (api/vault); returns how many. */
  forgetSavedCards: (customerId: string) => Promise<number>;
  /** From the orders service; without it an order-number search finds nobody. */
  findCustomerIdsByOrderNumber?: (orderNumber: string) => Promise<string[]>;
  sessionIdleMs?: number;
  sessionAbsoluteMs?: number;
  /** Tests may lower the scrypt cost; production uses api/staff/password.ts defaults. */
  scryptParams?: ScryptParams;
}

/** Where a change came from: the customer on the web, or staff on the phone/chat on their behalf. */
export interface ChangeContext {
  source: ConsentSource;
  /** Client IP; only its truncated form is kept, and only for web consents. */
  ip?: string | undefined;
  /** `staff:<username>` when staff recorded it. */
  recordedBy?: string;
}

export interface LoginResult extends IssuedSession {
  customer: CustomerProfile;
}

export interface CustomerService {
  /** Resolves once the unique indexes exist (uniqueness depends on them). */
  ready(): Promise<void>;

  // --- accounts and sessions ---
  register(input: unknown, ctx?: { ip?: string | undefined }): Promise<LoginResult>;
  login(input: unknown): Promise<LoginResult>;
  logout(sessionId: string): Promise<void>;
  /** The customer principal of a live session token, or undefined (unknown, expired, closed account). */
  authenticate(token: string, ctx?: { ip?: string | undefined }): Promise<Principal | undefined>;
  purgeExpiredSessions(): Promise<number>;

  // --- self-service (customerId comes from the principal, never from input) ---
  getProfile(customerId: string): Promise<CustomerProfile>;
  updateProfile(customerId: string, input: unknown, ctx: ChangeContext): Promise<CustomerProfile>;
  setPreferences(customerId: string, input: unknown, ctx: ChangeContext): Promise<CustomerProfile>;
  recordConsent(customerId: string, input: unknown, ctx: ChangeContext): Promise<Partial<Record<ConsentType, ConsentState>>>;
  changePassword(customerId: string, input: unknown, ctx: { sessionId: string }): Promise<void>;
  closeAccount(customerId: string, input: unknown, ctx: ChangeContext): Promise<AccountClosed>;
  /** The login's question; a decoy (stable per login) when there is no such account, so existence is not revealed. */
  securityQuestionFor(input: unknown): Promise<{ questionId: SecurityQuestionId; question: string }>;
  /** Sets a new password when the answer matches; one generic error otherwise. Ends every session. */
  resetPasswordWithSecurityQuestion(input: unknown): Promise<void>;

  // --- other services ---
  /** Checkout: the guest record for this email (created or refreshed), plus any consents given. */
  upsertGuest(input: unknown, ctx?: Partial<ChangeContext>): Promise<{ customerId: string; created: boolean }>;
  consentsOf(customerId: string): Promise<Partial<Record<ConsentType, ConsentState>>>;
  /** Newsletter mailers: consent granted AND subscribed to the topic AND account active. */
  mayEmailNewsletter(customerId: string, topic: NewsletterTopic): Promise<boolean>;
  /** Storefront: whether full IP and browsing may be tied to this customer. */
  hasTrackingConsent(customerId: string): Promise<boolean>;
  /** Retention worker: blanks name, email and phone of a closed account once no order needs them. */
  anonymiseClosedCustomer(customerId: string): Promise<void>;
  /**
   * IVR screen pop: active customers whose phone is exactly this E.164 number (at most 5). The IVR
   * names a customer to the rep only when exactly one matches; reading it is audited where shown.
   */
  findActiveByPhone(phone: string): Promise<{ id: string; firstName: string; lastName: string }[]>;

  // --- staff (every call audited) ---
  staffSearch(actor: StaffPrincipal, query: unknown): Promise<CustomerSearchPage>;
  staffGet(actor: StaffPrincipal, customerId: string): Promise<StaffCustomerView>;
  staffUpdate(actor: StaffPrincipal, customerId: string, input: unknown): Promise<StaffCustomerView>;
}

const DUPLICATE_KEY = 11000;
const MAX_WRITE_ATTEMPTS = 5;

/**
 * MongoDB reports E11000. FerretDB 1.24 does too for inserts, but an update that breaks a unique
 * index comes back as InternalError (code 1) carrying PostgreSQL's "duplicate key value" message.
 */
const isDuplicateKey = (error: unknown): boolean =>
  (error as { code?: number })?.code === DUPLICATE_KEY || /duplicate key/i.test(String((error as Error)?.message));
/** Which unique key a duplicate-key error is about (both servers name the index; FerretDB lower-cases it). */
const duplicateOf = (error: unknown): 'email' | 'login' => (/loginkey/i.test(String((error as Error)?.message)) ? 'login' : 'email');

const emailTaken = () => new ConflictError('customers.email_taken', 'An account with this email address already exists.', { field: 'email' });
const loginTaken = () => new ConflictError('customers.login_taken', 'This login name is taken; choose another.', { field: 'loginName' });
const invalidCredentials = () => new AuthenticationError('customers.invalid_credentials', 'The login or password is incorrect.');
const resetFailed = () => new AppError('unauthenticated', 'customers.reset_failed', 'We could not verify that answer. Check your login and answer and try again.');
const passwordIncorrect = () => new AppError('forbidden', 'customers.password_incorrect', 'Your current password is incorrect.');
const customerNotFound = () => new NotFoundError('customer', 'customers.not_found', 'No such customer.');

const noTopics = (): Record<NewsletterTopic, boolean> => Object.fromEntries(NEWSLETTER_TOPICS.map((t) => [t, false])) as Record<NewsletterTopic, boolean>;
/** What a guest record never has and a closed account no longer keeps: sign-in, profile, saved addresses, newsletters. */
const withoutAccount = () => ({
  loginName: null,
  passwordHash: null,
  securityQuestionId: null,
  securityAnswerHash: null,
  birthMonth: null,
  addresses: [],
  emailTopics: noTopics(),
});
const escapeRegex = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const newAddressId = () => randomBytes(9).toString('base64url');

export function createCustomerService(deps: CustomerServiceDeps): CustomerService {
  const { clock, logger, audit } = deps;
  const Customer = customerModel(deps.mongo);
  const Consent = customerConsentModel(deps.mongo);
  const sessions = createCustomerSessions({
    model: customerSessionModel(deps.mongo),
    clock,
    ...(deps.sessionIdleMs ? { idleMs: deps.sessionIdleMs } : {}),
    ...(deps.sessionAbsoluteMs ? { absoluteMs: deps.sessionAbsoluteMs } : {}),
  });
  const scryptParams = deps.scryptParams ?? DEFAULT_SCRYPT_PARAMS;

  let readyPromise: Promise<void> | undefined;
  const ready = () => {
    readyPromise ??= Promise.all([Customer.init(), Consent.init(), customerSessionModel(deps.mongo).init()]).then(() => undefined);
    readyPromise.catch(() => (readyPromise = undefined));
    return readyPromise;
  };

  // Verifying against a real hash when the login is unknown keeps failures equally slow.
  let decoyHash: Promise<string> | undefined;
  const decoy = () => (decoyHash ??= hashPassword(randomBytes(16).toString('hex'), scryptParams));
  const hashSecret = (secret: string) => hashPassword(secret, scryptParams);

  // --- helpers ---

  async function findActiveByLogin(login: string): Promise<CustomerDoc | null> {
    const trimmed = login.trim();
    const filter = trimmed.includes('@') ? { emailKey: normalizeEmail(trimmed) } : { loginKey: normalizeLoginName(trimmed) };
    const doc = await Customer.findOne(filter).lean<CustomerDoc>();
    return doc && doc.kind === 'registered' && doc.status === 'active' ? doc : null;
  }

  async function consentRecords(customerId: string): Promise<ConsentDoc[]> {
    return Consent.find({ customerId }).sort({ at: 1, _id: 1 }).lean<ConsentDoc[]>();
  }

  function currentConsents(records: ConsentDoc[]): Partial<Record<ConsentType, ConsentState>> {
    const state: Partial<Record<ConsentType, ConsentState>> = {};
    for (const r of records) state[r.type] = { granted: r.granted, at: r.at.toISOString(), source: r.source };
    return state;
  }

  async function recordConsents(customerId: string, entries: { type: ConsentType; granted: boolean }[], ctx: Partial<ChangeContext>, at = clock()): Promise<void> {
    if (!entries.length) return;
    const source = ctx.source ?? 'web';
    await Consent.insertMany(
      entries.map((e) => ({
        customerId,
        type: e.type,
        granted: e.granted,
        at,
        source,
        ip: source === 'web' ? (truncateIp(ctx.ip) ?? null) : null,
        recordedBy: ctx.recordedBy ?? null,
      })),
    );
  }

  function toProfile(doc: CustomerDoc, records: ConsentDoc[]): CustomerProfile {
    const topics = noTopics();
    for (const topic of NEWSLETTER_TOPICS) topics[topic] = doc.emailTopics?.[topic] === true;
    return {
      id: doc._id,
      kind: doc.kind,
      status: doc.status,
      firstName: doc.firstName,
      lastName: doc.lastName,
      email: doc.email,
      phone: doc.phone,
      loginName: doc.loginName,
      birthMonth: doc.birthMonth,
      securityQuestion: doc.securityQuestionId ? { questionId: doc.securityQuestionId, question: SECURITY_QUESTIONS[doc.securityQuestionId] } : null,
      addresses: (doc.addresses ?? []).map((a) => ({ id: a.id, label: a.label, address: stripUndefined(a.address) })),
      emailTopics: topics,
      consents: currentConsents(records),
      createdAt: doc.createdAt.toISOString(),
      closedAt: doc.closedAt ? doc.closedAt.toISOString() : null,
    };
  }

  async function profileOf(doc: CustomerDoc): Promise<CustomerProfile> {
    return toProfile(doc, await consentRecords(doc._id));
  }

  async function loadActive(customerId: string): Promise<CustomerDoc> {
    const doc = await Customer.findById(customerId).lean<CustomerDoc>();
    if (!doc || doc.status !== 'active') throw customerNotFound();
    return doc;
  }

  /**
   * Read, compute, write back only if nobody wrote in between (version filter); retried a few
   * times, then a 409. The change function may throw to refuse the change.
   */
  async function mutate(customerId: string, change: (doc: CustomerDoc) => Partial<CustomerDoc> | Promise<Partial<CustomerDoc>>): Promise<CustomerDoc> {
    await ready();
    for (let attempt = 0; attempt < MAX_WRITE_ATTEMPTS; attempt += 1) {
      const doc = await loadActive(customerId);
      const set = { ...(await change(doc)), updatedAt: clock() };
      try {
        const result = await Customer.updateOne({ _id: customerId, version: doc.version }, { $set: set, $inc: { version: 1 } });
        if (result.matchedCount === 1) return { ...doc, ...set, version: doc.version + 1 };
      } catch (error) {
        if (isDuplicateKey(error)) throw duplicateOf(error) === 'login' ? loginTaken() : emailTaken();
        throw error;
      }
    }
    throw new ConflictError('customers.concurrent_update', 'This customer was changed by someone else at the same time; try again.');
  }

  /** Field changes common to self-service and staff updates. */
  function contactChanges(doc: CustomerDoc, input: ProfileUpdateInput): Partial<CustomerDoc> {
    const set: Partial<CustomerDoc> = {};
    if (input.firstName !== undefined) set.firstName = input.firstName;
    if (input.lastName !== undefined) set.lastName = input.lastName;
    if (input.phone !== undefined) set.phone = input.phone;
    if (input.birthMonth !== undefined) set.birthMonth = input.birthMonth;
    if (input.email !== undefined && input.email !== doc.email) {
      set.email = input.email;
      set.emailKey = doc.kind === 'registered' ? input.email : `guest:${input.email}`;
    }
    if (input.addresses) set.addresses = applyAddressChanges(doc.addresses ?? [], input.addresses);
    return set;
  }

  function applyAddressChanges(current: SavedAddress[], changes: AddressChanges): SavedAddress[] {
    let next = current.map((a) => ({ ...a }));
    const issues: FieldIssue[] = [];
    changes.update?.forEach((u, i) => {
      const target = next.find((a) => a.id === u.id);
      if (!target) return issues.push({ path: `addresses.update.${i}.id`, code: 'not_found', message: 'No saved address with this id.' });
      if (u.label !== undefined) target.label = u.label;
      if (u.address !== undefined) target.address = u.address;
    });
    changes.remove?.forEach((id, i) => {
      if (!next.some((a) => a.id === id)) issues.push({ path: `addresses.remove.${i}`, code: 'not_found', message: 'No saved address with this id.' });
      next = next.filter((a) => a.id !== id);
    });
    for (const added of changes.add ?? []) next.push({ id: newAddressId(), label: added.label, address: added.address });
    if (next.length > MAX_SAVED_ADDRESSES) issues.push({ path: 'addresses', code: 'too_big', message: `At most ${MAX_SAVED_ADDRESSES} saved addresses.` });
    if (issues.length) throw new ValidationError('Some address changes could not be applied.', issues);
    return next;
  }

  /** Applies newsletter changes; subscribing is itself the marketing opt-in, recorded as consent. */
  async function applyTopics(customerId: string, changes: { emailTopics?: EmailTopicsInput | undefined; unsubscribeAll?: boolean | undefined }, ctx: ChangeContext) {
    const doc = await mutate(customerId, (current) => {
      const topics: Partial<Record<NewsletterTopic, boolean>> = changes.unsubscribeAll ? noTopics() : { ...current.emailTopics };
      for (const [topic, on] of Object.entries(changes.emailTopics ?? {})) if (on !== undefined) topics[topic as NewsletterTopic] = on;
      return { emailTopics: topics };
    });
    if (NEWSLETTER_TOPICS.some((t) => doc.emailTopics[t])) {
      const consents = currentConsents(await consentRecords(customerId));
      if (!consents.marketing_email?.granted) await recordConsents(customerId, [{ type: 'marketing_email', granted: true }], ctx);
    }
    return doc;
  }

  async function applyConsent(customerId: string, input: ConsentInput, ctx: ChangeContext) {
    await loadActive(customerId);
    await recordConsents(customerId, [input], ctx);
    // Withdrawing marketing consent unsubscribes from every newsletter at once.
    if (input.type === 'marketing_email' && !input.granted) await mutate(customerId, () => ({ emailTopics: noTopics() }));
  }

  async function consentsOf(customerId: string): Promise<Partial<Record<ConsentType, ConsentState>>> {
    return currentConsents(await consentRecords(customerId));
  }

  async function startSession(doc: CustomerDoc): Promise<LoginResult> {
    const session = await sessions.create(doc._id);
    return { ...session, customer: await profileOf(doc) };
  }

  async function staffView(doc: CustomerDoc): Promise<StaffCustomerView> {
    const records = await consentRecords(doc._id);
    const history: ConsentRecordView[] = records.map((r) => ({ type: r.type, granted: r.granted, at: r.at.toISOString(), source: r.source }));
    return { ...toProfile(doc, records), consentHistory: history };
  }

  function summary(doc: CustomerDoc): CustomerSummary {
    const places = new Map<string, { city: string; state: string; postalCode: string }>();
    for (const a of doc.addresses ?? []) places.set(`${a.address.city}|${a.address.state}|${a.address.postalCode}`, { city: a.address.city, state: a.address.state, postalCode: a.address.postalCode });
    return {
      id: doc._id,
      kind: doc.kind,
      status: doc.status,
      firstName: doc.firstName,
      lastName: doc.lastName,
      emailMasked: doc.email ? maskEmail(doc.email) : null,
      phoneLast4: doc.phone ? doc.phone.slice(-4) : null,
      places: [...places.values()],
    };
  }

  /** Audits a staff action that failed for a reason other than malformed input, then rethrows. */
  async function auditFailure(actor: StaffPrincipal, action: string, customerId: string | undefined, error: unknown): Promise<never> {
    if (isAppError(error) && error.kind !== 'validation') {
      await audit.record({
        actor,
        action,
        resource: customerId ? { type: 'customer', id: customerId } : { type: 'customer' },
        outcome: error.kind === 'forbidden' ? 'denied' : 'failure',
        details: { code: error.code },
      });
    }
    throw error;
  }

  return {
    ready,

    async register(input, ctx = {}) {
      const data = parseOrThrow(RegisterInput, input);
      await ready();
      const [emailClash, loginClash] = await Promise.all([Customer.exists({ emailKey: data.email }), Customer.exists({ loginKey: data.loginName })]);
      if (emailClash) throw emailTaken();
      if (loginClash) throw loginTaken();
      const now = clock();
      const [passwordHash, securityAnswerHash] = await Promise.all([hashSecret(data.password), hashSecret(normalizeSecurityAnswer(data.securityQuestion.answer))]);
      const subscribing = NEWSLETTER_TOPICS.some((t) => data.emailTopics?.[t]);
      const marketing = data.consents?.marketingEmail ?? (subscribing ? true : undefined);
      const id = randomUUID();
      const doc: CustomerDoc = {
        _id: id,
        kind: 'registered',
        status: 'active',
        emailKey: data.email,
        loginKey: data.loginName,
        firstName: data.firstName,
        lastName: data.lastName,
        email: data.email,
        phone: data.phone,
        loginName: data.loginName,
        passwordHash,
        securityQuestionId: data.securityQuestion.questionId,
        securityAnswerHash,
        birthMonth: data.birthMonth ?? null,
        addresses: (data.addresses ?? []).map((a) => ({ id: newAddressId(), label: a.label, address: a.address })),
        emailTopics: marketing ? { ...noTopics(), ...data.emailTopics } : noTopics(),
        createdAt: now,
        updatedAt: now,
        closedAt: null,
        passwordChangedAt: now,
        version: 0,
      };
      try {
        await Customer.create(doc);
      } catch (error) {
        if (isDuplicateKey(error)) throw duplicateOf(error) === 'login' ? loginTaken() : emailTaken();
        throw error;
      }
      const consents: { type: ConsentType; granted: boolean }[] = [
        { type: 'age_attestation', granted: true },
        { type: 'terms', granted: true },
      ];
      if (data.consents?.tracking !== undefined) consents.push({ type: 'tracking', granted: data.consents.tracking });
      if (marketing !== undefined) consents.push({ type: 'marketing_email', granted: marketing });
      try {
        await recordConsents(id, consents, { source: 'web', ip: ctx.ip }, now);
      } catch (error) {
        // An account without its 18+ and terms evidence must not exist.
        await Customer.deleteOne({ _id: id }).catch(() => undefined);
        await Consent.deleteMany({ customerId: id }).catch(() => undefined);
        throw error;
      }
      logger.info({ customerId: id }, 'customer registered');
      return startSession(doc);
    },

    async login(input) {
      const data = parseOrThrow(LoginInput, input);
      await ready();
      const doc = await findActiveByLogin(data.login);
      const ok = await verifyPassword(data.password, doc?.passwordHash ?? (await decoy()));
      if (!doc || !doc.passwordHash || !ok) throw invalidCredentials();
      if (needsRehash(doc.passwordHash, scryptParams)) {
        const passwordHash = await hashSecret(data.password);
        await Customer.updateOne({ _id: doc._id, passwordHash: doc.passwordHash }, { $set: { passwordHash } }).catch((error: Error) => logger.warn({ err: error.message }, 'could not upgrade customer password hash'));
      }
      return startSession(doc);
    },

    async logout(sessionId) {
      await sessions.end(sessionId);
    },

    async authenticate(token, ctx = {}) {
      const session = await sessions.resolve(token);
      if (!session) return undefined;
      // A closed account's sessions are deleted on close; this check also covers a sign-in racing the close.
      const active = await Customer.exists({ _id: session.customerId, status: 'active' });
      if (!active) {
        await sessions.end(session.sessionId);
        return undefined;
      }
      return { type: 'customer', customerId: session.customerId, sessionId: session.sessionId, ip: ctx.ip };
    },

    purgeExpiredSessions: () => sessions.purgeExpired(),

    async getProfile(customerId) {
      return profileOf(await loadActive(customerId));
    },

    async updateProfile(customerId, input, _ctx) {
      const data = parseOrThrow(ProfileUpdateInput, input);
      const doc = await mutate(customerId, (current) => contactChanges(current, data));
      return profileOf(doc);
    },

    async setPreferences(customerId, input, ctx) {
      const data = parseOrThrow(PreferencesInput, input);
      return profileOf(await applyTopics(customerId, data, ctx));
    },

    async recordConsent(customerId, input, ctx) {
      const data = parseOrThrow(ConsentInput, input);
      await applyConsent(customerId, data, ctx);
      return currentConsents(await consentRecords(customerId));
    },

    async changePassword(customerId, input, ctx) {
      const data = parseOrThrow(ChangePasswordInput, input);
      const current = await loadActive(customerId);
      if (!current.passwordHash || !(await verifyPassword(data.currentPassword, current.passwordHash))) throw passwordIncorrect();
      const passwordHash = await hashSecret(data.newPassword);
      await mutate(customerId, () => ({ passwordHash, passwordChangedAt: clock() }));
      // Other devices may be in the hands of whoever knew the old password.
      await sessions.endAllFor(customerId, { except: ctx.sessionId });
    },

    async closeAccount(customerId, input, ctx) {
      const data = parseOrThrow(CloseAccountInput, input);
      const current = await loadActive(customerId);
      if (!current.passwordHash || !(await verifyPassword(data.password, current.passwordHash))) throw passwordIncorrect();
      // Cards first: a failure after this leaves an open account without cards (closing again
      // finishes the job), never a closed account whose cards could still be charged.
      const savedCardsForgotten = await deps.forgetSavedCards(customerId);
      const now = clock();
      await mutate(customerId, (doc) => ({
        status: 'closed',
        closedAt: now,
        emailKey: `closed:${doc._id}`,
        loginKey: `closed:${doc._id}`,
        ...withoutAccount(),
      }));
      await recordConsents(
        customerId,
        [
          { type: 'marketing_email', granted: false },
          { type: 'tracking', granted: false },
        ],
        ctx,
        now,
      );
      await sessions.endAllFor(customerId);
      logger.info({ customerId, savedCardsForgotten }, 'customer account closed');
      return { status: 'closed', savedCardsForgotten };
    },

    async securityQuestionFor(input) {
      const { login } = parseOrThrow(SecurityQuestionLookupInput, input);
      await ready();
      const doc = await findActiveByLogin(login);
      if (doc?.securityQuestionId) return { questionId: doc.securityQuestionId, question: SECURITY_QUESTIONS[doc.securityQuestionId] };
      const key = login.includes('@') ? normalizeEmail(login) : normalizeLoginName(login);
      const digest = createHmac('sha256', deps.appSecret).update(`customers.decoy-question.v1:${key}`).digest();
      const questionId = SECURITY_QUESTION_IDS[digest.readUInt32BE(0) % SECURITY_QUESTION_IDS.length]!;
      return { questionId, question: SECURITY_QUESTIONS[questionId] };
    },

    async resetPasswordWithSecurityQuestion(input) {
      const data = parseOrThrow(SecurityQuestionResetInput, input);
      await ready();
      const doc = await findActiveByLogin(data.login);
      const ok = await verifyPassword(normalizeSecurityAnswer(data.answer), doc?.securityAnswerHash ?? (await decoy()));
      if (!doc || !doc.securityAnswerHash || !ok) throw resetFailed();
      const passwordHash = await hashSecret(data.newPassword);
      await mutate(doc._id, () => ({ passwordHash, passwordChangedAt: clock() }));
      await sessions.endAllFor(doc._id);
      logger.info({ customerId: doc._id }, 'customer password reset by security question');
    },

    async upsertGuest(input, ctx = {}) {
      const data = parseOrThrow(GuestInput, input);
      await ready();
      const emailKey = `guest:${data.email}`;
      let customerId: string | undefined;
      let created = false;
      for (let attempt = 0; attempt < MAX_WRITE_ATTEMPTS && !customerId; attempt += 1) {
        // Most checkout guests are new: create first and look the email up only once it proves
        // taken (the unique emailKey says so), saving a round trip on nearly every guest order.
        const existing = attempt === 0 ? null : await Customer.findOne({ emailKey }).lean<CustomerDoc>();
        if (existing) {
          const set = { firstName: data.firstName, lastName: data.lastName, phone: data.phone, updatedAt: clock() };
          const result = await Customer.updateOne({ _id: existing._id, version: existing.version }, { $set: set, $inc: { version: 1 } });
          if (result.matchedCount === 1) customerId = existing._id;
          continue;
        }
        const now = clock();
        const id = randomUUID();
        try {
          await Customer.create({
            _id: id,
            kind: 'guest',
            status: 'active',
            emailKey,
            loginKey: `guest:${id}`,
            firstName: data.firstName,
            lastName: data.lastName,
            email: data.email,
            phone: data.phone,
            ...withoutAccount(),
            createdAt: now,
            updatedAt: now,
            closedAt: null,
            passwordChangedAt: null,
            version: 0,
          } satisfies CustomerDoc);
          customerId = id;
          created = true;
        } catch (error) {
          if (!isDuplicateKey(error)) throw error; // a concurrent checkout created it: update that one
        }
      }
      if (!customerId) throw new ConflictError('customers.concurrent_update', 'This customer was changed by someone else at the same time; try again.');
      const given = data.consents ?? {};
      const entries: { type: ConsentType; granted: boolean }[] = [];
      if (given.ageAttestation !== undefined) entries.push({ type: 'age_attestation', granted: given.ageAttestation });
      if (given.terms !== undefined) entries.push({ type: 'terms', granted: given.terms });
      if (given.tracking !== undefined) entries.push({ type: 'tracking', granted: given.tracking });
      if (given.marketingEmail !== undefined) entries.push({ type: 'marketing_email', granted: given.marketingEmail });
      await recordConsents(customerId, entries, { source: ctx.source ?? 'web', ip: ctx.ip, ...(ctx.recordedBy ? { recordedBy: ctx.recordedBy } : {}) });
      return { customerId, created };
    },

    consentsOf,

    async mayEmailNewsletter(customerId, topic) {
      const doc = await Customer.findById(customerId).lean<CustomerDoc>();
      if (!doc || doc.status !== 'active' || doc.emailTopics?.[topic] !== true) return false;
      return (await consentsOf(customerId)).marketing_email?.granted === true;
    },

    async hasTrackingConsent(customerId) {
      return (await consentsOf(customerId)).tracking?.granted === true;
    },

    async findActiveByPhone(phone) {
      if (!/^\+[1-9]\d{6,14}$/.test(phone)) return [];
      const docs = await Customer.find({ phone, status: 'active' }, { firstName: 1, lastName: 1 }).limit(5).lean<Pick<CustomerDoc, '_id' | 'firstName' | 'lastName'>[]>();
      return docs.map((d) => ({ id: d._id, firstName: d.firstName, lastName: d.lastName }));
    },

    async anonymiseClosedCustomer(customerId) {
      const doc = await Customer.findById(customerId).lean<CustomerDoc>();
      if (!doc) throw customerNotFound();
      if (doc.status !== 'closed') throw new BusinessRuleError('customers.not_closed', 'Only a closed account can be anonymised.');
      await Customer.updateOne({ _id: customerId }, { $set: { firstName: '', lastName: '', email: null, phone: null, updatedAt: clock() }, $inc: { version: 1 } });
    },

    async staffSearch(actor, rawQuery) {
      const query = (rawQuery ?? {}) as Record<string, unknown>;
      // PIA D.8: never retrieve by card number. Checked on every raw value, known field or not.
      const carded = Object.entries(query).filter(([key, value]) => stringLeaves(value).some((v) => looksLikeCardNumber(v, { phone: key === 'phone' })));
      if (carded.length) {
        await audit.record({ actor, action: 'customer.search', resource: { type: 'customer' }, outcome: 'denied', details: { reason: 'card_number', params: carded.map(([key]) => key.slice(0, 40)) } });
        throw new ValidationError(
          'Customers cannot be looked up by card number.',
          carded.map(([key]) => ({ path: key, code: 'card_number_forbidden', message: 'Card numbers are never used to look up customers.' })),
          'customers.search_by_card_forbidden',
        );
      }
      const q = parseOrThrow(CustomerSearchQuery, query);
      const criteria = SEARCH_CRITERIA.filter((c) => q[c] !== undefined);
      if (!criteria.length) {
        throw new ValidationError(`Give at least one of: ${SEARCH_CRITERIA.join(', ')}.`, [], 'customers.search_criteria_required');
      }
      await ready();
      const and: Record<string, unknown>[] = [];
      if (q.name) {
        for (const word of q.name.split(/\s+/).slice(0, 4)) {
          const prefix = new RegExp(`^${escapeRegex(word)}`, 'i');
          and.push({ $or: [{ firstName: prefix }, { lastName: prefix }] });
        }
      }
      if (q.email) and.push({ email: q.email });
      if (q.phone) and.push({ phone: q.phone });
      if (q.loginName) and.push({ loginName: q.loginName });
      // Postal code and street may match different saved addresses of one customer ($elemMatch is not on FerretDB).
      if (q.postalCode) and.push({ 'addresses.address.postalCode': q.postalCode.length === 5 ? new RegExp(`^${escapeRegex(q.postalCode)}(-\\d{4})?$`) : q.postalCode });
      if (q.line1) and.push({ 'addresses.address.line1': new RegExp(`^${escapeRegex(q.line1)}`, 'i') });
      let searchable = true;
      if (q.orderNumber) {
        const ids = deps.findCustomerIdsByOrderNumber ? await deps.findCustomerIdsByOrderNumber(q.orderNumber) : [];
        if (ids.length) and.push({ _id: { $in: ids } });
        else searchable = false;
      }
      const filter = { $and: and };
      const [total, docs] = searchable
        ? await Promise.all([
            Customer.countDocuments(filter),
            Customer.find(filter)
              .sort({ lastName: 1, firstName: 1, _id: 1 })
              .skip((q.page - 1) * q.pageSize)
              .limit(q.pageSize)
              .lean<CustomerDoc[]>(),
          ])
        : [0, [] as CustomerDoc[]];
      // Which criteria were used and how many matched: never the values searched for.
      await audit.record({ actor, action: 'customer.search', resource: { type: 'customer' }, outcome: 'success', details: { criteria, resultCount: total, returned: docs.length, page: q.page } });
      return { items: docs.map(summary), page: q.page, pageSize: q.pageSize, total };
    },

    async staffGet(actor, customerId) {
      try {
        if (!customerIdSchema.safeParse(customerId).success) throw customerNotFound();
        const doc = await Customer.findById(customerId).lean<CustomerDoc>();
        if (!doc) throw customerNotFound();
        const view = await staffView(doc);
        await audit.record({ actor, action: 'customer.read', resource: { type: 'customer', id: customerId }, outcome: 'success' });
        return view;
      } catch (error) {
        return auditFailure(actor, 'customer.read', customerIdSchema.safeParse(customerId).success ? customerId : undefined, error);
      }
    },

    async staffUpdate(actor, customerId, input) {
      const data = parseOrThrow(StaffUpdateInput, input);
      const ctx: ChangeContext = { source: 'phone', recordedBy: actorLabel(actor) };
      const validId = customerIdSchema.safeParse(customerId).success;
      try {
        if (!validId) throw customerNotFound();
        const existing = await Customer.findById(customerId).lean<CustomerDoc>();
        if (!existing) throw customerNotFound();
        if (existing.status !== 'active') throw new BusinessRuleError('customers.account_closed', 'This account is closed and can no longer be changed.');
        const { emailTopics, consents, ...contact } = data;
        const fields = Object.keys(data).filter((k) => data[k as keyof typeof data] !== undefined);
        if (Object.values(contact).some((v) => v !== undefined)) await mutate(customerId, (doc) => contactChanges(doc, contact));
        for (const consent of consents ?? []) await applyConsent(customerId, consent, ctx);
        if (emailTopics) await applyTopics(customerId, { emailTopics }, ctx);
        const view = await staffView(await loadActive(customerId));
        await audit.record({ actor, action: 'customer.update', resource: { type: 'customer', id: customerId }, outcome: 'success', details: { fields, source: 'phone' } });
        return view;
      } catch (error) {
        return auditFailure(actor, 'customer.update', validId ? customerId : undefined, error);
      }
    },
  };
}

/**
 * The `GuestCustomers` port of api/checkout/service.ts, backed by `upsertGuest`. Checkout calls it
 * only after the order's attestation (terms and 18+, both `literal(true)`) has been validated, so
 * both are recorded as given; the channel becomes the consent source.
 */
export function checkoutGuestCustomers(customers: Pick<CustomerService, 'upsertGuest'>) {
  return {
    async upsertGuest(input: { firstName: string; lastName: string; email: string; phone: string; marketingOptIn: boolean; source: 'web' | 'phone' | 'subscription' }): Promise<string> {
      const { customerId } = await customers.upsertGuest(
        {
          firstName: input.firstName,
          lastName: input.lastName,
          email: input.email,
          phone: input.phone,
          consents: { ageAttestation: true, terms: true, marketingEmail: input.marketingOptIn },
        },
        { source: input.source === 'phone' ? 'phone' : input.source === 'subscription' ? 'admin' : 'web' },
      );
      return customerId;
    },
  };
}

function stringLeaves(value: unknown): string[] {
  if (typeof value === 'string') return [value];
  if (typeof value === 'number') return [String(value)];
  if (Array.isArray(value)) return value.flatMap(stringLeaves);
  if (value && typeof value === 'object') return Object.values(value).flatMap(stringLeaves);
  return [];
}

function stripUndefined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined && v !== null)) as T;
}

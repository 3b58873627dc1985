import { createHmac, randomUUID, timingSafeEqual } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { Connection } from 'mongoose';
import type { Clock } from '../../platform/clock.ts';
import { ConflictError, fieldIssuesFromZod, NotFoundError, parseOrThrow, requestLevelIssue, ServiceUnavailableError, ValidationError } from '../../platform/errors.ts';
import type { EventBus } from '../../platform/events.ts';
import { withLock } from '../../platform/locks.ts';
import type { Logger } from '../../platform/logger.ts';
import type { AuditRecordInput } from '../audit/service.ts';
import { actorLabel, type Principal } from '../http/principal.ts';
import type { OrderDoc } from '../orders/model.ts';
import { formatOrderNumberForDisplay } from '../orders/order-number.ts';
import { DEFAULT_IVR_CONFIG } from './defaults.ts';
import { callbackModel, callRecordModel, ivrConfigModel, pendingRecordingModel, type CallbackDoc, type CallRecordDoc, type PathStep, type PendingRecordingDoc } from './model.ts';
import {
  AcceptCallInput,
  callSidSchema,
  CallbackListQuery,
  CompleteCallbackInput,
  IvrConfig,
  ReportQuery,
  SaveIvrConfigInput,
  type CallbackView,
  type DayReport,
  type IvrLanguage,
  type WaitingCallView,
} from './schema.ts';

/**
 * The IVR's durable side: configuration versions, call records, callback tasks, waiting calls,
 * pending recordings and reports. The Twilio-facing flow (ivr/) calls this; so do the staff routes.
 *
 * Call records are written at milestones (start, self-service, queue, rep, callback, end), each
 * update of one record under a short Redis lock: Twilio's status callback and queue callbacks can
 * arrive together, and FerretDB does not make single-document updates atomic under concurrency.
 */

type StaffPrincipal = Extract<Principal, { type: 'staff' }>;
type AuditRecorder = { record(entry: AuditRecordInput): Promise<unknown> };

/** How a waiting caller is taken out of the queue; ivr/phone-network.ts implements it for Twilio and the simulator. */
export interface QueueConnector {
  readonly mode: 'twilio' | 'simulator';
  dequeueToUrl(input: { callSid: string; queueSid: string | null; url: string }): Promise<void>;
}

export interface IvrServiceDeps {
  mongo: Connection;
  redis: Redis;
  redisPrefix: string;
  clock: Clock;
  logger: Logger;
  events: EventBus;
  audit: AuditRecorder;
  /** HMAC key for order-number references in call paths. */
  appSecret: string;
  /** The app's public root, as Twilio reaches it: URLs handed to Twilio's REST API are built on it. */
  publicBaseUrl: string;
  orders: { findByNumber(orderNumber: string): Promise<OrderDoc | undefined>; get(orderId: string): Promise<OrderDoc> };
  /** Active customers with this E.164 phone (screen pop). */
  customersByPhone: (phone: string) => Promise<{ id: string; firstName: string; lastName: string }[]>;
  connector: QueueConnector;
  /** The store as callers hear it: STORE_NAME and the number they dial (E.164); fills `{store}` and `{storeNumber}` in prompts. */
  store: { name: string; number: string };
  /** How long a read config is reused before the store is asked again. Default 5 s. */
  configCacheMs?: number;
}

/** Handle times measured from recent answered calls; fewer than this and the configured estimate is used. */
const MIN_HANDLE_SAMPLES = 5;
const HANDLE_SAMPLE_SIZE = 50;
const HANDLE_SAMPLE_DAYS = 7;
const HANDLE_CACHE_MS = 60_000;

/** A phone number read digit by digit, a US one in its three groups ("2 0 2, 5 5 5, 0 1 9 9"). */
export function phoneNumberSpeech(e164: string): string {
  const digits = e164.replace(/\D/g, '');
  const us = /^1?(\d{3})(\d{3})(\d{4})$/.exec(digits);
  const spell = (group: string) => group.split('').join(' ');
  return us ? [us[1]!, us[2]!, us[3]!].map(spell).join(', ') : spell(digits);
}

/**
 * The config as callers hear it: `{store}` and `{storeNumber}` filled in every prompt, so one
 * STORE_NAME names the store on the phone as on the site and in emails. The stored config keeps the
 * placeholders (what admins edit); only the copy calls are answered with is filled.
 */
export function withStoreDetails(config: IvrConfig, store: { name: string; number: string }): IvrConfig {
  const values: Record<string, string> = { store: store.name.replace(/[{}]/g, ''), storeNumber: phoneNumberSpeech(store.number) };
  const fillStore = (text: string) => text.replace(/\{(store|storeNumber)\}/g, (_whole, name: string) => values[name]!);
  const prompts = Object.fromEntries(Object.entries(config.prompts).map(([key, text]) => [key, { en: fillStore(text.en), es: fillStore(text.es) }])) as IvrConfig['prompts'];
  return { ...config, prompts };
}

export interface ActiveConfig {
  version: number;
  config: IvrConfig;
}

export interface CallStart {
  callSid: string;
  callerId: string;
  to: string;
  day: string;
  hour: number;
}

export interface QueueEntry {
  callSid: string;
  /** The caller id the call's state holds; read from the record when absent. */
  callerId?: string;
  queue: string;
  /** The queue's SID when an earlier caller's wait request already named it, so no later write is needed for it. */
  queueSid?: string;
  language: IvrLanguage;
  tty: boolean;
  recordingDeclined: boolean;
  entered: Record<string, string>;
  path: PathStep[];
}

export interface RecordingCallback {
  RecordingSid?: string;
  RecordingUrl?: string;
  RecordingStatus?: string;
  RecordingDuration?: string;
  RecordingChannels?: string;
  RecordingSource?: string;
  RecordingStartTime?: string;
  CallSid?: string;
}

const lockTtl = { ttlMs: 5_000, waitMs: 4_000 };
type Metrics = Pick<CallRecordDoc, 'mEnded' | 'mSelfServed' | 'mQueued' | 'mAbandonedInQueue' | 'mConnected' | 'mCallback' | 'mWaited' | 'mWaitSeconds'>;
const EMPTY_METRICS: Metrics = { mEnded: 0, mSelfServed: 0, mQueued: 0, mAbandonedInQueue: 0, mConnected: 0, mCallback: 0, mWaited: 0, mWaitSeconds: 0 };

export function createIvrService(deps: IvrServiceDeps) {
  const { redis, redisPrefix, clock, logger, events, audit, connector } = deps;
  const Configs = ivrConfigModel(deps.mongo);
  const Calls = callRecordModel(deps.mongo);
  const Callbacks = callbackModel(deps.mongo);
  const Recordings = pendingRecordingModel(deps.mongo);
  const cacheMs = deps.configCacheMs ?? 5_000;
  const callLock = (callSid: string) => `${redisPrefix}:lock:ivr-call:${callSid}`;

  // --- configuration ------------------------------------------------------------------------------

  let cached: { value: ActiveConfig; at: number } | undefined;
  let refreshing: Promise<ActiveConfig> | undefined;

  const shippedForCalls = withStoreDetails(DEFAULT_IVR_CONFIG, deps.store);

  async function loadLatest(): Promise<ActiveConfig> {
    const latest = await Configs.findOne({}, null, { sort: { _id: -1 } }).lean();
    if (!latest) return { version: 0, config: shippedForCalls };
    const parsed = IvrConfig.safeParse(latest.config);
    if (parsed.success) return { version: latest._id, config: withStoreDetails(parsed.data, deps.store) };
    // A stored version the current schema refuses (the schema moved on): serve the shipped one, loudly.
    logger.error({ version: latest._id, issues: parsed.error.issues.length }, 'stored IVR config no longer validates; using the shipped defaults');
    return { version: latest._id, config: shippedForCalls };
  }

  let handleTimes: { seconds: number | null; at: number } | undefined;

  /**
   * The average handle time of recently answered calls (the last 50 of the past week, rep leg
   * duration), or null while fewer than 5 are known. Re-measured at most once a minute: every wait
   * request of every caller asks for it.
   */
  async function averageHandleSeconds(): Promise<number | null> {
    const now = clock().getTime();
    if (handleTimes && now - handleTimes.at < HANDLE_CACHE_MS && now >= handleTimes.at) return handleTimes.seconds;
    const recent = await Calls.find({ outcome: 'connected', startedAt: { $gte: new Date(now - HANDLE_SAMPLE_DAYS * 24 * 3600_000) } }, { connected: 1 })
      .sort({ startedAt: -1 })
      .limit(HANDLE_SAMPLE_SIZE)
      .lean<Pick<CallRecordDoc, 'connected'>[]>();
    const durations = recent.map((r) => r.connected?.durationSeconds ?? 0).filter((d) => d > 0);
    const seconds = durations.length >= MIN_HANDLE_SAMPLES ? durations.reduce((a, b) => a + b, 0) / durations.length : null;
    handleTimes = { seconds, at: now };
    return seconds;
  }

  /**
   * The config in use, re-read at most every few seconds. When the store cannot be read, the last
   * good copy keeps serving callers; with none at all the error propagates (the caller hears the apology).
   */
  async function activeConfig(): Promise<ActiveConfig> {
    if (cached && Date.now() - cached.at < cacheMs) return cached.value;
    refreshing ??= loadLatest()
      .then((value) => {
        cached = { value, at: Date.now() };
        return value;
      })
      .catch((error: unknown) => {
        if (!cached) throw error;
        logger.warn({ err: (error as Error).message }, 'IVR config store unreadable; serving the last good copy');
        return cached.value;
      })
      .finally(() => {
        refreshing = undefined;
      });
    return refreshing;
  }

  function validateConfig(input: unknown): IvrConfig {
    const parsed = IvrConfig.safeParse(input);
    if (parsed.success) return parsed.data;
    const fields = fieldIssuesFromZod(parsed.error).map((f) => ({ ...f, path: f.path ? `config.${f.path}` : 'config' }));
    const requestLevel = requestLevelIssue(fields);
    throw new ValidationError(requestLevel?.message ?? 'The IVR configuration is not valid.', fields, requestLevel?.code ?? 'ivr.config_invalid');
  }

  // --- call records -------------------------------------------------------------------------------

  const hmac = (purpose: string, value: string) => createHmac('sha256', deps.appSecret).update(`${purpose}\0${value}`).digest('base64url');

  function metricsOf(record: CallRecordDoc): Metrics {
    if (!record.endedAt) return EMPTY_METRICS;
    const queue = record.queue;
    return {
      mEnded: 1,
      mSelfServed: record.outcome === 'self_served' ? 1 : 0,
      mQueued: queue ? 1 : 0,
      mAbandonedInQueue: record.outcome === 'abandoned' && record.abandonedIn === 'queue' ? 1 : 0,
      mConnected: record.outcome === 'connected' ? 1 : 0,
      mCallback: record.outcome === 'callback' ? 1 : 0,
      mWaited: queue && (queue.leftAt || record.outcome !== 'queued') ? 1 : 0,
      mWaitSeconds: queue ? queue.waitSeconds : 0,
    };
  }

  /** Read-modify-write of one call record under its lock; `change` returns the fields to set. */
  async function updateCall(callSid: string, change: (record: CallRecordDoc) => Partial<CallRecordDoc> | undefined, path: PathStep[] = []): Promise<CallRecordDoc | undefined> {
    return withLock(
      redis,
      callLock(callSid),
      async () => {
        const record = await Calls.findById(callSid).lean<CallRecordDoc>();
        if (!record) return undefined;
        const set = change(record) ?? {};
        const next = { ...record, ...set, path: [...(record.path ?? []), ...path] } as CallRecordDoc;
        const update: Record<string, unknown> = { $set: { ...set, ...metricsOf(next) } };
        if (path.length) update.$push = { path: { $each: path } };
        await Calls.updateOne({ _id: callSid }, update);
        return next;
      },
      lockTtl,
    );
  }

  function waitingView(record: CallRecordDoc, position: number, now: Date): WaitingCallView {
    const enqueuedAt = record.queue!.enqueuedAt;
    return {
      callSid: record._id,
      position,
      queue: record.queue!.name,
      callerId: record.callerId,
      customer: record.customerId ? { id: record.customerId, name: record.customerName ?? '' } : null,
      customerMatches: record.customerMatches,
      language: (record.language ?? 'en') as IvrLanguage,
      tty: record.tty,
      recordingDeclined: record.recordingDeclined,
      entered: record.entered ?? {},
      enqueuedAt: enqueuedAt.toISOString(),
      waitingSeconds: Math.max(0, Math.round((now.getTime() - enqueuedAt.getTime()) / 1000)),
      acceptedBy: record.queue!.acceptedBy,
    };
  }

  function callbackView(doc: CallbackDoc): CallbackView {
    return {
      id: doc._id,
      callSid: doc.callSid,
      phone: doc.phone,
      phoneSource: doc.phoneSource,
      bestTime: doc.bestTime,
      language: doc.language,
      customerId: doc.customerId,
      status: doc.status,
      requestedAt: doc.requestedAt.toISOString(),
      claimedBy: doc.claimedBy,
      completedBy: doc.completedBy,
      result: doc.result,
    };
  }

  const notFoundCall = () => new NotFoundError('call', 'ivr.call_not_found', 'No such call.');

  /** The screen pop: a customer is named only when exactly one active customer has the caller's number. */
  async function matchCustomer(callerId: string): Promise<Pick<CallRecordDoc, 'customerId' | 'customerName' | 'customerMatches'>> {
    const matches = /^\+[1-9]\d{6,14}$/.test(callerId) ? await deps.customersByPhone(callerId) : [];
    const single = matches.length === 1 ? matches[0]! : undefined;
    return { customerId: single?.id ?? null, customerName: single ? `${single.firstName} ${single.lastName}`.trim() : null, customerMatches: matches.length };
  }

  return {
    activeConfig,
    /** The last config read (or the shipped one), without touching the store: what error answers are rendered with. */
    lastKnownConfig(): IvrConfig {
      return cached?.value.config ?? shippedForCalls;
    },
    store: deps.store,

    /**
     * How long a caller at `position` in line should expect to wait: one measured handle time per
     * caller up to and including them (the configured seconds per caller until enough calls were
     * answered to measure). Asked again on every wait request, so it shrinks as the caller moves up.
     */
    async estimatedWaitSeconds(position: number, config: IvrConfig): Promise<number> {
      const perCaller = (await averageHandleSeconds().catch(() => null)) ?? config.queue.secondsPerCallerAhead;
      return Math.max(1, position) * perCaller;
    },
    validateConfig,

    /** Keyed reference of an entered order number: tells repeated tries apart without keeping the digits. */
    orderRef(digits: string): string {
      return hmac('ivr-order-ref', digits).slice(0, 12);
    },

    /** Constant-time comparison of the first five digits of two ZIP codes. */
    zipMatches(entered: string, billing: string | undefined): boolean {
      const a = Buffer.from(entered.slice(0, 5));
      const b = Buffer.from((billing ?? '').replace(/\D/g, '').slice(0, 5));
      return a.length === 5 && a.length === b.length && timingSafeEqual(a, b);
    },

    /**
     * Counts a failed order verification against the calling number (across calls), so trying ZIP
     * codes by calling again and again leads to a rep too. The count lapses an hour after the last failure.
     */
    async countVerificationFailure(callerId: string): Promise<number> {
      const key = `${redisPrefix}:ivr:verify-fail:${hmac('ivr-caller', callerId).slice(0, 16)}`;
      const results = await redis.multi().incr(key).expire(key, 3600).exec();
      return Number(results?.[0]?.[1] ?? 0);
    },

    async recentVerificationFailures(callerId: string): Promise<number> {
      return Number((await redis.get(`${redisPrefix}:ivr:verify-fail:${hmac('ivr-caller', callerId).slice(0, 16)}`)) ?? 0);
    },

    /**
     * Creates the call record (idempotent for a retried webhook). Who is calling is looked up only
     * when a person will need it (the queue, a callback), keeping the first answer fast.
     */
    async callStarted(start: CallStart): Promise<void> {
      const record: CallRecordDoc = {
        _id: start.callSid,
        callerId: start.callerId,
        to: start.to,
        language: null,
        tty: false,
        recordingDeclined: false,
        customerId: null,
        customerName: null,
        customerMatches: 0,
        startedAt: clock(),
        day: start.day,
        hour: start.hour,
        path: [],
        entered: {},
        outcome: 'in_progress',
        abandonedIn: null,
        queue: null,
        connected: null,
        callbackId: null,
        endedAt: null,
        durationSeconds: null,
        finalStatus: null,
        ...EMPTY_METRICS,
      };
      try {
        await Calls.create(record);
      } catch (error) {
        // Twilio retried the voice webhook: the record is there already.
        if (!isDuplicateKey(error)) throw error;
      }
    },

    /** Writes path steps and call facts that changed (language, TTY, recording choice). */
    async recordProgress(callSid: string, path: PathStep[], facts: { language?: IvrLanguage | null; tty?: boolean; recordingDeclined?: boolean; entered?: Record<string, string> } = {}): Promise<void> {
      await updateCall(
        callSid,
        (record) => ({
          ...(facts.language !== undefined ? { language: facts.language } : {}),
          ...(facts.tty !== undefined ? { tty: facts.tty } : {}),
          ...(facts.recordingDeclined !== undefined ? { recordingDeclined: facts.recordingDeclined } : {}),
          ...(facts.entered ? { entered: { ...record.entered, ...facts.entered } } : {}),
        }),
        path,
      );
    },

    /** The caller joins the queue: listed for reps and announced to the console. */
    async callQueued(entry: QueueEntry): Promise<void> {
      const now = clock();
      const caller = entry.callerId || (await Calls.findById(entry.callSid, { callerId: 1 }).lean<Pick<CallRecordDoc, 'callerId'>>())?.callerId;
      const customer = caller ? await matchCustomer(caller) : undefined;
      const record = await updateCall(
        entry.callSid,
        (current) => ({
          ...(customer ?? {}),
          language: entry.language,
          tty: entry.tty,
          recordingDeclined: entry.recordingDeclined,
          entered: { ...current.entered, ...entry.entered },
          outcome: 'queued',
          abandonedIn: null,
          queue: {
            name: entry.queue,
            sid: entry.queueSid ?? current.queue?.sid ?? null,
            // A caller sent back after a rep did not answer keeps the original wait start.
            enqueuedAt: current.queue?.enqueuedAt && !current.queue.leftAt ? current.queue.enqueuedAt : now,
            leftAt: null,
            waitSeconds: current.queue?.waitSeconds ?? 0,
            result: null,
            acceptedBy: null,
            acceptedAt: null,
            target: null,
          },
        }),
        entry.path,
      );
      if (!record) throw notFoundCall();
      await redis.del(`${redisPrefix}:ivr:accept:${entry.callSid}`);
      await events.publish('call.waiting', {
        callSid: entry.callSid,
        queue: entry.queue,
        callerId: record.callerId,
        customerId: record.customerId,
        language: entry.language,
        entered: record.entered,
        recordingDeclined: entry.recordingDeclined,
        tty: entry.tty,
      });
    },

    /** Twilio names the queue's SID only in queue requests; accepting the call needs it. */
    async queueSidSeen(callSid: string, queueSid: string): Promise<void> {
      await updateCall(callSid, (record) => (record.queue && record.queue.sid !== queueSid ? { queue: { ...record.queue, sid: queueSid } } : undefined));
    },

    /**
     * The caller left the queue (Enqueue action). `redirected` is a rep's accept taking them out;
     * `hangup` is an abandoned call; `leave` is the caller choosing a callback or the menu.
     */
    async leftQueue(callSid: string, result: string, queueTimeSeconds: number): Promise<void> {
      const now = clock();
      const record = await updateCall(callSid, (current) => {
        if (!current.queue || current.queue.leftAt) return undefined;
        const queue = { ...current.queue, leftAt: now, result, waitSeconds: current.queue.waitSeconds + Math.max(0, Math.round(queueTimeSeconds)) };
        if (result === 'hangup') return { queue, outcome: 'abandoned', abandonedIn: 'queue' };
        if (result === 'bridged') return { queue, outcome: 'connected' };
        if (result === 'redirected') return { queue };
        return { queue, outcome: 'in_progress' };
      });
      if (record?.queue) await events.publish('call.left_queue', { callSid, queue: record.queue.name, outcome: result });
    },

    /** Who accepted the call and where to ring them, for the connect TwiML. */
    async acceptanceOf(callSid: string): Promise<{ staffUserId: string; target: { type: 'client' | 'number' | 'simulator'; value: string } } | undefined> {
      const record = await Calls.findById(callSid, { queue: 1 }).lean<Pick<CallRecordDoc, 'queue'>>();
      if (!record?.queue?.acceptedBy || !record.queue.target) return undefined;
      return { staffUserId: record.queue.acceptedBy, target: record.queue.target };
    },

    async callFacts(callSid: string): Promise<Pick<CallRecordDoc, 'customerName' | 'customerMatches' | 'entered' | 'recordingDeclined' | 'callerId'> | undefined> {
      return (await Calls.findById(callSid, { customerName: 1, customerMatches: 1, entered: 1, recordingDeclined: 1, callerId: 1 }).lean<CallRecordDoc>()) ?? undefined;
    },

    /**
     * The connect TwiML is about to ring the rep: the wait is over. Twilio's Enqueue action for a
     * REST dequeue may come before or after this, so whichever is first closes the wait.
     */
    async repDialing(callSid: string): Promise<void> {
      const now = clock();
      await updateCall(callSid, (record) => {
        if (!record.queue || record.queue.leftAt) return undefined;
        return { queue: { ...record.queue, leftAt: now, result: 'redirected', waitSeconds: record.queue.waitSeconds + Math.max(0, Math.round((now.getTime() - new Date(record.queue.enqueuedAt).getTime()) / 1000)) } };
      });
    },

    /** The rep leg ended (Dial action): connected if it was answered, otherwise the caller goes back to the queue. */
    async repLegEnded(callSid: string, dialStatus: string, durationSeconds: number): Promise<'connected' | 'not_answered'> {
      const answered = dialStatus === 'completed' || dialStatus === 'answered';
      const now = clock();
      await updateCall(callSid, (record) => {
        if (!answered) return { queue: record.queue ? { ...record.queue, acceptedBy: null, acceptedAt: null, target: null } : null };
        return {
          outcome: 'connected',
          connected: { staffUserId: record.queue?.acceptedBy ?? 'unknown', at: record.queue?.acceptedAt ?? now, durationSeconds: Math.max(0, Math.round(durationSeconds)) },
        };
      });
      if (!answered) await redis.del(`${redisPrefix}:ivr:accept:${callSid}`);
      return answered ? 'connected' : 'not_answered';
    },

    /** Twilio's status callback: the call is over. Settles the outcome and the report flags. */
    async callEnded(
      callSid: string,
      input: { status: string; durationSeconds: number | null; path: PathStep[]; selfServed: boolean; facts?: { language: IvrLanguage | null; tty: boolean; recordingDeclined: boolean; entered: Record<string, string> } },
    ): Promise<void> {
      const now = clock();
      await updateCall(
        callSid,
        (record) => {
          if (record.endedAt) return undefined;
          const set: Partial<CallRecordDoc> = { endedAt: now, durationSeconds: input.durationSeconds, finalStatus: input.status };
          if (input.facts) {
            // What the call's state knew and no milestone wrote yet (a self-served call writes nothing before this).
            set.language = input.facts.language ?? record.language;
            set.tty = input.facts.tty || record.tty;
            set.recordingDeclined = input.facts.recordingDeclined || record.recordingDeclined;
            set.entered = { ...input.facts.entered, ...record.entered };
          }
          if (record.outcome === 'queued') {
            // The Enqueue action normally says so first; if it was lost, the wait runs to the hangup.
            set.outcome = 'abandoned';
            set.abandonedIn = 'queue';
            if (record.queue && !record.queue.leftAt) {
              set.queue = { ...record.queue, leftAt: now, result: 'hangup', waitSeconds: record.queue.waitSeconds + Math.max(0, Math.round((now.getTime() - record.queue.enqueuedAt.getTime()) / 1000)) };
            }
          } else if (record.outcome === 'in_progress') {
            if (input.selfServed) set.outcome = 'self_served';
            else {
              set.outcome = 'abandoned';
              set.abandonedIn = 'menu';
            }
          }
          return set;
        },
        input.path,
      );
    },

    /** A callback task from the IVR (after hours, or instead of waiting). One per call. */
    async requestCallback(input: { callSid: string; phone: string; phoneSource: 'caller_id' | 'entered'; bestTime: string; language: IvrLanguage; path: PathStep[] }): Promise<CallbackDoc> {
      const record = await Calls.findById(input.callSid, { customerId: 1, callerId: 1 }).lean<Pick<CallRecordDoc, 'customerId' | 'callerId'>>();
      const customer = record && !record.customerId ? await matchCustomer(record.callerId) : undefined;
      const doc: CallbackDoc = {
        _id: randomUUID(),
        callSid: input.callSid,
        phone: input.phone,
        phoneSource: input.phoneSource,
        bestTime: input.bestTime.slice(0, 120),
        language: input.language,
        customerId: record?.customerId ?? customer?.customerId ?? null,
        status: 'open',
        requestedAt: clock(),
        claimedBy: null,
        claimedAt: null,
        completedBy: null,
        completedAt: null,
        result: null,
        note: null,
      };
      let stored = doc;
      try {
        await Callbacks.create(doc);
      } catch (error) {
        // A retried webhook: the task exists already.
        if (!isDuplicateKey(error)) throw error;
        stored = (await Callbacks.findOne({ callSid: input.callSid }).lean<CallbackDoc>()) ?? doc;
      }
      await updateCall(input.callSid, () => ({ ...(customer ?? {}), language: input.language, outcome: 'callback', callbackId: stored._id, abandonedIn: null }), input.path);
      await events.publish('callback.requested', { callbackId: stored._id, callSid: input.callSid, bestTime: stored.bestTime });
      return stored;
    },

    /** Recording status callback: a completed rep-leg recording becomes a pending recording (see model.ts). */
    async recordingReported(params: RecordingCallback): Promise<'stored' | 'ignored'> {
      const sid = params.RecordingSid ?? '';
      const callSid = params.CallSid ?? '';
      if (!/^RE[0-9a-f]{32}$/.test(sid) || params.RecordingStatus !== 'completed' || !params.RecordingUrl) return 'ignored';
      const record = await Calls.findById(callSid, { recordingDeclined: 1, customerId: 1, language: 1, queue: 1, connected: 1 }).lean<CallRecordDoc>();
      const declined = record?.recordingDeclined === true;
      if (declined) logger.error({ callSid, recordingSid: sid }, 'a recording arrived for a call whose caller declined recording; marked for deletion');
      const startedAt = params.RecordingStartTime ? new Date(params.RecordingStartTime) : null;
      const doc: PendingRecordingDoc = {
        _id: sid,
        callSid,
        recordingUrl: params.RecordingUrl,
        durationSeconds: Number(params.RecordingDuration ?? 0) || 0,
        channels: Number(params.RecordingChannels ?? 1) || 1,
        source: params.RecordingSource ?? 'unknown',
        status: params.RecordingStatus,
        startedAt: startedAt && !Number.isNaN(startedAt.getTime()) ? startedAt : null,
        receivedAt: clock(),
        staffUserId: record?.connected?.staffUserId ?? record?.queue?.acceptedBy ?? null,
        customerId: record?.customerId ?? null,
        language: record?.language ?? null,
        recordingDeclined: declined,
        ingestState: declined ? 'discard' : 'pending',
        ingestedAt: null,
      };
      try {
        await Recordings.create(doc);
      } catch (error) {
        // Twilio delivered the same callback again: the first one stands.
        if (!isDuplicateKey(error)) throw error;
      }
      return 'stored';
    },

    /** For the recordings module: what is waiting to be ingested (or discarded), oldest first. */
    async pendingRecordings(limit = 50) {
      return Recordings.find({ ingestState: { $in: ['pending', 'discard'] } }).sort({ receivedAt: 1 }).limit(limit).lean();
    },

    async markRecording(recordingSid: string, state: 'ingested' | 'discarded'): Promise<void> {
      await Recordings.updateOne({ _id: recordingSid }, { $set: { ingestState: state, ingestedAt: clock() } });
    },

    // --- staff: configuration -----------------------------------------------------------------------

    async getConfig(): Promise<{ version: number; config: IvrConfig; createdAt: string | null; createdBy: string | null; note: string | null }> {
      const latest = await Configs.findOne({}, null, { sort: { _id: -1 } }).lean();
      if (!latest) return { version: 0, config: DEFAULT_IVR_CONFIG, createdAt: null, createdBy: null, note: 'shipped defaults' };
      return { version: latest._id, config: latest.config as IvrConfig, createdAt: latest.createdAt.toISOString(), createdBy: latest.createdBy, note: latest.note };
    },

    async listConfigVersions() {
      const versions = await Configs.find({}, { config: 0 }, { sort: { _id: -1 } }).limit(200).lean();
      return versions.map((v) => ({ version: v._id, createdAt: v.createdAt.toISOString(), createdBy: v.createdBy, note: v.note }));
    },

    async getConfigVersion(version: number) {
      if (version === 0) return { version: 0, config: DEFAULT_IVR_CONFIG, createdAt: null, createdBy: null, note: 'shipped defaults' };
      const doc = Number.isSafeInteger(version) && version > 0 ? await Configs.findById(version).lean() : null;
      if (!doc) throw new NotFoundError('ivr_config_version', 'ivr.config_version_not_found', 'No such IVR configuration version.');
      return { version: doc._id, config: doc.config as IvrConfig, createdAt: doc.createdAt.toISOString(), createdBy: doc.createdBy, note: doc.note };
    },

    /** Saves a new version on top of `baseVersion`; someone else's save in between is a conflict, not an overwrite. */
    async saveConfig(actor: StaffPrincipal, input: unknown): Promise<{ version: number }> {
      const { baseVersion, note, config: raw } = parseOrThrow(SaveIvrConfigInput, input);
      const config = validateConfig(raw);
      const latest = await Configs.findOne({}, { _id: 1 }, { sort: { _id: -1 } }).lean();
      const current = latest?._id ?? 0;
      const conflict = () => new ConflictError('ivr.config_changed', 'The IVR configuration was changed by someone else; reload it and apply your edit again.', { currentVersion: current });
      if (baseVersion !== current) throw conflict();
      const version = current + 1;
      try {
        await Configs.create({ _id: version, config, createdAt: clock(), createdBy: actorLabel(actor), note: note ?? null });
      } catch (error) {
        if (isDuplicateKey(error)) throw conflict();
        throw error;
      }
      cached = undefined;
      await audit.record({ actor, action: 'ivr.config_update', resource: { type: 'ivr_config', id: String(version) }, outcome: 'success', details: { baseVersion } });
      return { version };
    },

    // --- staff: calls -------------------------------------------------------------------------------

    /** Callers waiting for a rep, longest waiting first. Shows caller ids and names: audited. */
    async listWaiting(actor: StaffPrincipal): Promise<WaitingCallView[]> {
      const now = clock();
      const waiting = await Calls.find({ outcome: 'queued' }).sort({ 'queue.enqueuedAt': 1, _id: 1 }).limit(200).lean<CallRecordDoc[]>();
      const views = waiting.filter((r) => r.queue).map((r, i) => waitingView(r, i + 1, now));
      await audit.record({
        actor,
        action: 'call.waiting_list',
        resource: { type: 'call' },
        outcome: 'success',
        details: { count: views.length, customerIds: views.flatMap((v) => (v.customer ? [v.customer.id] : [])) },
      });
      return views;
    },

    async getCall(actor: StaffPrincipal, callSid: string) {
      if (!callSidSchema.safeParse(callSid).success) throw notFoundCall();
      const record = await Calls.findById(callSid).lean<CallRecordDoc>();
      if (!record) throw notFoundCall();
      await audit.record({ actor, action: 'call.read', resource: { type: 'call', id: callSid }, outcome: 'success', details: record.customerId ? { customerId: record.customerId } : {} });
      return {
        callSid: record._id,
        callerId: record.callerId,
        customer: record.customerId ? { id: record.customerId, name: record.customerName ?? '' } : null,
        language: record.language,
        tty: record.tty,
        recordingDeclined: record.recordingDeclined,
        startedAt: record.startedAt.toISOString(),
        endedAt: record.endedAt?.toISOString() ?? null,
        durationSeconds: record.durationSeconds,
        outcome: record.outcome,
        abandonedIn: record.abandonedIn,
        path: record.path.map((p) => ({ at: new Date(p.at).toISOString(), node: p.node, ...(p.input ? { input: p.input } : {}), ...(p.result ? { result: p.result } : {}) })),
        entered: record.entered,
        queue: record.queue
          ? { name: record.queue.name, enqueuedAt: new Date(record.queue.enqueuedAt).toISOString(), waitSeconds: record.queue.waitSeconds, result: record.queue.result, acceptedBy: record.queue.acceptedBy }
          : null,
        connected: record.connected ? { staffUserId: record.connected.staffUserId, durationSeconds: record.connected.durationSeconds } : null,
        callbackId: record.callbackId,
      };
    },

    /**
     * A rep takes a waiting call: mintdesk asks the phone network to dequeue it into the connect
     * TwiML, which dials the rep (recorded unless the caller declined). One rep per call.
     */
    async acceptCall(actor: StaffPrincipal, callSid: string, input: unknown): Promise<{ callSid: string; status: 'connecting'; target: { type: string; value: string } }> {
      const body = parseOrThrow(AcceptCallInput, input ?? {});
      if (!callSidSchema.safeParse(callSid).success) throw notFoundCall();
      const record = await Calls.findById(callSid).lean<CallRecordDoc>();
      if (!record) throw notFoundCall();
      if (record.outcome !== 'queued' || !record.queue) throw new ConflictError('ivr.call_not_waiting', 'This caller is no longer waiting.');
      const claim = `${redisPrefix}:ivr:accept:${callSid}`;
      if ((await redis.set(claim, actor.staffUserId, 'EX', 300, 'NX')) !== 'OK') {
        throw new ConflictError('ivr.call_already_accepted', 'Another representative has already taken this call.');
      }
      const target: { type: 'client' | 'number' | 'simulator'; value: string } = body.phone
        ? { type: 'number', value: body.phone }
        : { type: connector.mode === 'simulator' ? 'simulator' : 'client', value: `staff-${actor.staffUserId}` };
      const now = clock();
      try {
        await updateCall(callSid, (current) => (current.queue ? { queue: { ...current.queue, acceptedBy: actor.staffUserId, acceptedAt: now, target } } : undefined));
        await connector.dequeueToUrl({ callSid, queueSid: record.queue.sid, url: `${deps.publicBaseUrl}/ivr/queue/connect` });
      } catch (error) {
        await redis.del(claim);
        await updateCall(callSid, (current) => (current.queue ? { queue: { ...current.queue, acceptedBy: null, acceptedAt: null, target: null } } : undefined)).catch(() => undefined);
        logger.warn({ err: (error as Error).message, callSid }, 'could not connect a waiting call to a rep');
        await audit.record({ actor, action: 'call.accept', resource: { type: 'call', id: callSid }, outcome: 'failure', details: { code: 'ivr.connect_failed' } });
        throw new ServiceUnavailableError('ivr.connect_failed', 'The phone network did not take the call out of the queue; try again.', error);
      }
      await events.publish('call.connected', { callSid, staffUserId: actor.staffUserId });
      await audit.record({ actor, action: 'call.accept', resource: { type: 'call', id: callSid }, outcome: 'success', details: record.customerId ? { customerId: record.customerId } : {} });
      return { callSid, status: 'connecting', target };
    },

    // --- staff: callbacks ---------------------------------------------------------------------------

    async listCallbacks(actor: StaffPrincipal, query: unknown) {
      const q = parseOrThrow(CallbackListQuery, query ?? {});
      const filter = { status: q.status };
      const [total, docs] = await Promise.all([
        Callbacks.countDocuments(filter),
        Callbacks.find(filter)
          .sort({ requestedAt: 1, _id: 1 })
          .skip((q.page - 1) * q.pageSize)
          .limit(q.pageSize)
          .lean<CallbackDoc[]>(),
      ]);
      await audit.record({ actor, action: 'callback.list', resource: { type: 'callback' }, outcome: 'success', details: { status: q.status, count: docs.length, customerIds: docs.flatMap((d) => (d.customerId ? [d.customerId] : [])) } });
      return { items: docs.map(callbackView), page: q.page, pageSize: q.pageSize, total };
    },

    async claimCallback(actor: StaffPrincipal, id: string): Promise<CallbackView> {
      return withLock(redis, `${redisPrefix}:lock:ivr-callback:${id}`, async () => {
        const doc = await Callbacks.findById(id).lean<CallbackDoc>();
        if (!doc) throw new NotFoundError('callback', 'ivr.callback_not_found', 'No such callback request.');
        if (doc.status !== 'open' && doc.claimedBy !== actor.staffUserId) throw new ConflictError('ivr.callback_taken', 'Another representative has this callback.');
        const set = { status: 'claimed' as const, claimedBy: actor.staffUserId, claimedAt: clock() };
        await Callbacks.updateOne({ _id: id }, { $set: set });
        await audit.record({ actor, action: 'callback.claim', resource: { type: 'callback', id }, outcome: 'success', details: doc.customerId ? { customerId: doc.customerId } : {} });
        return callbackView({ ...doc, ...set });
      });
    },

    async completeCallback(actor: StaffPrincipal, id: string, input: unknown): Promise<CallbackView> {
      const body = parseOrThrow(CompleteCallbackInput, input ?? {});
      return withLock(redis, `${redisPrefix}:lock:ivr-callback:${id}`, async () => {
        const doc = await Callbacks.findById(id).lean<CallbackDoc>();
        if (!doc) throw new NotFoundError('callback', 'ivr.callback_not_found', 'No such callback request.');
        if (doc.status === 'completed') throw new ConflictError('ivr.callback_completed', 'This callback is already completed.');
        if (doc.status === 'claimed' && doc.claimedBy !== actor.staffUserId) throw new ConflictError('ivr.callback_taken', 'Another representative has this callback.');
        const set = { status: 'completed' as const, completedBy: actor.staffUserId, completedAt: clock(), result: body.result, note: body.note ?? null };
        await Callbacks.updateOne({ _id: id }, { $set: set });
        await audit.record({ actor, action: 'callback.complete', resource: { type: 'callback', id }, outcome: 'success', details: { result: body.result } });
        return callbackView({ ...doc, ...set });
      });
    },

    // --- reports ------------------------------------------------------------------------------------

    /** Per store-local day: calls per hour, containment, abandonment in queue, average wait. */
    async report(query: unknown): Promise<{ timeZone: string; from: string; to: string; days: DayReport[] }> {
      const q = parseOrThrow(ReportQuery, query ?? {});
      const { config } = await activeConfig();
      // One accumulator per aggregation: FerretDB 1.24 computes only the first accumulator of a
      // $group (the others come back 0), so each figure is its own small query.
      const figures = { calls: 1, ended: '$mEnded', selfServed: '$mSelfServed', queued: '$mQueued', abandonedInQueue: '$mAbandonedInQueue', connected: '$mConnected', callbacks: '$mCallback', waited: '$mWaited', waitSeconds: '$mWaitSeconds' } as const;
      type Figure = keyof typeof figures;
      const sums = await Promise.all(
        (Object.entries(figures) as [Figure, 1 | string][]).map(async ([figure, sum]) => {
          const grouped = (await Calls.aggregate([{ $match: { day: { $gte: q.from, $lte: q.to } } }, { $group: { _id: { day: '$day', hour: '$hour' }, value: { $sum: sum } } }])) as { _id: { day: string; hour: number }; value: number }[];
          return grouped.map((g) => ({ figure, day: g._id.day, hour: g._id.hour, value: g.value ?? 0 }));
        }),
      );
      const rows = sums.flat();
      const days: DayReport[] = [];
      for (let day = q.from; day <= q.to; day = nextDay(day)) {
        const mine = rows.filter((r) => r.day === day);
        const sum = (figure: Figure) => mine.reduce((total, r) => total + (r.figure === figure ? r.value : 0), 0);
        const callsPerHour = Array.from({ length: 24 }, (_, hour) => mine.reduce((t, r) => t + (r.figure === 'calls' && r.hour === hour ? r.value : 0), 0));
        const ended = sum('ended');
        const queued = sum('queued');
        const waited = sum('waited');
        days.push({
          date: day,
          calls: sum('calls'),
          callsPerHour,
          ended,
          selfServed: sum('selfServed'),
          containmentRate: ended ? round(sum('selfServed') / ended) : null,
          queued,
          abandonedInQueue: sum('abandonedInQueue'),
          abandonmentRate: queued ? round(sum('abandonedInQueue') / queued) : null,
          connected: sum('connected'),
          callbacks: sum('callbacks'),
          averageWaitSeconds: waited ? Math.round((sum('waitSeconds') / waited) * 10) / 10 : null,
        });
      }
      return { timeZone: config.hours.timeZone, from: q.from, to: q.to, days };
    },

    displayOrderNumber: formatOrderNumberForDisplay,
  };
}

/** MongoDB says E11000; FerretDB sometimes only says "duplicate key" in the message. */
function isDuplicateKey(error: unknown): boolean {
  return (error as { code?: number })?.code === 11000 || /duplicate key/i.test(String((error as Error)?.message));
}

function nextDay(day: string): string {
  const [y, m, d] = day.split('-').map(Number);
  return new Date(Date.UTC(y!, m! - 1, d! + 1)).toISOString().slice(0, 10);
}

function round(value: number): number {
  return Math.round(value * 1000) / 1000;
}

export type IvrService = ReturnType<typeof createIvrService>;

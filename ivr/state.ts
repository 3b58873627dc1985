import type { Redis } from 'ioredis';
import type { IvrLanguage } from '../api/ivr/schema.ts';
import type { PathStep } from '../api/ivr/model.ts';

/**
 * A live call's conversation state, kept in Redis between Twilio's webhooks (one JSON value per
 * call, expiring a few hours after the last request). The durable call record in Mongo is written
 * at milestones from this state; keeping the per-step state here keeps each webhook at two Redis
 * round trips. Twilio sends a call's flow requests one at a time, so a read-modify-write per
 * request does not race; status and queue callbacks only read it.
 *
 * Nothing here identifies an order by what the caller typed: an entered order number is resolved
 * to the order's internal id (or to "none") at once, and only a verified order's number is kept.
 */
export interface CallState {
  callSid: string;
  callerId: string;
  startedAt: string;
  lang: IvrLanguage | null;
  tty: boolean;
  /** The recording notice was played: only then may the rep leg be recorded. */
  noticeGiven: boolean;
  recordingDeclined: boolean;
  /** Wrong or missing entries in the current step. */
  misses: number;
  /** Failed order verifications (invalid number, or number and ZIP that do not match). */
  orderAttempts: number;
  /** After a check-digit-valid number: the order it names, or null when none does (not revealed until the ZIP step). */
  candidateOrderId?: string | null;
  /** Keyed reference of that entered number (for the path and logs). */
  candidateRef?: string | undefined;
  verifiedOrder?: { orderId: string; orderNumber: string };
  /** What "hear that again" repeats. */
  lastInfo?: string;
  callbackPhone?: { phone: string; source: 'caller_id' | 'entered' };
  /** Twilio's queue, once a wait request named it (or an earlier caller's did: see the flow's queue SIDs). */
  queueSid?: string;
  /** The queue the caller was last put in: whose SID a wait request names. */
  queueName?: string;
  /** Pressed the callback key while waiting: the Enqueue action sends the caller to the callback flow. */
  wantsCallback?: boolean;
  queued: boolean;
  selfServed: boolean;
  /** Steps not yet written to the call record. */
  pendingPath: PathStep[];
}

export interface CallStateStore {
  get(callSid: string): Promise<CallState | undefined>;
  save(state: CallState): Promise<void>;
  remove(callSid: string): Promise<void>;
}

const TTL_SECONDS = 6 * 3600;

export function createCallStateStore({ redis, prefix }: { redis: Redis; prefix: string }): CallStateStore {
  const key = (callSid: string) => `${prefix}:ivr:call:${callSid}`;
  return {
    async get(callSid) {
      const raw = await redis.get(key(callSid));
      if (!raw) return undefined;
      const state = JSON.parse(raw) as CallState;
      state.pendingPath = state.pendingPath.map((step) => ({ ...step, at: new Date(step.at) }));
      return state;
    },
    async save(state) {
      await redis.set(key(state.callSid), JSON.stringify(state), 'EX', TTL_SECONDS);
    },
    async remove(callSid) {
      await redis.del(key(callSid));
    },
  };
}

export function newCallState(callSid: string, callerId: string, now: Date): CallState {
  return {
    callSid,
    callerId,
    startedAt: now.toISOString(),
    lang: null,
    tty: false,
    noticeGiven: false,
    recordingDeclined: false,
    misses: 0,
    orderAttempts: 0,
    queued: false,
    selfServed: false,
    pendingPath: [],
  };
}

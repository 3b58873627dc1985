import type { Redis } from 'ioredis';
import type { SimulatedAuthorisation, SimulatedCapture } from './gateway.ts';
import { scanKeys } from '../../platform/redis-keys.ts';

/**
 * What the simulated processor remembers between calls. A real processor is one service every
 * mintdesk process talks to: the payment worker captures, the API process of a staff cancel
 * refunds. The Redis store gives the simulator that same single memory across processes; the
 * in-memory one serves unit tests. Never a PAN or CVV: only amounts, currency and last four.
 */
export interface SimulatedGatewayStore {
  saveAuthorisation(auth: SimulatedAuthorisation): Promise<void>;
  authorisation(authId: string): Promise<SimulatedAuthorisation | undefined>;
  /** Moves an authorisation out of `authorised`, atomically: false when it had already left it. */
  settleAuthorisation(authId: string, change: { state: 'captured'; captureId: string } | { state: 'voided'; voidedAt: Date }): Promise<boolean>;
  saveCapture(capture: SimulatedCapture): Promise<void>;
  capture(captureId: string): Promise<SimulatedCapture | undefined>;
  /** Adds a refund when it fits in what is left of the capture: the new refunded total, else undefined. */
  addRefund(captureId: string, amountCents: number): Promise<number | undefined>;
  snapshot(): Promise<{ authorisations: SimulatedAuthorisation[]; captures: SimulatedCapture[] }>;
}

export function createMemoryGatewayStore(): SimulatedGatewayStore {
  const authorisations = new Map<string, SimulatedAuthorisation>();
  const captures = new Map<string, SimulatedCapture>();
  return {
    async saveAuthorisation(auth) {
      authorisations.set(auth.authId, { ...auth });
    },
    async authorisation(authId) {
      const auth = authorisations.get(authId);
      return auth && { ...auth };
    },
    async settleAuthorisation(authId, change) {
      const auth = authorisations.get(authId);
      if (!auth || auth.state !== 'authorised') return false;
      Object.assign(auth, change);
      return true;
    },
    async saveCapture(capture) {
      captures.set(capture.captureId, { ...capture });
    },
    async capture(captureId) {
      const capture = captures.get(captureId);
      return capture && { ...capture };
    },
    async addRefund(captureId, amountCents) {
      const capture = captures.get(captureId);
      if (!capture || capture.refundedCents + amountCents > capture.amountCents) return undefined;
      capture.refundedCents += amountCents;
      return capture.refundedCents;
    },
    async snapshot() {
      return { authorisations: [...authorisations.values()].map((a) => ({ ...a })), captures: [...captures.values()].map((c) => ({ ...c })) };
    },
  };
}

// KEYS[1] the authorisation hash; ARGV: field/value pairs to set. Sets them only while authorised.
const SETTLE_AUTHORISATION = `
if redis.call('HGET', KEYS[1], 'state') ~= 'authorised' then return 0 end
redis.call('HSET', KEYS[1], unpack(ARGV))
return 1`;

// KEYS[1] the capture hash; ARGV[1] cents to refund. Refunds only what is left of the capture.
const ADD_REFUND = `
local amount = tonumber(redis.call('HGET', KEYS[1], 'amountCents'))
if not amount then return -1 end
local refunded = tonumber(redis.call('HGET', KEYS[1], 'refundedCents'))
local add = tonumber(ARGV[1])
if refunded + add > amount then return -1 end
return redis.call('HINCRBY', KEYS[1], 'refundedCents', add)`;

/** Simulated authorisations live as long as real ones would matter: a month. */
const TTL_SECONDS = 30 * 86_400;

export function createRedisGatewayStore({ redis, prefix }: { redis: Redis; prefix: string }): SimulatedGatewayStore {
  const authKey = (authId: string) => `${prefix}:auth:${authId}`;
  const captureKey = (captureId: string) => `${prefix}:capture:${captureId}`;

  const toAuthorisation = (hash: Record<string, string>): SimulatedAuthorisation | undefined =>
    hash.authId
      ? {
          authId: hash.authId,
          amountCents: Number(hash.amountCents),
          currency: hash.currency!,
          last4: hash.last4!,
          state: hash.state as SimulatedAuthorisation['state'],
          ...(hash.captureId ? { captureId: hash.captureId } : {}),
          ...(hash.voidedAt ? { voidedAt: new Date(hash.voidedAt) } : {}),
        }
      : undefined;
  const toCapture = (hash: Record<string, string>): SimulatedCapture | undefined =>
    hash.captureId
      ? { captureId: hash.captureId, authId: hash.authId!, amountCents: Number(hash.amountCents), currency: hash.currency!, refundedCents: Number(hash.refundedCents) }
      : undefined;

  async function scanAll<T>(pattern: string, read: (hash: Record<string, string>) => T | undefined): Promise<T[]> {
    const found: T[] = [];
    for await (const keys of scanKeys(redis, pattern)) {
      for (const key of keys) {
        const value = read(await redis.hgetall(key));
        if (value) found.push(value);
      }
    }
    return found;
  }

  async function saveHash(key: string, fields: Record<string, string | number>): Promise<void> {
    await redis.multi().hset(key, fields).expire(key, TTL_SECONDS).exec();
  }

  return {
    async saveAuthorisation(auth) {
      await saveHash(authKey(auth.authId), { authId: auth.authId, amountCents: auth.amountCents, currency: auth.currency, last4: auth.last4, state: auth.state });
    },
    async authorisation(authId) {
      return toAuthorisation(await redis.hgetall(authKey(authId)));
    },
    async settleAuthorisation(authId, change) {
      const fields = change.state === 'captured' ? ['state', 'captured', 'captureId', change.captureId] : ['state', 'voided', 'voidedAt', change.voidedAt.toISOString()];
      return (await redis.eval(SETTLE_AUTHORISATION, 1, authKey(authId), ...fields)) === 1;
    },
    async saveCapture(capture) {
      await saveHash(captureKey(capture.captureId), {
        captureId: capture.captureId,
        authId: capture.authId,
        amountCents: capture.amountCents,
        currency: capture.currency,
        refundedCents: capture.refundedCents,
      });
    },
    async capture(captureId) {
      return toCapture(await redis.hgetall(captureKey(captureId)));
    },
    async addRefund(captureId, amountCents) {
      const total = Number(await redis.eval(ADD_REFUND, 1, captureKey(captureId), amountCents));
      return total < 0 ? undefined : total;
    },
    async snapshot() {
      return { authorisations: await scanAll(`${prefix}:auth:*`, toAuthorisation), captures: await scanAll(`${prefix}:capture:*`, toCapture) };
    },
  };
}

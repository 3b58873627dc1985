import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';
import { AppError, ServiceUnavailableError, ValidationError } from '../../platform/errors.ts';
import type { SignalRequirements } from '../../api/fraud/engine.ts';
import type { FraudSignals, OrderFacts, VelocitySignal, WindowedCount } from '../../api/fraud/facts.ts';
import { normalizeIp } from './geoip.ts';
import { assertFraudSecret, keyedDigest, normalizeEmail, normalizeHouseholdKey, type FraudSecret } from '../../api/fraud/high-risk.ts';
import { MAX_WINDOW_SECONDS, VELOCITY_DIMENSIONS, type VelocityDimension } from '../../api/fraud/rules-schema.ts';

/**
 * Sliding-window counters for fraud rules, in Redis sorted sets (score = event time in ms).
 *
 * - Velocity sets hold one member per event id (the order id) and keep the first time seen, so a
 *   retried job records nothing new and an order is counted once however often it is scored.
 * - Distinct sets (cards per customer, recipient names per household) hold one member per value
 *   and keep the latest time seen, so "distinct in the last N days" is a ZCOUNT.
 *
 * Writes go through one Lua script (add, prune, expire, and optionally count) so that concurrent
 * orders on the same key each see a consistent set including themselves. Keys and set members are
 * keyed hashes (HMAC-SHA256), never the raw email, IP, card token, address or name: a plain SHA-256
 * of an IPv4 address or a common email is reversed by brute force in minutes.
 */

export type DistinctSet = 'customer_cards' | 'household_names';

/** Only the commands used, so a Cluster client or a test double fits too. */
export type VelocityRedis = Pick<Redis, 'eval' | 'evalsha' | 'zcount'>;

export interface VelocityTrackerOptions {
  redis: VelocityRedis;
  /** Every key starts with this (tests pass a unique one per suite). */
  prefix: string;
  /** HMAC key for key/member hashing, at least 32 bytes; rotating it restarts all windows from empty. */
  secret: FraudSecret;
  /** Used for pruning and as the default event/count time. */
  clock?: () => Date;
  /**
   * How long history is kept (and key TTL). Must cover the longest rule window; defaults to the
   * longest window the rule schema allows so any valid rule set is served.
   */
  retentionSeconds?: number;
}

export interface RecordResult {
  /** False when this event (or, for distinct sets, this value) was already in the set. */
  added: boolean;
  /** One per requested window, in the order requested. */
  counts: number[];
}

export interface VelocityTracker {
  /** Records one event; idempotent per (dimension, key, eventId). */
  record(dimension: VelocityDimension, key: string, eventId: string, at?: Date): Promise<boolean>;
  /** Records then counts atomically, events in (at - window, at] for each window. */
  recordAndCount(dimension: VelocityDimension, key: string, eventId: string, at: Date, windowsSeconds: readonly number[]): Promise<RecordResult>;
  /** Events in (at - window, at]; `at` defaults to the clock. */
  count(dimension: VelocityDimension, key: string, windowSeconds: number, at?: Date): Promise<number>;
  /** Adds `value` to the owner's distinct set, or refreshes its last-seen time. */
  recordDistinct(set: DistinctSet, owner: string, value: string, at?: Date): Promise<boolean>;
  recordDistinctAndCount(set: DistinctSet, owner: string, value: string, at: Date, windowsSeconds: readonly number[]): Promise<RecordResult>;
  /** Distinct values last seen after (at - window); `at` defaults to the clock. */
  countDistinct(set: DistinctSet, owner: string, windowSeconds: number, at?: Date): Promise<number>;
}

/**
 * Hard cap per set. A flood on one key (card testing from one IP) cannot grow a set without
 * bound; the cap is above the largest limit any rule may set (10 000), so a capped count still fires.
 */
export const MAX_SET_MEMBERS = 10_001;

// KEYS[1] sorted set
// ARGV[1] member  ARGV[2] score (ms)  ARGV[3] 'first' | 'latest'  ARGV[4] prune below (ms)
// ARGV[5] ttl (ms)  ARGV[6] max members  ARGV[7] count upper bound  ARGV[8..] count lower bounds
// Returns { added, count per lower bound }.
const RECORD_SCRIPT = `
local key = KEYS[1]
local score = tonumber(ARGV[2])
local existing = redis.call('ZSCORE', key, ARGV[1])
local added = 0
if not existing then
  redis.call('ZADD', key, score, ARGV[1])
  added = 1
elseif ARGV[3] == 'latest' and tonumber(existing) < score then
  redis.call('ZADD', key, score, ARGV[1])
end
redis.call('ZREMRANGEBYSCORE', key, '-inf', '(' .. ARGV[4])
redis.call('ZREMRANGEBYRANK', key, 0, -(tonumber(ARGV[6]) + 1))
local ttl = tonumber(ARGV[5])
if redis.call('PTTL', key) < ttl then
  redis.call('PEXPIRE', key, ttl)
end
local result = { added }
for i = 8, #ARGV do
  result[#result + 1] = redis.call('ZCOUNT', key, ARGV[i], ARGV[7])
end
return result
`;
const RECORD_SCRIPT_SHA = createHash('sha1').update(RECORD_SCRIPT).digest('hex');

export function createVelocityTracker(options: VelocityTrackerOptions): VelocityTracker {
  const { redis, secret } = options;
  const clock = options.clock ?? (() => new Date());
  const retentionSeconds = options.retentionSeconds ?? MAX_WINDOW_SECONDS;
  assertFraudSecret(secret);
  if (options.prefix === '') throw new AppError('internal', 'fraud.prefix_required', 'The velocity tracker needs a key prefix.');
  if (!Number.isInteger(retentionSeconds) || retentionSeconds <= 0) {
    throw new AppError('internal', 'fraud.retention_invalid', 'retentionSeconds must be a positive integer.');
  }
  const base = options.prefix.endsWith(':') ? options.prefix : `${options.prefix}:`;
  const retentionMs = retentionSeconds * 1000;

  const velocityKey = (dimension: VelocityDimension, key: string) =>
    `${base}fraud:vel:${dimension}:${keyedDigest(secret, `velocity.${dimension}`, required(normalizeDimensionKey(dimension, key), 'key'))}`;
  const distinctKey = (set: DistinctSet, owner: string) =>
    `${base}fraud:set:${set}:${keyedDigest(secret, `distinct.${set}.owner`, required(normalizeOwner(set, owner), 'owner'))}`;
  const distinctMember = (set: DistinctSet, value: string) =>
    keyedDigest(secret, `distinct.${set}.value`, required(normalizeDistinctValue(set, value), 'value'));

  function checkWindow(windowSeconds: number): number {
    if (!Number.isInteger(windowSeconds) || windowSeconds <= 0) {
      throw new AppError('internal', 'fraud.window_invalid', `Window ${windowSeconds}s is not a positive integer.`);
    }
    // Counting past retention would silently under-count: history older than that is gone.
    if (windowSeconds > retentionSeconds) {
      throw new AppError('internal', 'fraud.window_exceeds_retention', `Window ${windowSeconds}s exceeds retention ${retentionSeconds}s.`);
    }
    return windowSeconds * 1000;
  }

  async function runScript(key: string, member: string, at: Date, mode: 'first' | 'latest', upper: string, windowsSeconds: readonly number[]): Promise<RecordResult> {
    const atMs = timeOf(at);
    const nowMs = clock().getTime();
    const lowers = windowsSeconds.map((w) => `(${atMs - checkWindow(w)}`);
    // Keep a key at least `retention` past its newest event, even one timestamped ahead of now.
    const ttlMs = retentionMs + Math.max(0, atMs - nowMs);
    const args = [member, String(atMs), mode, String(nowMs - retentionMs), String(ttlMs), String(MAX_SET_MEMBERS), upper, ...lowers];
    let reply: unknown;
    try {
      try {
        reply = await redis.evalsha(RECORD_SCRIPT_SHA, 1, key, ...args);
      } catch (error) {
        // First use on this server (or after SCRIPT FLUSH): send the body once, Redis caches it.
        if (!(error instanceof Error && error.message.startsWith('NOSCRIPT'))) throw error;
        reply = await redis.eval(RECORD_SCRIPT, 1, key, ...args);
      }
    } catch (error) {
      throw new ServiceUnavailableError('fraud.velocity_unavailable', 'The fraud velocity store is unavailable.', error);
    }
    const [added, ...counts] = reply as number[];
    return { added: added === 1, counts };
  }

  async function zcount(key: string, min: string, max: string): Promise<number> {
    try {
      return await redis.zcount(key, min, max);
    } catch (error) {
      throw new ServiceUnavailableError('fraud.velocity_unavailable', 'The fraud velocity store is unavailable.', error);
    }
  }

  return {
    async record(dimension, key, eventId, at = clock()) {
      return (await runScript(velocityKey(dimension, key), required(eventId, 'eventId'), at, 'first', '+inf', [])).added;
    },
    recordAndCount(dimension, key, eventId, at, windowsSeconds) {
      return runScript(velocityKey(dimension, key), required(eventId, 'eventId'), at, 'first', String(timeOf(at)), windowsSeconds);
    },
    count(dimension, key, windowSeconds, at = clock()) {
      const atMs = timeOf(at);
      return zcount(velocityKey(dimension, key), `(${atMs - checkWindow(windowSeconds)}`, String(atMs));
    },
    async recordDistinct(set, owner, value, at = clock()) {
      return (await runScript(distinctKey(set, owner), distinctMember(set, value), at, 'latest', '+inf', [])).added;
    },
    // Distinct sets keep only the latest sighting, so the upper bound is open: a value seen both
    // before and after `at` is still one the owner used within the window.
    recordDistinctAndCount(set, owner, value, at, windowsSeconds) {
      return runScript(distinctKey(set, owner), distinctMember(set, value), at, 'latest', '+inf', windowsSeconds);
    },
    countDistinct(set, owner, windowSeconds, at = clock()) {
      return zcount(distinctKey(set, owner), `(${timeOf(at) - checkWindow(windowSeconds)}`, '+inf');
    },
  };
}

function timeOf(at: Date): number {
  const ms = at.getTime();
  if (!Number.isFinite(ms)) throw new AppError('internal', 'fraud.time_invalid', 'Event time is not a valid date.');
  return ms;
}

function required(value: string, field: string): string {
  // An empty key would pool every order lacking that value into one hot bucket.
  if (value.trim() === '') throw new ValidationError(`The velocity ${field} is empty.`, [{ path: field, code: 'required', message: 'This field is required.' }]);
  return value;
}

/** Folds case, punctuation and spacing so trivial variants of a name or address count as one. */
function foldText(value: string): string {
  return normalizeHouseholdKey(value);
}

/**
 * IPv4 counts per address. IPv6 counts per /64: one subscriber line usually gets a whole /64 and
 * privacy extensions rotate the low bits, so per-address counting would never accumulate.
 */
export function ipVelocityKey(ip: string): string {
  const normalized = normalizeIp(ip);
  if (!normalized) return ip.trim().toLowerCase();
  if (normalized.version === 4) return normalized.address;
  return `${normalized.groups.slice(0, 4).join(':')}::/64`;
}

function normalizeDimensionKey(dimension: VelocityDimension, key: string): string {
  switch (dimension) {
    case 'card':
      return key.trim();
    case 'email':
      return normalizeEmail(key);
    case 'ip':
      return ipVelocityKey(key);
    case 'household':
      return normalizeHouseholdKey(key);
  }
}

function normalizeOwner(set: DistinctSet, owner: string): string {
  return set === 'household_names' ? normalizeHouseholdKey(owner) : owner.trim();
}

function normalizeDistinctValue(set: DistinctSet, value: string): string {
  return set === 'household_names' ? foldText(value) : value.trim();
}

/**
 * The card identity used for velocity and distinct-card counts: the gateway fingerprint when
 * present (stable across tokens of one card), else the token.
 */
export function cardKeyOf(facts: Pick<OrderFacts, 'cardToken' | 'cardFingerprint'>): string {
  const fingerprint = facts.cardFingerprint?.trim();
  return fingerprint ? fingerprint : facts.cardToken;
}

/** Raw keys per velocity dimension for an order; blanks are dropped, households deduplicated. */
export function velocityKeysForOrder(facts: OrderFacts): Record<VelocityDimension, string[]> {
  const households = new Map<string, string>();
  for (const shipment of facts.shipping) {
    const folded = normalizeHouseholdKey(shipment.householdKey);
    if (folded !== '' && !households.has(folded)) households.set(folded, shipment.householdKey);
  }
  const nonBlank = (value: string | undefined) => (value !== undefined && value.trim() !== '' ? [value] : []);
  return {
    card: nonBlank(cardKeyOf(facts)),
    email: nonBlank(facts.email),
    ip: nonBlank(facts.ip),
    household: [...households.values()],
  };
}

/**
 * Records an order in every window set and returns the counts the rule set needs, measured at
 * `facts.placedAt`. Every dimension is recorded even when no enabled rule reads it, so a rule
 * enabled later starts with history. Safe to repeat for the same order (job retries).
 */
export async function trackOrder(
  tracker: VelocityTracker,
  facts: OrderFacts,
  requirements: SignalRequirements,
): Promise<Required<Pick<FraudSignals, 'velocity' | 'distinctCards' | 'householdNames'>>> {
  const at = facts.placedAt;
  const keys = velocityKeysForOrder(facts);

  const velocityTask = Promise.all(
    VELOCITY_DIMENSIONS.map(async (dimension): Promise<VelocitySignal[]> => {
      const windows = requirements.velocity.filter((v) => v.dimension === dimension).map((v) => v.windowSeconds);
      const results = await Promise.all(keys[dimension].map((key) => tracker.recordAndCount(dimension, key, facts.orderId, at, windows)));
      // No key (no IP on a phone order): no signal, and the engine treats the rule as not applicable.
      if (results.length === 0) return [];
      return windows.map((windowSeconds, i) => ({ dimension, windowSeconds, count: highest(results, i) }));
    }),
  );

  const cardDays = requirements.distinctCardWindowsDays;
  const cardTask: Promise<WindowedCount[]> =
    facts.customerId !== undefined && facts.customerId.trim() !== ''
      ? tracker
          .recordDistinctAndCount('customer_cards', facts.customerId, cardKeyOf(facts), at, cardDays.map(daysToSeconds))
          .then((result) => cardDays.map((windowDays, i) => ({ windowDays, count: result.counts[i] ?? 0 })))
      : Promise.resolve([]);

  const nameDays = requirements.householdNameWindowsDays;
  const nameTask = Promise.all(
    facts.shipping
      .filter((s) => s.householdKey.trim() !== '' && s.recipientNameKey.trim() !== '')
      .map((s) => tracker.recordDistinctAndCount('household_names', s.householdKey, s.recipientNameKey, at, nameDays.map(daysToSeconds))),
  ).then((results): WindowedCount[] => (results.length === 0 ? [] : nameDays.map((windowDays, i) => ({ windowDays, count: highest(results, i) }))));

  const [velocity, distinctCards, householdNames] = await Promise.all([velocityTask, cardTask, nameTask]);
  return { velocity: velocity.flat(), distinctCards, householdNames };
}

function highest(results: readonly RecordResult[], index: number): number {
  return Math.max(0, ...results.map((r) => r.counts[index] ?? 0));
}

function daysToSeconds(days: number): number {
  return days * 86_400;
}

import { createHash, randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import { z } from 'zod';
import { ConflictError, ForbiddenError, NotFoundError, parseOrThrow } from '../../platform/errors.ts';
import { createSignedTokens } from '../../platform/signed-tokens.ts';
import type { WaitingRoomStats, WaitingRoomStatus } from './schema.ts';

/**
 * Virtual waiting room for launches. Visitors wait in one Redis sorted set per room:
 *
 * - Fairness: anyone who joins before `opensAt` gets a uniformly random score in [0, 1) at join
 *   time (drawn with node:crypto, not Lua's seeded math.random). Independent uniform scores give
 *   a uniformly random order among all early arrivals, so arriving at 8:59:59 is no worse than at
 *   8:00, and bots hammering the page before opening gain nothing. The order is final at the
 *   opening, which is why positions are only shown from then on.
 * - Visitors joining at or after `opensAt` get score 1 + n, n from a counter incremented in the
 *   same script, so they queue behind every early arrival in arrival order.
 * - Joining again (ZADD only when absent) keeps the first place.
 * - Admission needs no ticker: `floor(elapsedSeconds * admitPerSecond)` people at the front of
 *   the line are admitted, computed on read. Places are fixed, so admission is monotonic. Places
 *   of visitors who walked away are still "admitted" and simply unused: the rate is a ceiling on
 *   the checkout load, not a promise of throughput.
 * - Admitted visitors get an HMAC-signed, short-lived token that checkout verifies without a
 *   Redis round-trip; polling status again issues a fresh one.
 *
 * A visitor id must be something a visitor cannot mint at will (a signed session cookie), or one
 * person could join the lottery many times.
 */

export interface WaitingRoomServiceDeps {
  redis: Redis;
  prefix: string;
  clock?: () => Date;
  /** HMAC key for admission tokens, at least 32 bytes; every API instance needs the same one. */
  secret: string | Buffer;
  /** Lifetime of an admission token. Default 15 minutes. */
  admissionTtlMs?: number;
  /** Room keys expire this long after opensAt. Default 3 days. */
  retainAfterOpenMs?: number;
}

export interface OpenRoomInput {
  roomId: string;
  opensAt: Date;
  admitPerSecond: number;
}

export interface AdmissionClaims {
  roomId: string;
  visitorId: string;
  expiresAt: Date;
}

export interface WaitingRoomService {
  /** Creates the room, or reschedules it while it has not opened yet. Same settings again is a no-op. */
  openRoom(input: OpenRoomInput): Promise<void>;
  join(roomId: string, visitorId: string): Promise<WaitingRoomStatus>;
  status(roomId: string, visitorId: string): Promise<WaitingRoomStatus>;
  /** Returns the claims of a valid token for this room; throws ForbiddenError otherwise. */
  verifyAdmission(roomId: string, token: string, options?: { visitorId?: string }): AdmissionClaims;
  roomStats(roomId: string): Promise<WaitingRoomStats>;
  /** Deletes the room and its line. Tokens already issued stay valid until they expire. */
  closeRoom(roomId: string): Promise<void>;
}

const roomIdSchema = z.string().regex(/^[A-Za-z0-9._:-]{1,128}$/, 'Use 1-128 letters, digits, ".", "_", ":" or "-".');
const visitorIdSchema = z.string().min(1).max(128);
const openRoomSchema = z.strictObject({
  roomId: roomIdSchema,
  opensAt: z.date().refine((d) => !Number.isNaN(d.getTime()), 'Invalid date.'),
  admitPerSecond: z.number().positive().max(1_000_000),
});

/** What an admission token carries (platform/signed-tokens.ts adds the expiry). */
const AdmissionTokenClaims = z.strictObject({ roomId: z.string(), visitorId: z.string() });
// Tolerates float rounding in elapsed * rate so a visitor is admitted exactly at their second.
const EPSILON = 1e-9;

interface LuaScript {
  source: string;
  sha: string;
}
function script(source: string): LuaScript {
  return { source, sha: createHash('sha1').update(source).digest('hex') };
}

/**
 * KEYS[1] meta, KEYS[2] queue. ARGV: opensAt, admitPerSecond, now, ttlMs.
 * Returns 'created' | 'same' | 'rescheduled' | 'already_open'.
 */
const OPEN_ROOM = script(`
local cur = redis.call('HMGET', KEYS[1], 'opensAt', 'admitPerSecond')
local code = 'created'
if cur[1] then
  if cur[1] == ARGV[1] and cur[2] == ARGV[2] then return 'same' end
  if tonumber(ARGV[3]) >= tonumber(cur[1]) then return 'already_open' end
  code = 'rescheduled'
end
redis.call('HSET', KEYS[1], 'opensAt', ARGV[1], 'admitPerSecond', ARGV[2])
redis.call('PEXPIRE', KEYS[1], ARGV[4])
if redis.call('EXISTS', KEYS[2]) == 1 then redis.call('PEXPIRE', KEYS[2], ARGV[4]) end
return code
`);

/**
 * KEYS[1] meta, KEYS[2] queue. ARGV: visitorId, now, lotteryScore.
 * Returns {'ok', opensAt, admitPerSecond, rank} or {'no_room'}.
 */
const JOIN = script(`
local meta = redis.call('HMGET', KEYS[1], 'opensAt', 'admitPerSecond')
if not meta[1] then return {'no_room'} end
local rank = redis.call('ZRANK', KEYS[2], ARGV[1])
if not rank then
  if tonumber(ARGV[2]) < tonumber(meta[1]) then
    redis.call('ZADD', KEYS[2], ARGV[3], ARGV[1])
    redis.call('HINCRBY', KEYS[1], 'early', 1)
  else
    local seq = redis.call('HINCRBY', KEYS[1], 'seq', 1)
    redis.call('ZADD', KEYS[2], 1 + seq, ARGV[1])
  end
  local ttl = redis.call('PTTL', KEYS[1])
  if ttl > 0 then redis.call('PEXPIRE', KEYS[2], ttl) end
  rank = redis.call('ZRANK', KEYS[2], ARGV[1])
end
return {'ok', meta[1], meta[2], rank}
`);

async function runScript(redis: Redis, lua: LuaScript, keys: string[], args: (string | number)[]): Promise<unknown> {
  try {
    return await redis.evalsha(lua.sha, keys.length, ...keys, ...args);
  } catch (error) {
    if (error instanceof Error && error.message.includes('NOSCRIPT')) return redis.eval(lua.source, keys.length, ...keys, ...args);
    throw error;
  }
}

export function createWaitingRoomService(deps: WaitingRoomServiceDeps): WaitingRoomService {
  const { redis } = deps;
  const clock = deps.clock ?? (() => new Date());
  const secret = typeof deps.secret === 'string' ? Buffer.from(deps.secret, 'utf8') : deps.secret;
  if (secret.length < 32) throw new Error('Waiting room secret must be at least 32 bytes.');
  const admissionTtlMs = deps.admissionTtlMs ?? 15 * 60 * 1000;
  const retainAfterOpenMs = deps.retainAfterOpenMs ?? 3 * 24 * 60 * 60 * 1000;
  const metaKey = (roomId: string) => `${deps.prefix}wr:{${roomId}}:meta`;
  const queueKey = (roomId: string) => `${deps.prefix}wr:{${roomId}}:queue`;

  const admissionTokens = createSignedTokens(secret, { purpose: 'waiting-room-admission', claims: AdmissionTokenClaims, maxLength: 512 });

  function issueToken(roomId: string, visitorId: string, now: number): { token: string; expiresAt: Date } {
    const expiresAt = new Date(now + admissionTtlMs);
    return { token: admissionTokens.sign({ roomId, visitorId }, { expiresAt }), expiresAt };
  }

  function buildStatus(roomId: string, visitorId: string, opensAtMs: number, rate: number, rank: number | null): WaitingRoomStatus {
    const now = clock().getTime();
    const opensAt = new Date(opensAtMs).toISOString();
    if (rank === null) return { state: 'unknown', position: null, aheadOfYou: null, estimatedWaitSeconds: null, opensAt };
    if (now < opensAtMs) {
      return { state: 'not_open', position: null, aheadOfYou: null, estimatedWaitSeconds: Math.ceil((opensAtMs - now) / 1000), opensAt };
    }
    const position = rank + 1;
    const admitted = admittedCount(opensAtMs, rate, now);
    if (position <= admitted) {
      const { token, expiresAt } = issueToken(roomId, visitorId, now);
      return {
        state: 'admitted',
        position,
        aheadOfYou: 0,
        estimatedWaitSeconds: 0,
        opensAt,
        admissionToken: token,
        admissionExpiresAt: expiresAt.toISOString(),
      };
    }
    const admittedAtMs = opensAtMs + (position * 1000) / rate;
    return {
      state: 'waiting',
      position,
      aheadOfYou: position - 1 - admitted,
      estimatedWaitSeconds: Math.max(1, Math.ceil((admittedAtMs - now) / 1000)),
      opensAt,
    };
  }

  async function openRoom(input: OpenRoomInput): Promise<void> {
    const { roomId, opensAt, admitPerSecond } = parseOrThrow(openRoomSchema, input);
    const now = clock().getTime();
    const ttlMs = Math.max(60_000, opensAt.getTime() + retainAfterOpenMs - now);
    const code = await runScript(redis, OPEN_ROOM, [metaKey(roomId), queueKey(roomId)], [opensAt.getTime(), String(admitPerSecond), now, ttlMs]);
    if (code === 'already_open') {
      throw new ConflictError('waiting_room.already_open', 'This room has opened; its schedule and rate can no longer change.', { roomId });
    }
  }

  async function join(roomId: string, visitorId: string): Promise<WaitingRoomStatus> {
    parseOrThrow(roomIdSchema, roomId);
    parseOrThrow(visitorIdSchema, visitorId);
    // 48 random bits: a tie is vanishingly rare, and a tie still yields distinct ranks (ZSET
    // breaks ties by member), just not a random order between those two.
    const lotteryScore = randomBytes(6).readUIntBE(0, 6) / 2 ** 48;
    const reply = (await runScript(redis, JOIN, [metaKey(roomId), queueKey(roomId)], [visitorId, clock().getTime(), lotteryScore])) as [
      string,
      string?,
      string?,
      number?,
    ];
    if (reply[0] === 'no_room') throw new NotFoundError('waiting_room', 'waiting_room.not_found', 'No such waiting room.');
    return buildStatus(roomId, visitorId, Number(reply[1]), Number(reply[2]), Number(reply[3]));
  }

  async function status(roomId: string, visitorId: string): Promise<WaitingRoomStatus> {
    parseOrThrow(roomIdSchema, roomId);
    parseOrThrow(visitorIdSchema, visitorId);
    const result = await redis.multi().hmget(metaKey(roomId), 'opensAt', 'admitPerSecond').zrank(queueKey(roomId), visitorId).exec();
    const [metaReply, rankReply] = result ?? [];
    const [opensAt, rate] = (metaReply?.[1] ?? []) as (string | null)[];
    if (!opensAt || !rate) return { state: 'unknown', position: null, aheadOfYou: null, estimatedWaitSeconds: null, opensAt: null };
    const rank = rankReply?.[1];
    return buildStatus(roomId, visitorId, Number(opensAt), Number(rate), rank === null || rank === undefined ? null : Number(rank));
  }

  function verifyAdmission(roomId: string, token: string, options: { visitorId?: string } = {}): AdmissionClaims {
    const invalid = () => new ForbiddenError('waiting_room.admission_invalid', 'Your place in the waiting room could not be verified.');
    const verified = admissionTokens.verify(token, clock());
    // Admission tokens are always issued with an expiry; one without is not ours.
    if (verified.status === 'invalid' || verified.expiresAt === null) throw invalid();
    // Another room's or another visitor's token is invalid here, expired or not.
    if (verified.claims.roomId !== roomId) throw invalid();
    if (options.visitorId !== undefined && verified.claims.visitorId !== options.visitorId) throw invalid();
    if (verified.status === 'expired') {
      throw new ForbiddenError('waiting_room.admission_expired', 'Your admission has expired; return to the waiting room page to refresh it.');
    }
    return { roomId, visitorId: verified.claims.visitorId, expiresAt: verified.expiresAt };
  }

  async function roomStats(roomId: string): Promise<WaitingRoomStats> {
    parseOrThrow(roomIdSchema, roomId);
    const result = await redis.multi().hmget(metaKey(roomId), 'opensAt', 'admitPerSecond', 'early').zcard(queueKey(roomId)).exec();
    const [metaReply, cardReply] = result ?? [];
    const [opensAt, rate, early] = (metaReply?.[1] ?? []) as (string | null)[];
    if (!opensAt || !rate) throw new NotFoundError('waiting_room', 'waiting_room.not_found', 'No such waiting room.');
    const now = clock().getTime();
    const joined = Number(cardReply?.[1] ?? 0);
    const admitted = Math.min(joined, admittedCount(Number(opensAt), Number(rate), now));
    return {
      roomId,
      opensAt: new Date(Number(opensAt)).toISOString(),
      admitPerSecond: Number(rate),
      open: now >= Number(opensAt),
      joined,
      earlyArrivals: Number(early ?? 0),
      admitted,
      waiting: joined - admitted,
    };
  }

  async function closeRoom(roomId: string): Promise<void> {
    parseOrThrow(roomIdSchema, roomId);
    await redis.del(metaKey(roomId), queueKey(roomId));
  }

  return { openRoom, join, status, verifyAdmission, roomStats, closeRoom };
}

function admittedCount(opensAtMs: number, rate: number, now: number): number {
  if (now < opensAtMs) return 0;
  return Math.floor(((now - opensAtMs) * rate) / 1000 + EPSILON);
}

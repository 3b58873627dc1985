import { createHash } from 'node:crypto';
import type { LuaScript } from '../inventory/lua.ts';

/**
 * Chat's hot counters. Key layout (`B` = `${prefix}:chat{c}:`):
 *   B..'s:'..sessionId       hash  state, agent, agentFirst, visitor (first name), task, seq,
 *                                  vd/vr (visitor delivered/read: highest seq of staff messages),
 *                                  ad/ar (agent delivered/read: highest seq of visitor messages), last
 *   B..'s:'..sessionId..':sup'  set   supervisors who barged in
 *   B..'cid:'..dedupeKey     string   seq given to a client message id (a resend gets the same answer)
 */
function script(name: string, source: string): LuaScript {
  return { name, source, sha: createHash('sha1').update(source).digest('hex') };
}

/**
 * The next seq of a session for a new client message id, or the seq it already got.
 * ARGV: B, sessionId, dedupeKey, allowAfterEnd (1/0). Returns {1, seq} new, {0, seq} repeat, {-1} ended, {-2} no session.
 */
export const ASSIGN_SEQ = script(
  'chat:seq',
  `
local B, sid, dedupe, allow = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
local sk = B .. 's:' .. sid
local state = redis.call('HGET', sk, 'state')
if not state then return { -2, 0 } end
local ck = B .. 'cid:' .. dedupe
local existing = redis.call('GET', ck)
if existing then return { 0, tonumber(existing) } end
if state == 'ended' and allow ~= '1' then return { -1, 0 } end
local seq = redis.call('HINCRBY', sk, 'seq', 1)
redis.call('SET', ck, seq, 'EX', 172800)
return { 1, seq }`,
);

/** Raises delivered/read marks (never lowers them; read implies delivered). ARGV: key, dField, dValue, rField, rValue. Returns 1 if anything moved. */
export const RECEIPT = script(
  'chat:receipt',
  `
local key, df, dv, rf, rv = ARGV[1], ARGV[2], tonumber(ARGV[3]), ARGV[4], tonumber(ARGV[5])
local seq = tonumber(redis.call('HGET', key, 'seq') or '0')
if dv > seq then dv = seq end
if rv > seq then rv = seq end
if rv > dv then dv = rv end
local changed = 0
if dv > tonumber(redis.call('HGET', key, df) or '0') then redis.call('HSET', key, df, dv) changed = 1 end
if rv > tonumber(redis.call('HGET', key, rf) or '0') then redis.call('HSET', key, rf, rv) changed = 1 end
return changed`,
);

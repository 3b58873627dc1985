import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';

/**
 * Inventory scripts. Every rule that reads a counter and then writes one runs inside a single
 * Lua script, because Redis runs a script to completion before serving any other command: that
 * is the whole reason stock and household counts live here and not in FerretDB, whose
 * single-document updates are not atomic under concurrency.
 *
 * Key layout (`B` is `${prefix}{inv}:`, passed to every script as the first ARGV):
 *   B..'stock:'..sku   string   units still available to reserve (never below zero)
 *   B..'held:'..sku    hash     householdKey -> units reserved + sold to that household
 *   B..'held:'..sku..':rebuild:'..uuid   the next held hash while reconcile writes it
 *   B..'open:'..sku    hash     reservationId -> quantity, for open (uncommitted) reservations
 *   B..'res:'..id      hash     status, household, lines (JSON), createdAt, expiresAt, ...
 *   B..'expiry'        zset     open reservationId scored by expiresAt (ms)
 *
 * Release, expiry and reconcile derive keys from a reservation's stored lines, so not every key
 * is passed in KEYS. All keys carry the same `{inv}` hash tag (or the prefix's own tag, which
 * comes first), so they share one cluster slot and the scripts stay valid on a cluster. For the
 * same reason the ioredis `keyPrefix` option must not be used with these scripts: derived keys
 * would not get it. Use the service's `prefix` instead.
 *
 * Times are passed in (ms since epoch) rather than read with TIME so the service clock can be
 * injected and so that scripts stay deterministic.
 */

export interface LuaScript {
  readonly name: string;
  readonly source: string;
  readonly sha: string;
}

function script(name: string, source: string): LuaScript {
  return { name, source, sha: createHash('sha1').update(source).digest('hex') };
}

/**
 * EVALSHA, falling back to EVAL when the server does not have the script cached (first call,
 * after SCRIPT FLUSH, after a failover to a replica that never saw it). EVAL caches it again.
 * Arguments go as one array, not spread into a call: reconcile can pass hundreds of thousands
 * of them, beyond what a JavaScript call accepts.
 */
export async function runScript(redis: Redis, lua: LuaScript, keys: readonly string[], args: readonly (string | number)[]): Promise<unknown> {
  const rest = [keys.length, ...keys, ...args];
  try {
    return await redis.call('evalsha', [lua.sha, ...rest]);
  } catch (error) {
    if (error instanceof Error && error.message.includes('NOSCRIPT')) {
      return redis.call('eval', [lua.source, ...rest]);
    }
    throw error;
  }
}

// Shared by release, expiry and reconcile. Returning stock and household counts happens in the
// same script as the status check, so a reservation is returned at most once no matter how many
// processes race to release or expire it.
const CLOSE_FN = `
local function close_reservation(base, resKey, id, now, reason, retention)
  local household = redis.call('HGET', resKey, 'household')
  local lines = cjson.decode(redis.call('HGET', resKey, 'lines'))
  for _, line in ipairs(lines) do
    local qty = tonumber(line.quantity)
    local heldKey = base .. 'held:' .. line.sku
    redis.call('INCRBY', base .. 'stock:' .. line.sku, qty)
    if redis.call('HINCRBY', heldKey, household, -qty) <= 0 then
      redis.call('HDEL', heldKey, household)
    end
    redis.call('HDEL', base .. 'open:' .. line.sku, id)
  end
  redis.call('ZREM', base .. 'expiry', id)
  redis.call('HSET', resKey, 'status', 'released', 'releasedAt', now, 'releaseReason', reason)
  redis.call('PEXPIRE', resKey, retention)
end
`;

// Commit consumes nothing: stock and household counts were already taken at reserve time. It
// only stops the reservation from expiring.
const COMMIT_FN = `
local function commit_reservation(base, resKey, id, now, retention)
  local lines = cjson.decode(redis.call('HGET', resKey, 'lines'))
  for _, line in ipairs(lines) do
    redis.call('HDEL', base .. 'open:' .. line.sku, id)
  end
  redis.call('ZREM', base .. 'expiry', id)
  redis.call('HSET', resKey, 'status', 'committed', 'committedAt', now)
  redis.call('PEXPIRE', resKey, retention)
end
`;

/**
 * KEYS[1] reservation hash, KEYS[2] expiry zset, then three keys per line in sku order:
 *   stock, held, open.
 * ARGV: base, reservationId, household, now, expiresAt, linesJson, lineCount,
 *   then per line: sku, quantity, limit (-1 = no limit).
 * Returns {'reserved'|'existing', ...HGETALL} or {'mismatch'} or a failure tuple.
 *
 * All checks run before any write, so a failing line leaves every counter untouched
 * (all-or-nothing without MULTI). Check order: unknown sku, then household limits, then stock.
 * A household limit is reported before sold-out because it is the answer that will not change
 * if units come back from expired reservations: it tells that shopper to stop retrying.
 */
export const RESERVE = script(
  'inventory_reserve',
  `
local base, id, household = ARGV[1], ARGV[2], ARGV[3]
local now, expiresAt, linesJson = ARGV[4], tonumber(ARGV[5]), ARGV[6]
local n = tonumber(ARGV[7])

local status = redis.call('HGET', KEYS[1], 'status')
if status then
  -- Idempotent replay: same id must mean the same request.
  if redis.call('HGET', KEYS[1], 'lines') ~= linesJson or redis.call('HGET', KEYS[1], 'household') ~= household then
    return {'mismatch'}
  end
  local out = redis.call('HGETALL', KEYS[1])
  table.insert(out, 1, 'existing')
  return out
end

local stocks = {}
for i = 1, n do
  local stock = redis.call('GET', KEYS[2 + 3 * i - 2])
  if not stock then return {'unknown_sku', ARGV[7 + 3 * i - 2]} end
  stocks[i] = tonumber(stock)
end
for i = 1, n do
  local qty, limit = tonumber(ARGV[7 + 3 * i - 1]), tonumber(ARGV[7 + 3 * i])
  if limit >= 0 then
    local held = tonumber(redis.call('HGET', KEYS[2 + 3 * i - 1], household) or '0')
    if held + qty > limit then
      return {'household_limit', ARGV[7 + 3 * i - 2], limit, held}
    end
  end
end
for i = 1, n do
  local qty = tonumber(ARGV[7 + 3 * i - 1])
  if stocks[i] < qty then return {'sold_out', ARGV[7 + 3 * i - 2], stocks[i]} end
end

for i = 1, n do
  local qty = tonumber(ARGV[7 + 3 * i - 1])
  redis.call('DECRBY', KEYS[2 + 3 * i - 2], qty)
  redis.call('HINCRBY', KEYS[2 + 3 * i - 1], household, qty)
  redis.call('HSET', KEYS[2 + 3 * i], id, qty)
end
redis.call('HSET', KEYS[1], 'status', 'reserved', 'household', household, 'lines', linesJson,
  'createdAt', now, 'expiresAt', ARGV[5])
redis.call('ZADD', KEYS[2], expiresAt, id)
local out = redis.call('HGETALL', KEYS[1])
table.insert(out, 1, 'reserved')
return out
`,
);

/**
 * KEYS[1] reservation hash. ARGV: base, reservationId, now, retentionMs.
 * Returns {'committed'|'already'|'not_found'|'released', ...HGETALL}.
 *
 * A reservation past its expiresAt that the sweeper has not released yet can still be
 * committed: its units were never handed to anyone else, so honouring it cannot oversell, and
 * whichever of commit and expireDue runs first wins atomically.
 */
export const COMMIT = script(
  'inventory_commit',
  `${COMMIT_FN}
local base, id, now, retention = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
local status = redis.call('HGET', KEYS[1], 'status')
if not status then return {'not_found'} end
local code = 'already'
if status == 'released' then
  code = 'released'
elseif status == 'reserved' then
  commit_reservation(base, KEYS[1], id, now, retention)
  code = 'committed'
end
local out = redis.call('HGETALL', KEYS[1])
table.insert(out, 1, code)
return out
`,
);

/**
 * KEYS[1] reservation hash. ARGV: base, reservationId, now, force ('1'|'0'), retentionMs.
 * Returns {'released'|'already'|'not_found'|'committed', ...HGETALL}.
 */
export const RELEASE = script(
  'inventory_release',
  `${CLOSE_FN}
local base, id, now, force, retention = ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5]
local status = redis.call('HGET', KEYS[1], 'status')
if not status then return {'not_found'} end
local code = 'already'
if status == 'committed' and force ~= '1' then
  code = 'committed'
elseif status ~= 'released' then
  local reason = 'released'
  if status == 'committed' then reason = 'cancelled' end
  close_reservation(base, KEYS[1], id, now, reason, retention)
  code = 'released'
end
local out = redis.call('HGETALL', KEYS[1])
table.insert(out, 1, code)
return out
`,
);

/**
 * KEYS[1] expiry zset. ARGV: base, now, batchSize, retentionMs.
 * Returns {releasedCount, scannedCount}; the caller loops while scannedCount == batchSize.
 *
 * Each due id is re-checked against its hash (still 'reserved' and expiresAt <= now) inside
 * the script, so two sweepers, or a sweeper racing a commit, release a reservation at most
 * once. Every scanned id leaves the due range (released, dropped as stale, or re-scored), so
 * the caller's loop always terminates. Batches keep each script short: Redis serves nothing
 * else while a script runs, and checkout latency matters more than sweep latency.
 */
export const EXPIRE_DUE = script(
  'inventory_expire_due',
  `${CLOSE_FN}
local base, now, batch, retention = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3]), ARGV[4]
local ids = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now, 'LIMIT', 0, batch)
local released = 0
for _, id in ipairs(ids) do
  local resKey = base .. 'res:' .. id
  local fields = redis.call('HMGET', resKey, 'status', 'expiresAt')
  if fields[1] ~= 'reserved' then
    redis.call('ZREM', KEYS[1], id)
  elseif tonumber(fields[2]) > now then
    redis.call('ZADD', KEYS[1], fields[2], id)
  else
    close_reservation(base, resKey, id, ARGV[2], 'expired', retention)
    released = released + 1
  end
end
return {released, #ids}
`,
);

/**
 * KEYS[1] stock, KEYS[2] held, KEYS[3] open, KEYS[4] rebuilt held hash (all for one sku).
 * ARGV: base, totalStock, committedQuantity, mode ('keep'|'release'), now, retentionMs,
 *   idCount, then ids of open reservations that durable data shows as sold.
 * Returns {available, openQuantity, oversoldBy, adopted, releasedOpen, households}.
 *
 * See reconcile() in service.ts for the rule. The committed households are written to
 * KEYS[4] beforehand, in chunks, because a script blocks every other client while it runs and a
 * long-selling sku can have hundreds of thousands of households. This script only does the part
 * that must be atomic with reserve/commit/release: count the open reservations and swap the
 * rebuilt hash in. Its cost is O(open reservations of the sku); the old hash is UNLINKed so it is
 * freed off the main thread.
 */
export const RECONCILE = script(
  'inventory_reconcile',
  `${CLOSE_FN}${COMMIT_FN}
local base, total, committedQty, mode = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3]), ARGV[4]
local now, retention = ARGV[5], ARGV[6]
local idCount = tonumber(ARGV[7])
local durableIds = {}
for i = 1, idCount do durableIds[ARGV[7 + i]] = true end

local adopted, releasedOpen, openQty = 0, 0, 0
local openHeld = {}
for _, id in ipairs(redis.call('HKEYS', KEYS[3])) do
  local resKey = base .. 'res:' .. id
  local status = redis.call('HGET', resKey, 'status')
  if status ~= 'reserved' then
    redis.call('HDEL', KEYS[3], id)
  elseif durableIds[id] then
    -- The order is durable but its reservation was never committed (crash between the Mongo
    -- write and commit). Commit it now, or expiry would hand sold units back to the shelf.
    commit_reservation(base, resKey, id, now, retention)
    adopted = adopted + 1
  elseif mode == 'release' then
    close_reservation(base, resKey, id, now, 'reconciled', retention)
    releasedOpen = releasedOpen + 1
  else
    local qty = tonumber(redis.call('HGET', KEYS[3], id))
    local household = redis.call('HGET', resKey, 'household')
    openQty = openQty + qty
    openHeld[household] = (openHeld[household] or 0) + qty
  end
end

redis.call('UNLINK', KEYS[2])
if redis.call('EXISTS', KEYS[4]) == 1 then
  redis.call('RENAME', KEYS[4], KEYS[2])
  redis.call('PERSIST', KEYS[2])
end
for household, qty in pairs(openHeld) do
  redis.call('HINCRBY', KEYS[2], household, qty)
end

local available = total - committedQty - openQty
local oversold = 0
if available < 0 then
  oversold = -available
  available = 0
end
redis.call('SET', KEYS[1], available)
return {available, openQty, oversold, adopted, releasedOpen, redis.call('HLEN', KEYS[2])}
`,
);

/**
 * KEYS[1] stock. ARGV: delta. Returns {'ok', newAvailable} | {'unknown_sku'} | {'insufficient', available}.
 * Refuses to go below zero rather than clamping, so a write-off larger than what is on the
 * shelf is surfaced instead of silently hiding units that are held by open reservations.
 */
export const ADJUST_STOCK = script(
  'inventory_adjust_stock',
  `
local stock = redis.call('GET', KEYS[1])
if not stock then return {'unknown_sku'} end
local delta = tonumber(ARGV[1])
if tonumber(stock) + delta < 0 then return {'insufficient', tonumber(stock)} end
return {'ok', redis.call('INCRBY', KEYS[1], delta)}
`,
);

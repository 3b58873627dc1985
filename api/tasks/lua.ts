import { createHash } from 'node:crypto';
import type { LuaScript } from '../inventory/lua.ts';

/**
 * Routing state and every change to it, as Lua scripts: Redis runs a script to completion before
 * any other command, so several API processes can route at once and a task is never offered to
 * (or held by) two agents, and an agent never holds more than its capacity.
 *
 * Key layout (`B` = `${prefix}:tasks{r}:`, passed as ARGV[1]; the `{r}` hash tag keeps every key
 * in one cluster slot, since keys are derived inside the scripts):
 *   B..'t:'..id          hash   ch, pri, lang, skills (comma list), created, score, state, since,
 *                               offerTo, offerExp, assignee, assignedAt, wrapSince, answered, summary, rev, offers
 *   B..'pending:'..ch    zset   waiting task ids by score = (9 - priority) * 1e13 + createdAt: priority, then age
 *   B..'offers'          zset   offered task ids by offer expiry (ms)
 *   B..'x:'..id          hash   agent -> ms until which this agent is skipped for this task (declined or let lapse)
 *   B..'live'            zset   task ids not yet completed/cancelled/abandoned, by createdAt
 *   B..'a:'..agent       hash   name, role, langs, skills, cap_<ch>, load_<ch>, presence, psince, idle
 *   B..'a:'..agent..':tasks'  set  task ids the agent holds (offered, assigned, wrapping up)
 *   B..'agents'          set    every agent known to routing
 *   B..'ready'           zset   available agents by the time they last got a task (or became available)
 *   B..'st:'..ch..':answered' / ':fast' / ':abandoned'  zsets of task ids by time, for service level
 *   B..'st:'..ch..':handle'   list   recent handle times (ms), newest first
 *
 * Times are passed in (the service's injected clock), never read with TIME.
 */

function script(name: string, source: string): LuaScript {
  return { name, source, sha: createHash('sha1').update(source).digest('hex') };
}

export const CHANNEL_FIELDS = ['chat', 'call', 'callback', 'message', 'fraud_review'] as const;

const COMMON = `
local B = ARGV[1]
local function tkey(id) return B .. 't:' .. id end
local function akey(id) return B .. 'a:' .. id end
local function total_load(ak)
  local v = redis.call('HMGET', ak, 'load_chat', 'load_call', 'load_callback', 'load_message', 'load_fraud_review')
  local s = 0
  for _, x in ipairs(v) do s = s + (tonumber(x) or 0) end
  return s
end
local function hold_agent(agent, id, ch)
  local ak = akey(agent)
  redis.call('HINCRBY', ak, 'load_' .. ch, 1)
  redis.call('SADD', ak .. ':tasks', id)
  redis.call('HSET', ak, 'idle', '')
end
local function release_agent(agent, id, ch, now)
  if not agent or agent == '' then return end
  local ak = akey(agent)
  if redis.call('SREM', ak .. ':tasks', id) == 1 then
    if redis.call('HINCRBY', ak, 'load_' .. ch, -1) < 0 then redis.call('HSET', ak, 'load_' .. ch, 0) end
  end
  if total_load(ak) == 0 then redis.call('HSET', ak, 'idle', now) end
end
local function set_state(tk, state, now)
  redis.call('HSET', tk, 'state', state, 'since', now)
  return redis.call('HINCRBY', tk, 'rev', 1)
end
local function back_to_pending(id, tk, ch, now)
  redis.call('HDEL', tk, 'offerTo', 'offerExp', 'assignee', 'assignedAt', 'wrapSince')
  redis.call('ZREM', B .. 'offers', id)
  redis.call('ZADD', B .. 'pending:' .. ch, redis.call('HGET', tk, 'score'), id)
  return set_state(tk, 'pending', now)
end
local function record_answer(tk, id, ch, now, threshold)
  if redis.call('HSETNX', tk, 'answered', now) == 1 then
    redis.call('ZADD', B .. 'st:' .. ch .. ':answered', now, id)
    if now - tonumber(redis.call('HGET', tk, 'created')) <= threshold then redis.call('ZADD', B .. 'st:' .. ch .. ':fast', now, id) end
  end
end
local function finish(id, tk)
  redis.call('ZREM', B .. 'live', id)
  redis.call('DEL', B .. 'x:' .. id)
  -- Mongo keeps the durable record; the routing copy of a finished task only serves late readers.
  redis.call('PEXPIRE', tk, 86400000)
end
`;

/** ARGV: B, id, ch, priority, lang, skills, createdMs, score, summaryJson. Returns 1 if created, 0 if it existed. */
export const CREATE_TASK = script(
  'tasks:create',
  `${COMMON}
local id, ch = ARGV[2], ARGV[3]
local tk = tkey(id)
if redis.call('EXISTS', tk) == 1 then return 0 end
redis.call('HSET', tk, 'ch', ch, 'pri', ARGV[4], 'lang', ARGV[5], 'skills', ARGV[6], 'created', ARGV[7], 'score', ARGV[8], 'summary', ARGV[9], 'state', 'pending', 'since', ARGV[7], 'rev', 1, 'offers', 0)
redis.call('ZADD', B .. 'pending:' .. ch, ARGV[8], id)
redis.call('ZADD', B .. 'live', ARGV[7], id)
return 1`,
);

/**
 * Offers the channel's waiting tasks, highest priority then oldest first, each to the best agent
 * that is available, has a free slot in the channel, speaks the task's language and has its
 * skills, and is not skipped for it: an agent holding nothing, idle longest, before an agent
 * already holding tasks (least recently given one). A task nobody fits keeps its place, and the
 * next one is tried, so one unmatched skill does not block the queue.
 * ARGV: B, ch, now, offerTimeoutMs, maxOffers, scanLimit. Returns {taskId, agentId, ...}.
 */
export const ROUTE = script(
  'tasks:route',
  `${COMMON}
local ch = ARGV[2]
local now, timeout, maxOffers, scan = tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5]), tonumber(ARGV[6])
local ready = redis.call('ZRANGE', B .. 'ready', 0, -1, 'WITHSCORES')
local agents = {}
for i = 1, #ready, 2 do
  local id = ready[i]
  local f = redis.call('HMGET', akey(id), 'cap_' .. ch, 'load_' .. ch, 'langs', 'skills', 'idle', 'load_chat', 'load_call', 'load_callback', 'load_message', 'load_fraud_review')
  local cap, load = tonumber(f[1]) or 0, tonumber(f[2]) or 0
  if cap > load then
    local total = 0
    for j = 6, 10 do total = total + (tonumber(f[j]) or 0) end
    local last = tonumber(ready[i + 1])
    agents[#agents + 1] = { id = id, spare = cap - load, langs = ',' .. (f[3] or '') .. ',', skills = ',' .. (f[4] or '') .. ',', total = total, idle = tonumber(f[5]) or last, last = last }
  end
end
if #agents == 0 then return {} end
local offers = {}
local waiting = redis.call('ZRANGE', B .. 'pending:' .. ch, 0, scan - 1)
for _, id in ipairs(waiting) do
  local tk = tkey(id)
  local t = redis.call('HMGET', tk, 'lang', 'skills', 'state')
  if t[3] == 'pending' then
    local excl = B .. 'x:' .. id
    local hasExcl = redis.call('EXISTS', excl) == 1
    local best, bestTier, bestKey = nil, nil, nil
    for _, a in ipairs(agents) do
      if a.spare > 0 and string.find(a.langs, ',' .. t[1] .. ',', 1, true) then
        local ok = true
        if t[2] and t[2] ~= '' then
          for s in string.gmatch(t[2], '[^,]+') do
            if not string.find(a.skills, ',' .. s .. ',', 1, true) then ok = false break end
          end
        end
        if ok and hasExcl and (tonumber(redis.call('HGET', excl, a.id)) or 0) > now then ok = false end
        if ok then
          local tier = (a.total == 0) and 0 or 1
          local key = (tier == 0) and a.idle or a.last
          if best == nil or tier < bestTier or (tier == bestTier and key < bestKey) then best, bestTier, bestKey = a, tier, key end
        end
      end
    end
    if best then
      local exp = now + timeout
      redis.call('HSET', tk, 'offerTo', best.id, 'offerExp', exp)
      redis.call('HINCRBY', tk, 'offers', 1)
      set_state(tk, 'offered', now)
      redis.call('ZREM', B .. 'pending:' .. ch, id)
      redis.call('ZADD', B .. 'offers', exp, id)
      hold_agent(best.id, id, ch)
      redis.call('ZADD', B .. 'ready', 'XX', now, best.id)
      best.spare = best.spare - 1
      best.total = best.total + 1
      best.last = now
      offers[#offers + 1] = id
      offers[#offers + 1] = best.id
      if #offers / 2 >= maxOffers then break end
    end
  end
end
return offers`,
);

/**
 * Offers past their expiry go back to waiting at their old place; the agent who let one lapse is
 * skipped for that task for \`cooldown\` ms (then may get it again: a task is never starved).
 * ARGV: B, now, cooldownMs, limit. Returns {taskId, agentId, ...}.
 */
export const EXPIRE_OFFERS = script(
  'tasks:expire',
  `${COMMON}
local now, cooldown, limit = tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
local due = redis.call('ZRANGEBYSCORE', B .. 'offers', '-inf', now, 'LIMIT', 0, limit)
local out = {}
for _, id in ipairs(due) do
  local tk = tkey(id)
  local f = redis.call('HMGET', tk, 'state', 'offerTo', 'ch')
  redis.call('ZREM', B .. 'offers', id)
  if f[1] == 'offered' and f[2] then
    back_to_pending(id, tk, f[3], now)
    redis.call('HSET', B .. 'x:' .. id, f[2], now + cooldown)
    release_agent(f[2], id, f[3], now)
    out[#out + 1] = id
    out[#out + 1] = f[2]
  end
end
return out`,
);

/** ARGV: B, id, agent, now, cooldownMs. Returns {'ok'} or {'error', state}. */
export const DECLINE = script(
  'tasks:decline',
  `${COMMON}
local id, agent, now, cooldown = ARGV[2], ARGV[3], tonumber(ARGV[4]), tonumber(ARGV[5])
local tk = tkey(id)
local f = redis.call('HMGET', tk, 'state', 'offerTo', 'ch')
if f[1] ~= 'offered' or f[2] ~= agent then return { 'error', f[1] or 'missing' } end
back_to_pending(id, tk, f[3], now)
redis.call('HSET', B .. 'x:' .. id, agent, now + cooldown)
release_agent(agent, id, f[3], now)
return { 'ok' }`,
);

/** ARGV: B, id, agent, now, slThresholdMs. Returns {'ok'} or {'error', state} ('expired' when the offer lapsed). */
export const ACCEPT = script(
  'tasks:accept',
  `${COMMON}
local id, agent, now, threshold = ARGV[2], ARGV[3], tonumber(ARGV[4]), tonumber(ARGV[5])
local tk = tkey(id)
local f = redis.call('HMGET', tk, 'state', 'offerTo', 'offerExp', 'ch')
if f[1] ~= 'offered' or f[2] ~= agent then return { 'error', f[1] or 'missing' } end
if tonumber(f[3]) < now then return { 'error', 'expired' } end
redis.call('HDEL', tk, 'offerTo', 'offerExp')
redis.call('HSET', tk, 'assignee', agent, 'assignedAt', now)
redis.call('ZREM', B .. 'offers', id)
set_state(tk, 'assigned', now)
record_answer(tk, id, f[4], now, threshold)
return { 'ok' }`,
);

/** Handling done: to wrap-up. ARGV: B, id, agent ('' = whoever holds it), now. */
export const END_HANDLING = script(
  'tasks:end',
  `${COMMON}
local id, agent, now = ARGV[2], ARGV[3], tonumber(ARGV[4])
local tk = tkey(id)
local f = redis.call('HMGET', tk, 'state', 'assignee')
if f[1] == 'wrapping_up' and (agent == '' or f[2] == agent) then return { 'ok', 'already' } end
if f[1] ~= 'assigned' or (agent ~= '' and f[2] ~= agent) then return { 'error', f[1] or 'missing' } end
redis.call('HSET', tk, 'wrapSince', now)
set_state(tk, 'wrapping_up', now)
return { 'ok', f[2] }`,
);

/** Wrap-up done: completed, the agent's slot freed. ARGV: B, id, agent, now. Returns {'ok', handleMs, wrapMs}. */
export const WRAP_UP = script(
  'tasks:wrapup',
  `${COMMON}
local id, agent, now = ARGV[2], ARGV[3], tonumber(ARGV[4])
local tk = tkey(id)
local f = redis.call('HMGET', tk, 'state', 'assignee', 'ch', 'assignedAt', 'wrapSince')
if (f[1] ~= 'assigned' and f[1] ~= 'wrapping_up') or f[2] ~= agent then return { 'error', f[1] or 'missing' } end
local wrapSince = tonumber(f[5]) or now
local handle = now - (tonumber(f[4]) or now)
set_state(tk, 'completed', now)
redis.call('HSET', tk, 'completedAt', now)
release_agent(agent, id, f[3], now)
finish(id, tk)
local hk = B .. 'st:' .. f[3] .. ':handle'
redis.call('LPUSH', hk, handle)
redis.call('LTRIM', hk, 0, 49)
return { 'ok', handle, now - wrapSince }`,
);

/**
 * Ends a task that will not be (further) handled: cancelled, or abandoned by the person waiting.
 * ARGV: B, id, finalState, now. Returns {'ok', previousState, agentOrEmpty} or {'noop', state}.
 */
export const CANCEL = script(
  'tasks:cancel',
  `${COMMON}
local id, final, now = ARGV[2], ARGV[3], tonumber(ARGV[4])
local tk = tkey(id)
local f = redis.call('HMGET', tk, 'state', 'ch', 'offerTo', 'assignee')
if not f[1] or f[1] == 'completed' or f[1] == 'cancelled' or f[1] == 'abandoned' then return { 'noop', f[1] or 'missing' } end
local agent = ''
if f[1] == 'pending' then redis.call('ZREM', B .. 'pending:' .. f[2], id) end
if f[1] == 'offered' then
  redis.call('ZREM', B .. 'offers', id)
  agent = f[3] or ''
end
if f[1] == 'assigned' or f[1] == 'wrapping_up' then agent = f[4] or '' end
release_agent(agent, id, f[2], now)
set_state(tk, final, now)
if final == 'abandoned' and redis.call('HEXISTS', tk, 'answered') == 0 then redis.call('ZADD', B .. 'st:' .. f[2] .. ':abandoned', now, id) end
finish(id, tk)
return { 'ok', f[1], agent }`,
);

/**
 * Back to the queue from an agent (transfer to a queue): keeps its age, optionally another
 * language; the agent is skipped for it for a while. ARGV: B, id, agent ('' = whoever holds it), now, lang ('' = keep), cooldownMs.
 */
export const REQUEUE = script(
  'tasks:requeue',
  `${COMMON}
local id, agent, now, lang, cooldown = ARGV[2], ARGV[3], tonumber(ARGV[4]), ARGV[5], tonumber(ARGV[6])
local tk = tkey(id)
local f = redis.call('HMGET', tk, 'state', 'ch', 'assignee', 'offerTo')
local holder = f[3] or f[4]
if (f[1] ~= 'assigned' and f[1] ~= 'offered') or (agent ~= '' and holder ~= agent) then return { 'error', f[1] or 'missing' } end
if lang ~= '' then redis.call('HSET', tk, 'lang', lang) end
back_to_pending(id, tk, f[2], now)
if holder then
  redis.call('HSET', B .. 'x:' .. id, holder, now + cooldown)
  release_agent(holder, id, f[2], now)
end
return { 'ok', holder or '' }`,
);

/**
 * Straight to one agent (a supervisor's reassign, an agent's transfer): the target must be signed
 * in (not offline) and have a free slot in the channel. ARGV: B, id, target, now, from ('' = any holder), slThresholdMs.
 * Returns {'ok', previousHolderOrEmpty} or {'error', reason}.
 */
export const ASSIGN = script(
  'tasks:assign',
  `${COMMON}
local id, target, now, from, threshold = ARGV[2], ARGV[3], tonumber(ARGV[4]), ARGV[5], tonumber(ARGV[6])
local tk = tkey(id)
local f = redis.call('HMGET', tk, 'state', 'ch', 'offerTo', 'assignee')
if f[1] ~= 'pending' and f[1] ~= 'offered' and f[1] ~= 'assigned' then return { 'error', f[1] or 'missing' } end
local holder = f[4] or f[3] or ''
if from ~= '' and holder ~= from then return { 'error', 'not_holder' } end
if holder == target then return { 'error', 'same_agent' } end
local ak = akey(target)
local a = redis.call('HMGET', ak, 'presence', 'cap_' .. f[2], 'load_' .. f[2])
if not a[1] or a[1] == 'offline' then return { 'error', 'agent_offline' } end
if (tonumber(a[2]) or 0) <= (tonumber(a[3]) or 0) then return { 'error', 'agent_full' } end
if f[1] == 'pending' then redis.call('ZREM', B .. 'pending:' .. f[2], id) end
redis.call('ZREM', B .. 'offers', id)
release_agent(holder, id, f[2], now)
hold_agent(target, id, f[2])
redis.call('ZADD', B .. 'ready', 'XX', now, target)
redis.call('HDEL', tk, 'offerTo', 'offerExp', 'wrapSince')
redis.call('HSET', tk, 'assignee', target, 'assignedAt', now)
set_state(tk, 'assigned', now)
record_answer(tk, id, f[2], now, threshold)
return { 'ok', holder }`,
);

/**
 * Presence: available agents are in the ready set; leaving it withdraws the agent's open offers
 * (back to waiting, no penalty). Tasks already assigned stay with the agent.
 * ARGV: B, agent, presence, now. Returns {'same'} or {'ok', withdrawnTaskId...}.
 */
export const SET_PRESENCE = script(
  'tasks:presence',
  `${COMMON}
local agent, presence, now = ARGV[2], ARGV[3], tonumber(ARGV[4])
local ak = akey(agent)
if redis.call('EXISTS', ak) == 0 then return { 'error', 'unknown_agent' } end
if redis.call('HGET', ak, 'presence') == presence then return { 'same' } end
redis.call('HSET', ak, 'presence', presence, 'psince', now)
local out = { 'ok' }
if presence == 'available' then
  redis.call('ZADD', B .. 'ready', now, agent)
  if total_load(ak) == 0 then redis.call('HSET', ak, 'idle', now) end
else
  redis.call('ZREM', B .. 'ready', agent)
  for _, id in ipairs(redis.call('SMEMBERS', ak .. ':tasks')) do
    local tk = tkey(id)
    local f = redis.call('HMGET', tk, 'state', 'offerTo', 'ch')
    if f[1] == 'offered' and f[2] == agent then
      back_to_pending(id, tk, f[3], now)
      release_agent(agent, id, f[3], now)
      out[#out + 1] = id
    end
  end
end
return out`,
);

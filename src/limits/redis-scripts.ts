/**
 * The Redis store's Lua scripts. Each operation is one script, so it is atomic on the server and
 * runs on Redis's own clock (`TIME`): machines whose clocks differ still agree. BUDGET_SCRIPT is a
 * line-by-line port of bucket-math.ts (same names, same order of floating-point operations, so the
 * contract tests hold both to the same results). Kept as TypeScript strings because `tsc` copies
 * no other files into dist/.
 *
 * Numbers go in as JavaScript's shortest round-trip text and are stored with `%.17g`, so a level
 * read back is the double that was written (Lua's own tostring keeps only 14 digits).
 */

import { BIG_COST_SLACK_SECONDS } from './bucket-math.js';

/**
 * The clock both scripts use: ms on the server (or ARGV[2] when a test gives one), never behind
 * the last time this key saw.
 */
const CLOCK = `
if redis.replicate_commands then pcall(redis.replicate_commands) end
local function num(x) return string.format('%.17g', x) end
local function serverNow(clockKey, field)
  local now = tonumber(ARGV[2])
  if not now then
    local t = redis.call('TIME')
    now = tonumber(t[1]) * 1000 + tonumber(t[2]) / 1000
  end
  local last = tonumber(redis.call('HGET', clockKey, field)) or 0
  return math.max(last, now)
end
`;

/**
 * KEYS[1]: the budget hash of one (account, model class).
 * ARGV: op (take | adjust | clamp | pause | snapshot), the clock ('' for the server's), the spec
 * as JSON, one value per dimension (requests, inputTokens, outputTokens; '' for none), the key's
 * time to live in ms.
 * Returns: take {ok, waitMs, heldBy}; pause {newPause, remainingMs};
 * snapshot {levels JSON, spec JSON, pausedForMs, rpm, itpm, otpm}; otherwise nothing.
 */
export const BUDGET_SCRIPT = `${CLOCK}
local DIMENSIONS = { 'requests', 'inputTokens', 'outputTokens' }
local key = KEYS[1]
local op = ARGV[1]

local function capacity(spec)
  return (spec.perMinute / 60) * spec.capacitySeconds
end

local function fullLevel(spec)
  return (spec.perMinute / 60) * math.max(spec.fullSeconds, spec.capacitySeconds)
end

local function refill(state, spec, now)
  local full = fullLevel(spec)
  if not state then return { level = full, t = now } end
  local elapsed = math.max(0, now - state.t)
  return { level = math.min(full, state.level + (elapsed * spec.perMinute) / 60000), t = math.max(state.t, now) }
end

local function waitFor(state, spec, amount)
  if amount <= 0 or spec.debtOnly then
    if state.level >= 0 then return 0 end
    return math.ceil((-state.level * 60000) / spec.perMinute)
  end
  local cap = capacity(spec)
  local need, have
  if amount <= cap then need = amount; have = math.min(cap, state.level) else need = fullLevel(spec); have = state.level end
  if have + 1e-9 >= need then return 0 end
  return math.ceil(((need - have) * 60000) / spec.perMinute)
end

local function takeFrom(state, spec, amount)
  if amount <= 0 then return state end
  local cap = capacity(spec)
  if amount <= cap or spec.debtOnly then return { level = math.min(cap, state.level) - amount, t = state.t } end
  local slack = (spec.perMinute / 60) * ${BIG_COST_SLACK_SECONDS}
  local extra = 0
  if amount > fullLevel(spec) - slack then extra = slack end
  return { level = state.level - amount - extra, t = state.t }
end

local function adjustBy(state, spec, delta)
  if delta == 0 then return state end
  if delta < 0 then return { level = state.level + delta, t = state.t } end
  local cap = capacity(spec)
  return { level = math.min(cap, math.min(cap, state.level) + delta), t = state.t }
end

local function clampTo(state, spec, level)
  if level < math.min(capacity(spec), state.level) then return { level = level, t = state.t } end
  return state
end

local now = serverNow(key, 'clock')
local fields = redis.call('HMGET', key,
  'requests.level', 'requests.t', 'inputTokens.level', 'inputTokens.t', 'outputTokens.level', 'outputTokens.t',
  'pausedUntil', 'spec', 'rpm', 'itpm', 'otpm')
local state = {}
for i, d in ipairs(DIMENSIONS) do
  local level, t = tonumber(fields[2 * i - 1]), tonumber(fields[2 * i])
  if level and t then state[d] = { level = level, t = t } end
end
local pausedUntil = tonumber(fields[7]) or 0

if op == 'snapshot' then
  local spec = cjson.decode(fields[8] or '{}')
  local levels = {}
  for _, d in ipairs(DIMENSIONS) do
    local s = spec[d]
    if s then levels[d] = num(math.min(capacity(s), refill(state[d], s, now).level)) end
  end
  return { cjson.encode(levels), fields[8] or '{}', num(math.max(0, pausedUntil - now)), fields[9] or '', fields[10] or '', fields[11] or '' }
end

local function save(specJson)
  local out = { 'clock', num(now) }
  for _, d in ipairs(DIMENSIONS) do
    local s = state[d]
    if s then
      table.insert(out, d .. '.level'); table.insert(out, num(s.level))
      table.insert(out, d .. '.t'); table.insert(out, num(s.t))
    end
  end
  if specJson then table.insert(out, 'spec'); table.insert(out, specJson) end
  redis.call('HSET', key, unpack(out))
  redis.call('PEXPIRE', key, ARGV[7])
end

if op == 'pause' then
  local newPause = pausedUntil <= now
  pausedUntil = math.max(pausedUntil, now + math.max(0, tonumber(ARGV[4])))
  redis.call('HSET', key, 'pausedUntil', num(pausedUntil))
  save(nil)
  return { newPause and '1' or '0', num(pausedUntil - now) }
end

local spec = cjson.decode(ARGV[3])
local value = {}
for i, d in ipairs(DIMENSIONS) do value[d] = tonumber(ARGV[3 + i]) end

if op == 'take' then
  if pausedUntil > now then
    save(ARGV[3])
    return { '0', num(pausedUntil - now), 'pause' }
  end
  local refilled = {}
  local waitMs = 0
  local heldBy = ''
  for _, d in ipairs(DIMENSIONS) do
    local s = spec[d]
    if s then
      local r = refill(state[d], s, now)
      refilled[d] = r
      local w = waitFor(r, s, value[d] or 0)
      if w > waitMs then
        waitMs = w
        heldBy = d
      end
    end
  end
  for d, r in pairs(refilled) do state[d] = r end
  if waitMs > 0 then
    save(ARGV[3])
    return { '0', num(waitMs), heldBy }
  end
  for _, d in ipairs(DIMENSIONS) do
    local s = spec[d]
    if s then state[d] = takeFrom(refilled[d], s, value[d] or 0) end
  end
  save(ARGV[3])
  return { '1', '0', '' }
end

for _, d in ipairs(DIMENSIONS) do
  local s = spec[d]
  local v = value[d]
  if s and v then
    if op == 'adjust' and v ~= 0 then state[d] = adjustBy(refill(state[d], s, now), s, v) end
    if op == 'clamp' then state[d] = clampTo(refill(state[d], s, now), s, v) end
  end
end
save(ARGV[3])
return {}
`;

/**
 * KEYS[1]: the account's peers (a sorted set of ids, scored by the server's ms when last seen);
 * KEYS[2]: their details (a hash of id -> PeerInfo JSON; its 'clock' entry is the last time seen).
 * ARGV: op (heartbeat | leave | peers), the clock ('' for the server's), then for heartbeat: id,
 * info JSON, activeWithinMs, retentionMs, ttlMs; leave: id; peers: activeWithinMs.
 * Returns: heartbeat the number active; peers {id, info JSON, ms since seen, ...}.
 */
export const PEERS_SCRIPT = `${CLOCK}
local seen, info = KEYS[1], KEYS[2]
local op = ARGV[1]
local now = serverNow(info, '\\0clock')
if op == 'leave' then
  redis.call('ZREM', seen, ARGV[3])
  redis.call('HDEL', info, ARGV[3])
  return 0
end
if op == 'heartbeat' then
  redis.call('ZADD', seen, num(now), ARGV[3])
  redis.call('HSET', info, ARGV[3], ARGV[4], '\\0clock', num(now))
  local old = redis.call('ZRANGEBYSCORE', seen, '-inf', '(' .. num(now - tonumber(ARGV[6])))
  for _, id in ipairs(old) do redis.call('HDEL', info, id) end
  if #old > 0 then redis.call('ZREM', seen, unpack(old)) end
  redis.call('PEXPIRE', seen, ARGV[7])
  redis.call('PEXPIRE', info, ARGV[7])
  return redis.call('ZCOUNT', seen, num(now - tonumber(ARGV[5])), '+inf')
end
local out = {}
local active = redis.call('ZRANGEBYSCORE', seen, num(now - tonumber(ARGV[3])), '+inf', 'WITHSCORES')
for i = 1, #active, 2 do
  table.insert(out, active[i])
  table.insert(out, redis.call('HGET', info, active[i]) or '{}')
  table.insert(out, num(now - tonumber(active[i + 1])))
end
return out
`;

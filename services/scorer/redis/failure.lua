-- One failure against one (jail, target): the steps of decide() in
-- core/window.ts, atomically. Every key is in the target's hash slot.
-- KEYS[1] window: sorted set, event id -> log time (ms)
-- KEYS[2] ban: hash (id start dur n f trig o r by)
-- KEYS[3] ban counts of the target: hash (n:<jail> t:<jail> n:* t:*)
-- KEYS[4] spent: sorted set, event id -> time, of failures a ban used up
-- KEYS[5] figures of the target: hash (e: epoch, f:<jail> failures counted,
--         b:<jail> bans recorded), counters that only grow while it lives
-- ARGV[1] event id       ARGV[2] time it counts at (ms; failureTimes' at)
-- ARGV[3] jail
-- ARGV[4] findtime (ms)  ARGV[5] maxretry          ARGV[6] dbpurgeage (ms)
-- ARGV[7] '1': count bans over all jails (bantime.overalljails)
-- ARGV[8] the previous ban count that ARGV[9] was computed for; '-1' when
--         the length does not depend on it
-- ARGV[9] ban length (ms; -1 permanent)           ARGV[10] ban id
-- ARGV[11] start of a ban it decides (ms; failureTimes' start)
-- ARGV[12] TTL of the figures hash (ms)
-- Replies: {'replay', id, start, dur, n, f} | {'banned', id} | {'stale'}
--   | {'counted', failures} | {'duplicate', failures}
--   | {'need', previous count, added} | {'ban', id, start, dur, n, f, added}
--   each followed by the target's figures: epoch, failures counted, bans
--   recorded (in this jail), so that any delivery can report them again.
local id, t, jail = ARGV[1], tonumber(ARGV[2]), ARGV[3]

-- Counted here, atomically with the state they count: totals survive any
-- crash of the scorer between this script and the status figures.
local function bump(field)
  redis.call('HSETNX', KEYS[5], 'e', id)
  redis.call('HINCRBY', KEYS[5], field .. jail, 1)
  redis.call('PEXPIRE', KEYS[5], ARGV[12])
end
local function reply(r)
  local fig = redis.call('HMGET', KEYS[5], 'e', 'f:' .. jail, 'b:' .. jail)
  r[#r + 1] = fig[1] or ''
  r[#r + 1] = fig[2] or '0'
  r[#r + 1] = fig[3] or '0'
  return r
end

local ban = redis.call('HMGET', KEYS[2], 'start', 'dur', 'trig', 'id', 'n', 'f')
if ban[1] then
  -- The failure that decided the ban is a replay whenever it comes back.
  if ban[3] == id then return reply({'replay', ban[4], ban[1], ban[2], ban[5], ban[6]}) end
  local dur = tonumber(ban[2])
  if dur == -1 or t < tonumber(ban[1]) + dur then return reply({'banned', ban[4]}) end
end

if redis.call('ZSCORE', KEYS[4], id) then return reply({'duplicate', redis.call('ZCARD', KEYS[1])}) end

local top = redis.call('ZRANGE', KEYS[1], -1, -1, 'WITHSCORES')
local latest = t
if top[2] and tonumber(top[2]) > latest then latest = tonumber(top[2]) end
local cutoff = latest - tonumber(ARGV[4])
if t <= cutoff then return reply({'stale'}) end
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', string.format('%.0f', cutoff))
local added = redis.call('ZADD', KEYS[1], 'NX', ARGV[2], id)
if added == 1 then bump('f:') end
local failures = redis.call('ZCARD', KEYS[1])
if failures < tonumber(ARGV[5]) then
  redis.call('PEXPIRE', KEYS[1], ARGV[4])
  if added == 1 then return reply({'counted', failures}) end
  return reply({'duplicate', failures})
end

local purge = tonumber(ARGV[6])
local counts = redis.call('HMGET', KEYS[3], 'n:' .. jail, 't:' .. jail, 'n:*', 't:*')
local function previous(n, last)
  if n and t - tonumber(last) < purge then return tonumber(n) end
  return 0
end
local function later(last)
  if last and tonumber(last) > t then return last end
  return ARGV[2]
end
local jailPrevious, allPrevious = previous(counts[1], counts[2]), previous(counts[3], counts[4])
local prev = jailPrevious
if ARGV[7] == '1' then prev = allPrevious end
if ARGV[8] ~= '-1' and tonumber(ARGV[8]) ~= prev then return reply({'need', prev, added}) end

redis.call('DEL', KEYS[2])
redis.call('HSET', KEYS[2], 'id', ARGV[10], 'start', ARGV[11], 'dur', ARGV[9], 'n', prev + 1, 'f', failures, 'trig', id, 'o', 'scorer')
if ARGV[9] ~= '-1' then redis.call('PEXPIRE', KEYS[2], ARGV[9]) end
local used = redis.call('ZRANGE', KEYS[1], 0, -1, 'WITHSCORES')
for i = 1, #used, 2 do redis.call('ZADD', KEYS[4], used[i + 1], used[i]) end
redis.call('ZREMRANGEBYSCORE', KEYS[4], '-inf', string.format('%.0f', cutoff))
redis.call('PEXPIRE', KEYS[4], ARGV[4])
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[3], 'n:' .. jail, jailPrevious + 1, 't:' .. jail, later(counts[2]), 'n:*', allPrevious + 1, 't:*', later(counts[4]))
if redis.call('PTTL', KEYS[3]) < purge then redis.call('PEXPIRE', KEYS[3], ARGV[6]) end
bump('b:')
return reply({'ban', ARGV[10], ARGV[11], ARGV[9], prev + 1, failures, added})

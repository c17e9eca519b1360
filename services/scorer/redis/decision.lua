-- Mirrors a manual decision into one (jail, target): the steps of mirror()
-- in core/window.ts, atomically. Every key is in the target's hash slot.
-- KEYS[1] window (sorted set)   KEYS[2] ban (hash)
-- KEYS[3] figures of the target (hash; see failure.lua)
-- ARGV[1] 'ban' | 'unban'   ARGV[2] decision id   ARGV[3] decision time (ms)
-- ARGV[4] ban length (ms; -1 permanent)   ARGV[5] key TTL (ms; -1 none)
-- ARGV[6] reason   ARGV[7] by   ARGV[8] TTL of the figures hash (ms)
-- ARGV[9] jail
-- Replies: {kind, epoch, failures counted, bans recorded}, kind one of
--   'same' | 'older' | 'recorded' | 'cleared' | 'none'
local jail = ARGV[9]
local function reply(kind)
  local fig = redis.call('HMGET', KEYS[3], 'e', 'f:' .. jail, 'b:' .. jail)
  return {kind, fig[1] or '', fig[2] or '0', fig[3] or '0'}
end
local ban = redis.call('HMGET', KEYS[2], 'id', 'start')
local t = tonumber(ARGV[3])
if ARGV[1] == 'ban' then
  if ban[1] == ARGV[2] then return reply('same') end
  if ban[2] and tonumber(ban[2]) > t then return reply('older') end
end
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[3])
if ARGV[1] == 'ban' then
  redis.call('DEL', KEYS[2])
  redis.call('HSET', KEYS[2], 'id', ARGV[2], 'start', ARGV[3], 'dur', ARGV[4], 'n', 0, 'f', 0, 'trig', '', 'o', 'manual', 'r', ARGV[6], 'by', ARGV[7])
  if ARGV[5] ~= '-1' then redis.call('PEXPIRE', KEYS[2], ARGV[5]) end
  redis.call('HSETNX', KEYS[3], 'e', ARGV[2])
  redis.call('HINCRBY', KEYS[3], 'b:' .. jail, 1)
  redis.call('PEXPIRE', KEYS[3], ARGV[8])
  return reply('recorded')
end
if ban[2] and tonumber(ban[2]) <= t then
  redis.call('DEL', KEYS[2])
  return reply('cleared')
end
return reply('none')

-- Mirrors a manual decision into one (jail, target): the steps of mirror()
-- in core/window.ts, atomically. Every key is in the target's hash slot.
-- KEYS[1] window (sorted set)   KEYS[2] ban (hash)
-- ARGV[1] 'ban' | 'unban'   ARGV[2] decision id   ARGV[3] decision time (ms)
-- ARGV[4] ban length (ms; -1 permanent)   ARGV[5] key TTL (ms; -1 none)
-- ARGV[6] reason   ARGV[7] by
-- Replies: 'same' | 'older' | 'recorded' | 'cleared' | 'none'
local ban = redis.call('HMGET', KEYS[2], 'id', 'start')
local t = tonumber(ARGV[3])
if ARGV[1] == 'ban' then
  if ban[1] == ARGV[2] then return 'same' end
  if ban[2] and tonumber(ban[2]) > t then return 'older' end
end
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[3])
if ARGV[1] == 'ban' then
  redis.call('DEL', KEYS[2])
  redis.call('HSET', KEYS[2], 'id', ARGV[2], 'start', ARGV[3], 'dur', ARGV[4], 'n', 0, 'f', 0, 'trig', '', 'o', 'manual', 'r', ARGV[6], 'by', ARGV[7])
  if ARGV[5] ~= '-1' then redis.call('PEXPIRE', KEYS[2], ARGV[5]) end
  return 'recorded'
end
if ban[2] and tonumber(ban[2]) <= t then
  redis.call('DEL', KEYS[2])
  return 'cleared'
end
return 'none'

-- Per-jail figures for `status`, in the jail's own hash slot; applied in
-- batches. Sets and removals are idempotent; entries carry their expiry as
-- their score and are pruned here, so the sets stay bounded.
-- KEYS[1] total failed (counter)  KEYS[2] total banned (counter)
-- KEYS[3] failing targets (sorted set, score: when the window empties)
-- KEYS[4] banned targets (sorted set, score: ban end, +inf for permanent)
-- ARGV[1] now (ms)  ARGV[2] failed increment  ARGV[3] banned increment
-- then four lists, each a count followed by its items:
--   failing (target, score) pairs; failing removals (target);
--   banned (target, score) pairs;  banned removals (target)
if ARGV[2] ~= '0' then redis.call('INCRBY', KEYS[1], ARGV[2]) end
if ARGV[3] ~= '0' then redis.call('INCRBY', KEYS[2], ARGV[3]) end
local i = 4
local function pairs_into(key, gt)
  local n = tonumber(ARGV[i]); i = i + 1
  for _ = 1, n do
    if gt then redis.call('ZADD', key, 'GT', ARGV[i + 1], ARGV[i]) else redis.call('ZADD', key, ARGV[i + 1], ARGV[i]) end
    i = i + 2
  end
end
local function remove_from(key)
  local n = tonumber(ARGV[i]); i = i + 1
  for _ = 1, n do
    redis.call('ZREM', key, ARGV[i])
    i = i + 1
  end
end
pairs_into(KEYS[3], true)
remove_from(KEYS[3])
pairs_into(KEYS[4], false)
remove_from(KEYS[4])
redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[4], '-inf', ARGV[1])
return 1

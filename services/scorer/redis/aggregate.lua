-- Per-jail figures for `status`, in the jail's own hash slot; applied in
-- batches. Sets and removals are idempotent; entries carry their expiry as
-- their score and are pruned here, so the sets stay bounded. The totals are
-- not, so each batch is applied once: a replica sends a batch whose reply it
-- did not get again under the same number, and only a number above that
-- replica's last applied one counts.
-- KEYS[1] total failed (counter)  KEYS[2] total banned (counter)
-- KEYS[3] failing targets (sorted set, score: when the window empties)
-- KEYS[4] banned targets (sorted set, score: ban end, +inf for permanent)
-- KEYS[5] applied batches (sorted set, replica -> its last batch number,
--         which grows with the clock; replicas silent for a day are pruned)
-- ARGV[1] now (ms)  ARGV[2] replica  ARGV[3] batch number
-- ARGV[4] failed increment  ARGV[5] banned increment
-- then four lists, each a count followed by its items:
--   failing (target, score) pairs; failing removals (target);
--   banned (target, score) pairs;  banned removals (target)
-- Replies 1 when applied, 0 when the batch was applied before.
if redis.call('ZADD', KEYS[5], 'GT', 'CH', ARGV[3], ARGV[2]) == 0 then return 0 end
redis.call('ZREMRANGEBYSCORE', KEYS[5], '-inf', string.format('%.0f', tonumber(ARGV[1]) - 86400000))
if ARGV[4] ~= '0' then redis.call('INCRBY', KEYS[1], ARGV[4]) end
if ARGV[5] ~= '0' then redis.call('INCRBY', KEYS[2], ARGV[5]) end
local i = 6
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

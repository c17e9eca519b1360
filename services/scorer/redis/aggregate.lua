-- Per-jail figures for `status`, in the jail's own hash slot; applied in
-- batches. Everything here is idempotent, so a batch may be applied twice
-- (a lost reply, a redelivered message reported again by another replica).
-- Totals: each target's script keeps counters that only grow (failures
-- counted, bans recorded) under an epoch (the event that created them);
-- a report carries them, and only what exceeds the last report seen for
-- that target (same epoch) is added. A new epoch (the target's counters
-- expired and started again) adds its whole count; a report of an older
-- epoch than the one seen adds nothing. Entries carry their expiry as
-- their score and are pruned here, so every set stays bounded.
-- KEYS[1] total failed (counter)  KEYS[2] total banned (counter)
-- KEYS[3] failing targets (sorted set, score: when the window empties)
-- KEYS[4] banned targets (sorted set, score: ban end, +inf for permanent)
-- KEYS[5] last report per target (hash: target -> "epoch failed banned")
-- KEYS[6] when each report may be forgotten (sorted set: target -> ms),
--         later than the target's counters can live
-- ARGV[1] now (ms)
-- then five lists, each a count followed by its items:
--   reports (target, epoch, failed, banned, forget-after);
--   failing (target, score) pairs; failing removals (target);
--   banned (target, score) pairs;  banned removals (target)
-- Replies the failures and bans added to the totals.
local now = tonumber(ARGV[1])
local i = 2
local added_failed, added_banned = 0, 0

local n = tonumber(ARGV[i]); i = i + 1
for _ = 1, n do
  local target, epoch, f, b, forget = ARGV[i], ARGV[i + 1], tonumber(ARGV[i + 2]), tonumber(ARGV[i + 3]), ARGV[i + 4]
  i = i + 5
  local seen = redis.call('HGET', KEYS[5], target)
  local pe, pf, pb = '', 0, 0
  if seen then
    local a, x, y = string.match(seen, '^(.*) (%d+) (%d+)$')
    pe, pf, pb = a, tonumber(x), tonumber(y)
  end
  local df, db, keep = 0, 0, true
  if seen and pe == epoch then
    df, db = math.max(0, f - pf), math.max(0, b - pb)
    f, b = math.max(f, pf), math.max(b, pb)
  elseif seen and tonumber(forget) < tonumber(redis.call('ZSCORE', KEYS[6], target) or 0) then
    keep = false
  else
    df, db = f, b
  end
  if keep then
    added_failed, added_banned = added_failed + df, added_banned + db
    redis.call('HSET', KEYS[5], target, epoch .. ' ' .. f .. ' ' .. b)
    redis.call('ZADD', KEYS[6], 'GT', forget, target)
  end
end
if added_failed > 0 then redis.call('INCRBY', KEYS[1], added_failed) end
if added_banned > 0 then redis.call('INCRBY', KEYS[2], added_banned) end

-- A failing add never puts back a target whose ban is in force: replicas
-- flush apart, so replica A's "X is failing" (an early failure) can land
-- after replica B's "X is banned" (which removed X from failing), and X would
-- then be listed as failing until its window ended.
local function banned_now(target)
  local score = redis.call('ZSCORE', KEYS[4], target)
  return score and (score == 'inf' or tonumber(score) > now)
end
local function pairs_into(key, gt)
  local m = tonumber(ARGV[i]); i = i + 1
  for _ = 1, m do
    if gt then
      if not banned_now(ARGV[i]) then redis.call('ZADD', key, 'GT', ARGV[i + 1], ARGV[i]) end
    else
      redis.call('ZADD', key, ARGV[i + 1], ARGV[i])
    end
    i = i + 2
  end
end
local function remove_from(key)
  local m = tonumber(ARGV[i]); i = i + 1
  for _ = 1, m do
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
-- Forget reports whose targets' counters have expired, a bounded number per batch.
local old = redis.call('ZRANGEBYSCORE', KEYS[6], '-inf', ARGV[1], 'LIMIT', 0, 1000)
for _, target in ipairs(old) do
  redis.call('HDEL', KEYS[5], target)
  redis.call('ZREM', KEYS[6], target)
end
return {added_failed, added_banned}

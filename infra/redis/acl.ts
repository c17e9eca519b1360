import { createHash } from 'node:crypto';

/**
 * Every command the scorer sends, and why. Commands that its Lua scripts call
 * are listed too: Redis checks `redis.call` against the caller's ACL, keys
 * included, so a script cannot reach further than its caller.
 */
export const SCORER_COMMANDS = {
  // Connection set-up by ioredis, and the health probe.
  ping: 'RedisHealth probes Redis while it is down',
  info: "ioredis's ready check waits until Redis has loaded its data (and, with sentinels, checks the node is the master)",
  'client|setname': 'ioredis names the connection (`fleetban-scorer@host` in CLIENT LIST)',
  quit: 'closing the connection on stop',
  // Scripts: run by hash, loaded at start, sent whole after a restart flushed them (NOSCRIPT).
  evalsha: 'failure.lua, decision.lua, aggregate.lua',
  eval: 'the same scripts after NOSCRIPT',
  'script|load': 'loading the scripts at start',
  // Direct calls.
  get: '`status`: per-jail totals',
  hgetall: '`status`: a ban\'s details',
  zcount: '`status`: currently failing and banned counts',
  zrangebyscore: '`status`: the banned list, and jails that only manual bans name',
  zrange: 'reading a target\'s window (also failure.lua)',
  // Inside the Lua scripts.
  hmget: 'failure.lua, decision.lua: the current ban and ban counts',
  hset: 'failure.lua, decision.lua: recording a ban and counts',
  del: 'failure.lua, decision.lua: replacing a ban, clearing a window',
  pexpire: 'TTLs that mirror findtime, bantime and dbpurgeage',
  pttl: 'failure.lua: keeping the ban counts as long as dbpurgeage',
  zadd: 'failure.lua: a failure in its window; aggregate.lua: status sets; jails that only manual bans name',
  zscore: 'failure.lua: whether a failure was used up by a ban',
  zcard: 'failure.lua: failures in the window',
  zrem: 'aggregate.lua: targets that left the status sets',
  zremrangebyscore: 'pruning windows, status sets and jails whose manual bans ended',
  incrby: 'aggregate.lua: per-jail totals',
  hsetnx: "failure.lua, decision.lua: the epoch of a target's counters",
  hincrby: "failure.lua, decision.lua: a target's counters of failures and bans",
  hget: 'aggregate.lua: the last counters reported for a target',
  hdel: 'aggregate.lua: forgetting reports of counters that expired',
} as const;

/** Only used with `redis.mode: cluster`: ioredis reads the slot map and follows ASK redirections. */
export const SCORER_CLUSTER_COMMANDS = { 'cluster|slots': 'the slot map', asking: 'ASK redirections while slots move' } as const;

export interface ScorerAclOptions {
  user: string;
  password: string;
  /** `redis.keyPrefix`: the scorer's keys are `<prefix>*`. */
  keyPrefix: string;
  /** `redis.db`: SELECT is allowed only when the scorer does not use db 0. */
  db?: number;
  cluster?: boolean;
}

/** A password as an ACL file stores it: `#<sha256>`, so the file holds no secret. */
export function aclPasswordHash(password: string): string {
  return `#${createHash('sha256').update(password).digest('hex')}`;
}

/**
 * The scorer's ACL rule: its own keys only (`~<prefix>*`), no pub/sub
 * channels, no command but those in {@link SCORER_COMMANDS}. Pure.
 */
export function scorerAclRule(options: ScorerAclOptions): string {
  if (!/^[A-Za-z0-9:_.-]{0,64}$/.test(options.keyPrefix)) throw new Error(`key prefix "${options.keyPrefix}" has characters an ACL pattern would read as a glob`);
  const commands = [
    ...Object.keys(SCORER_COMMANDS),
    ...(options.cluster ? Object.keys(SCORER_CLUSTER_COMMANDS) : []),
    ...((options.db ?? 0) !== 0 ? ['select'] : []),
  ];
  return ['user', options.user, 'reset', 'on', aclPasswordHash(options.password), `~${options.keyPrefix}*`, 'resetchannels', '-@all', ...commands.map((c) => `+${c}`)].join(' ');
}

/** An operator's user for maintenance (`redis-cli --user ...`): everything. */
export function adminAclRule(user: string, password: string): string {
  return ['user', user, 'reset', 'on', aclPasswordHash(password), '~*', '&*', '+@all'].join(' ');
}

/**
 * A whole ACL file (`aclfile` in redis.conf): the default user switched off,
 * the scorer, and an administrator. With `aclfile`, these are all the users
 * Redis has; merge them into an existing file on a Redis that serves others.
 */
export function renderAclFile(scorer: ScorerAclOptions, admin: { user: string; password: string }): string {
  return [
    'user default off resetkeys resetchannels -@all',
    scorerAclRule(scorer),
    adminAclRule(admin.user, admin.password),
    '',
  ].join('\n');
}

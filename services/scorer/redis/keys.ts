import { hashTag } from '../../../shared/redis/index.ts';

/**
 * Where the scorer keeps its state in Redis. Everything about one target (an
 * address, or an IPv6 network with `ipv6prefix`) carries the target as its
 * Redis Cluster hash tag, so the windows and bans of every jail and the ban
 * counts that `bantime.overalljails` sums all live in one slot, and one script
 * can touch them atomically. Per-jail figures for `status` carry the jail as
 * their tag instead.
 *
 * | key | type | holds | bounded by |
 * |---|---|---|---|
 * | `<p>{<target>}:w:<jail>` | sorted set | event id → log time | TTL findtime; pruned to findtime |
 * | `<p>{<target>}:x:<jail>` | sorted set | event id → time of failures a ban used up | TTL findtime; pruned to findtime |
 * | `<p>{<target>}:b:<jail>` | hash | the ban | TTL = ban length; none when permanent |
 * | `<p>{<target>}:c` | hash | ban counts per jail and over all | TTL dbpurgeage |
 * | `<p>{jail:<jail>}:failed`, `:bans` | counter | totals | one per jail |
 * | `<p>{jail:<jail>}:failing` | sorted set | target → when its window empties | pruned by score |
 * | `<p>{jail:<jail>}:banned` | sorted set | target → ban end (+inf: permanent) | pruned by score |
 * | `<p>{<target>}:n` | hash | the target's counters: failures counted, bans recorded, per jail | TTL a day since the last change |
 * | `<p>{jail:<jail>}:reports`, `:forget` | hash, sorted set | the last counters reported per target | pruned a day and an hour after the report |
 * | `<p>{jails}:live` | sorted set | jail named by a manual ban → when its last such ban ends (+inf: permanent) | pruned by score |
 */
export class KeyLayout {
  constructor(readonly prefix: string) {}

  window(target: string, jail: string): string {
    return `${this.prefix}${hashTag(target)}:w:${jail}`;
  }

  spent(target: string, jail: string): string {
    return `${this.prefix}${hashTag(target)}:x:${jail}`;
  }

  ban(target: string, jail: string): string {
    return `${this.prefix}${hashTag(target)}:b:${jail}`;
  }

  counts(target: string): string {
    return `${this.prefix}${hashTag(target)}:c`;
  }

  /** The four per-jail figures, in the order aggregate.lua takes them. */
  jailFigures(jail: string): [failed: string, bans: string, failing: string, banned: string] {
    const base = `${this.prefix}${hashTag(`jail:${jail}`)}`;
    return [`${base}:failed`, `${base}:bans`, `${base}:failing`, `${base}:banned`];
  }

  /** The last report of each target's counters, and when it may be forgotten (aggregate.lua's fifth and sixth keys). */
  jailReports(jail: string): [reports: string, forget: string] {
    const base = `${this.prefix}${hashTag(`jail:${jail}`)}`;
    return [`${base}:reports`, `${base}:forget`];
  }

  /** A target's counters for status totals (failures counted, bans recorded, per jail). */
  targetFigures(target: string): string {
    return `${this.prefix}${hashTag(target)}:n`;
  }

  /**
   * Jails that only manual bans name, until their bans end: `status` lists
   * them beside the configured jails while they hold something, and a
   * mistyped `--jail` fades instead of being listed for ever.
   */
  liveJails(): string {
    return `${this.prefix}${hashTag('jails')}:live`;
  }
}

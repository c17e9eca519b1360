import { formatDuration, PERMANENT } from '../time/index.ts';
import { longestBan, MAX_BAN, uncappedLongestBan } from './bantime.ts';
import type { Config } from './schema/index.ts';

/**
 * How much longer than the longest ban the decisions stream must keep a
 * decision when `maxAge` is set by hand: a ban may start a little after its
 * decision was stored (clock skew between hosts, a slow publish).
 */
export const RETENTION_MARGIN = 3_600_000;

const YEAR = 31_557_600_000;

type Report = (path: readonly PropertyKey[], message: string) => void;

/**
 * Checks that need the whole resolved config: the streams must keep messages
 * as long as the jails need them (else `banned` and a new enforcer forget
 * bans still in force), and a ban that can grow past {@link MAX_BAN} is
 * capped (a warning, not an error).
 */
export function checkRetention(config: Pick<Config, 'jails' | 'nats'>, refuse: Report, warn: Report): void {
  const jails = Object.values(config.jails);
  for (const jail of jails) {
    const grown = uncappedLongestBan(jail);
    if (grown !== PERMANENT && grown > MAX_BAN) {
      const formula = jail['bantime.formula'] !== undefined && jail['bantime.maxtime'] === undefined;
      const what = Number.isFinite(grown)
        ? `to about ${Number((grown / YEAR).toPrecision(3))} years`
        : `without bound${formula ? ' (a bantime.formula and no bantime.maxtime)' : ''}`;
      warn(['jails', jail.name, 'bantime.increment'], `bans grow ${what}; each is capped at ${MAX_BAN / YEAR} years (set bantime.maxtime to choose)`);
    }
  }

  const decisions = config.nats.streams.decisions.maxAge;
  if (typeof decisions === 'number' && decisions !== 0) {
    const permanent = jails.find((j) => j.bantime === PERMANENT);
    const longest = jails.map((j) => ({ jail: j.name, ms: longestBan(j) })).sort((a, b) => b.ms - a.ms)[0];
    if (permanent) {
      refuse(['nats', 'streams', 'decisions', 'maxAge'], `jail ${permanent.name} bans for ever, so decisions must be kept for ever: use 0 or auto`);
    } else if (longest && decisions < longest.ms + RETENTION_MARGIN) {
      refuse(
        ['nats', 'streams', 'decisions', 'maxAge'],
        `${formatDuration(decisions)} is shorter than the longest ban (${formatDuration(longest.ms)} in jail ${longest.jail}) plus ` +
          `${formatDuration(RETENTION_MARGIN)}: an enforcer started later would miss bans still in force; ` +
          `use at least ${formatDuration(longest.ms + RETENTION_MARGIN)}, 0 (for ever) or auto`,
      );
    }
  }

  const failures = config.nats.streams.failures.maxAge;
  if (typeof failures === 'number' && failures !== 0) {
    const longest = jails.sort((a, b) => b.findtime - a.findtime)[0];
    if (longest && failures < longest.findtime) {
      refuse(
        ['nats', 'streams', 'failures', 'maxAge'],
        `${formatDuration(failures)} is shorter than findtime ${formatDuration(longest.findtime)} of jail ${longest.name}: ` +
          `failures would leave the stream while they still count; use at least ${formatDuration(longest.findtime)}, 0 or auto`,
      );
    }
  }
}

import { InvalidInputError } from '../../../../shared/errors.ts';
import { extractOptions, parseJournalMatch, type FilterDefinition } from '../../../../shared/filter/index.ts';
import { matchArgs, type JournalReadOptions } from '../../../shipper/sources/journal/index.ts';

/**
 * LOG `systemd-journal[...]` of fail2ban-regex: the systemd backend's
 * options (see `man jail.conf`) turned into journalctl's, and the
 * journalmatch it reads with. Pure: text in, options out.
 */

/** A LOG or -m value that cannot be used; the message says why. */
export class JournalSpecError extends InvalidInputError {}

/** SD_JOURNAL_* flags that journalctl can express. */
const FLAGS = { localOnly: 1, runtimeOnly: 2, system: 4, currentUser: 8 } as const;

/** fail2ban's default when neither journalpath nor journalfiles is given (F2B_SYSTEMD_DEFAULT_FLAGS overrides it there too). */
const DEFAULT_FLAGS = FLAGS.system;

export function isJournalLog(log: string): boolean {
  return log.startsWith('systemd-journal');
}

/** `systemd-journal[journalpath=DIR, journalfiles=GLOB ..., journalflags=N, namespace=NAME]` as journalctl options (no match yet). */
export function journalOptions(log: string, env: NodeJS.ProcessEnv = process.env): Omit<JournalReadOptions, 'match'> {
  let options: Record<string, string>;
  try {
    options = extractOptions(log).options;
  } catch (err) {
    throw new JournalSpecError(`${log}: ${(err as Error).message}`);
  }
  const known = ['journalpath', 'journalfiles', 'journalflags', 'namespace'];
  const unknown = Object.keys(options).filter((k) => !known.includes(k));
  if (unknown.length > 0) throw new JournalSpecError(`${log}: unknown option ${unknown.join(', ')} (known: ${known.join(', ')})`);
  const out: Omit<JournalReadOptions, 'match'> = {};
  if (options.journalpath) out.directory = options.journalpath;
  // fail2ban's splitwords: commas and white space separate the globs.
  const files = (options.journalfiles ?? '').split(/[\s,]+/).filter(Boolean);
  if (files.length > 0) out.files = files;
  if (options.namespace) out.namespace = options.namespace;
  const given = options.journalflags ?? (out.directory || out.files ? undefined : env.F2B_SYSTEMD_DEFAULT_FLAGS);
  const flags = given !== undefined ? pythonInt(given, log) : out.directory || out.files ? undefined : DEFAULT_FLAGS;
  if (flags !== undefined) {
    const all = FLAGS.localOnly | FLAGS.runtimeOnly | FLAGS.system | FLAGS.currentUser;
    if (flags & ~all || flags & FLAGS.runtimeOnly) {
      throw new JournalSpecError(`${log}: journalflags=${flags}: journalctl can read only the journal kinds LOCAL_ONLY (1), SYSTEM (4) and CURRENT_USER (8)`);
    }
    if (flags & FLAGS.system) out.system = true;
    if (flags & FLAGS.currentUser) out.user = true;
    // Without LOCAL_ONLY the journals of other machines (journal-remote) are read too.
    if (!(flags & FLAGS.localOnly) && !out.directory && !out.files) out.merge = true;
  }
  return out;
}

/**
 * The match fail2ban-regex reads the journal with: `-m` when given (even an
 * empty one, which matches every entry), else the filter's journalmatch.
 * fail2ban-regex sets the filter's journalmatch once per line of it, each
 * replacing the one before, so only the last line counts.
 */
export function journalMatch(option: string | undefined, filter: FilterDefinition | undefined): string[][] {
  try {
    const lines = (filter?.journalmatch ?? []).filter((l) => l.trim() !== '');
    const groups = option !== undefined ? parseJournalMatch([option]) : lines.length === 0 ? [] : parseJournalMatch([lines[lines.length - 1]!]);
    matchArgs(groups);
    return groups;
  } catch (err) {
    throw new JournalSpecError(`journalmatch: ${(err as Error).message}`);
  }
}

/** The match as fail2ban-regex prints it ("Use    journal match : A=1 + B=2"). */
export function describeMatch(groups: readonly (readonly string[])[]): string {
  return groups.map((g) => g.join(' ')).join(' + ');
}

/** Python's int() of a journalflags value. */
function pythonInt(value: string, log: string): number {
  const s = value.trim().replaceAll('_', '');
  if (!/^[+-]?\d+$/.test(s)) throw new JournalSpecError(`${log}: journalflags must be an integer, not ${JSON.stringify(value)}`);
  return Number(s);
}

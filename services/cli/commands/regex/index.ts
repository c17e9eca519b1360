import { CommanderError, InvalidArgumentError, Option } from 'commander';
import { VERSION } from '../../../../shared/version.ts';
import { DEFAULT_MAX_LINE_LENGTH } from '../../../../shared/filter/limits.ts';
import { action, type CliCommand } from '../../command.ts';

export interface RegexOpts {
  config?: string;
  datepattern?: string;
  /** `--timezone` / `--TZ` (commander names the option after its last long flag). */
  TZ?: string;
  zone?: string;
  /** A Python codec name, as fail2ban-regex takes it (see encoding.ts). */
  encoding: string;
  raw?: boolean;
  usedns?: string;
  maxlines?: number;
  journalmatch?: string;
  /** `-v` counted, or `--verbosity N` (both set fail2ban-regex's `verbose`; the last given wins). */
  verbose?: number;
  logLevel: string;
  verboseDate?: boolean;
  debuggex?: boolean;
  checkAll: boolean;
  out?: string;
  printNoMissed?: boolean;
  printNoIgnored?: boolean;
  printAllMatched?: boolean;
  printAllMissed?: boolean;
  printAllIgnored?: boolean;
  json?: boolean;
  maxLineLength: number;
  progress: boolean;
}

/**
 * The fail2ban release whose fail2ban-regex this command follows (Debian's
 * package the tests compare with): what `fleetban regex -V` prints, as
 * `fail2ban-regex -V` prints its own, for scripts that check it.
 */
export const FAIL2BAN_VERSION = '1.0.2';

const nonNegativeInt = (v: string) => {
  const n = Number(v);
  if (!/^\s*[+-]?\d+\s*$/.test(v) || n < 0) throw new InvalidArgumentError(`invalid integer value: '${v}'`);
  return n;
};

const positiveInt = (v: string) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n <= 0) throw new Error(`not a positive integer: ${v}`);
  return n;
};

/**
 * `fleetban regex LOG REGEX [IGNOREREGEX]`: tests a filter on a log file, a
 * line or the journal, with fail2ban-regex's options and output, so scripts written for
 * fail2ban-regex keep working (`-o ip` prints the same addresses in the
 * same order).
 */
export const regexCommand = {
  name: 'regex',
  register(program, io, done) {
    const command = program
      .command('regex')
      .description('test a fail2ban filter (name with options, file, or regex) on a log file or a line, like fail2ban-regex')
      .argument('<log>', 'a log file, a log line, or systemd-journal (with the backend\'s options: systemd-journal[journalpath=DIR]) to read the journal through journalctl')
      .argument('<regex>', 'a filter name (sshd, sshd[mode=aggressive]), a filter file, or a failregex')
      .argument('[ignoreregex]', 'an ignoreregex, or a filter file whose ignoreregex to use')
      .option('-c, --config <dir>', 'fail2ban config dir (its filter.d is searched first) or a filter.d dir')
      .option('-d, --datepattern <pattern>', 'date pattern used instead of the filter\'s')
      .option('--timezone, --TZ <zone>', 'time zone of dates that name none (UTC, UTC+0200, CEST)')
      .option('--zone <zone>', 'local time zone (IANA name or POSIX TZ rule) instead of the process\'s')
      .option('-e, --encoding <encoding>', 'log file encoding, a Python codec (utf-8, latin-1, ascii, cp1252)', 'UTF-8')
      .option('-r, --raw', 'raw hosts: report host names as they are')
      .addOption(new Option('--usedns <mode>', 'what <HOST> matches: yes/warn (names too, never resolved), no (addresses only), raw').choices(['yes', 'warn', 'no', 'raw']))
      .option('-L, --maxlines <n>', 'maxlines for multi-line regexes', positiveInt)
      .option('-m, --journalmatch <match>', 'journalctl style matches (FIELD=value, + between alternatives) used instead of the filter\'s journalmatch; LOG systemd-journal only')
      .option('-l, --log-level <level>', 'level of the log records printed with the report', 'critical')
      .option('-V', 'print the fail2ban version whose fail2ban-regex this follows, as fail2ban-regex -V does')
      .version(VERSION, '--version', "print fleetban's version")
      .option('-v, --verbose', 'list the failures found by each regex', (_v: string, prev: number | undefined) => (prev ?? 0) + 1)
      .option('--verbosity <n>', 'set the verbosity (0..4) instead of counting -v', nonNegativeInt)
      .option('--VD, --verbose-date', 'show each date template\'s weight, pattern and regex')
      .option('-D, --debuggex', 'add debuggex.com links to the listed lines')
      .option('--no-check-all', 'stop at the first matching regex, as the daemon does')
      .option('-o, --out <token>', 'print only failure information: ip, id, msg, row, host, user, or a format with <ip>, <F-USER>, ...')
      .option('--print-no-missed', 'do not print missed lines')
      .option('--print-no-ignored', 'do not print ignored lines')
      .option('--print-all-matched', 'print all matched lines')
      .option('--print-all-missed', 'print all missed lines, no matter how many')
      .option('--print-all-ignored', 'print all ignored lines, no matter how many')
      .addOption(new Option('-t, --log-traceback', 'accepted for fail2ban-regex compatibility').hideHelp())
      .addOption(new Option('--full-traceback', 'accepted for fail2ban-regex compatibility').hideHelp())
      .option('--json', 'print the result as JSON')
      .option('--max-line-length <n>', 'cut lines to this many characters before matching', positiveInt, DEFAULT_MAX_LINE_LENGTH)
      .option('--no-progress', 'no progress bar, even on a terminal')
      .action(
        action(io, done, async (log: string, regex: string, ignoreregex: string | undefined, opts: RegexOpts) => {
          // The engine loads only when the command runs, so other commands start without it.
          const { runRegex } = await import('./run.ts');
          return runRegex(io, log, regex, ignoreregex, opts);
        }),
      );
    // Like optparse's callback: -V prints and ends the run as soon as it is read, whatever else is given.
    command.on('option:V', () => {
      io.stdout.write(`${FAIL2BAN_VERSION}\n`);
      throw new CommanderError(0, 'commander.version', FAIL2BAN_VERSION);
    });
    // --verbosity and -v share fail2ban-regex's `verbose`: -v after --verbosity N counts on from N.
    command.on('option:verbosity', (n: string) => command.setOptionValue('verbose', nonNegativeInt(n)));
  },
} satisfies CliCommand;


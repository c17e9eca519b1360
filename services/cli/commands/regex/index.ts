import { Option } from 'commander';
import { DEFAULT_MAX_LINE_LENGTH } from '../../../../shared/filter/limits.ts';
import { action, type CliCommand } from '../../command.ts';

export interface RegexOpts {
  config?: string;
  datepattern?: string;
  timezone?: string;
  zone?: string;
  encoding: string;
  raw?: boolean;
  usedns?: string;
  maxlines?: number;
  journalmatch?: string;
  verbose?: number;
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
    program
      .command('regex')
      .description('test a fail2ban filter (name with options, file, or regex) on a log file or a line, like fail2ban-regex')
      .argument('<log>', 'a log file, a log line, or systemd-journal (with the backend\'s options: systemd-journal[journalpath=DIR]) to read the journal through journalctl')
      .argument('<regex>', 'a filter name (sshd, sshd[mode=aggressive]), a filter file, or a failregex')
      .argument('[ignoreregex]', 'an ignoreregex, or a filter file whose ignoreregex to use')
      .option('-c, --config <dir>', 'fail2ban config dir (its filter.d is searched first) or a filter.d dir')
      .option('-d, --datepattern <pattern>', 'date pattern used instead of the filter\'s')
      .option('--timezone, --TZ <zone>', 'time zone of dates that name none (UTC, UTC+0200, CEST)')
      .option('--zone <zone>', 'local time zone (IANA name or POSIX TZ rule) instead of the process\'s')
      .option('-e, --encoding <encoding>', 'log file encoding', 'utf-8')
      .option('-r, --raw', 'raw hosts: report host names as they are')
      .addOption(new Option('--usedns <mode>', 'what <HOST> matches: yes/warn (names too, never resolved), no (addresses only), raw').choices(['yes', 'warn', 'no', 'raw']))
      .option('-L, --maxlines <n>', 'maxlines for multi-line regexes', positiveInt)
      .option('-m, --journalmatch <match>', 'journalctl style matches (FIELD=value, + between alternatives) used instead of the filter\'s journalmatch; LOG systemd-journal only')
      .addOption(new Option('-l, --log-level <level>', 'accepted for fail2ban-regex compatibility').hideHelp())
      .option('-v, --verbose', 'list the failures found by each regex', (_v: string, prev: number | undefined) => (prev ?? 0) + 1)
      .addOption(new Option('--verbosity <n>', 'accepted for fail2ban-regex compatibility').hideHelp())
      .addOption(new Option('--VD, --verbose-date', 'accepted for fail2ban-regex compatibility').hideHelp())
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
  },
} satisfies CliCommand;


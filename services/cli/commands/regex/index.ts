import { existsSync, statSync } from 'node:fs';
import { Option } from 'commander';
import { errorMessage } from '../../../../shared/errors.ts';
import { DEFAULT_MAX_LINE_LENGTH, FilterError, type UseDns } from '../../../../shared/filter/index.ts';
import { action, EXIT, type CliCommand } from '../../command.ts';
import { forEachLine, progressBar } from './lines.ts';
import { formatJson, formatOut, formatReport } from './output.ts';
import { readSource, RegexSession, type SessionOptions } from './session.ts';

/** Files bigger than this get a progress bar on a terminal. */
const PROGRESS_FROM_BYTES = 8 * 1024 * 1024;

interface RegexOpts {
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
 * `fleetban regex LOG REGEX [IGNOREREGEX]`: tests a filter on a log file or
 * a line, with fail2ban-regex's options and output, so scripts written for
 * fail2ban-regex keep working (`-o ip` prints the same addresses in the
 * same order).
 */
export const regexCommand = {
  name: 'regex',
  register(program, io, done) {
    program
      .command('regex')
      .description('test a fail2ban filter (name with options, file, or regex) on a log file or a line, like fail2ban-regex')
      .argument('<log>', 'a log file, or a log line')
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
      .option('-m, --journalmatch <match>', 'journalctl style matches overriding the filter\'s (shown, not used on files)')
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
          if (opts.printNoMissed && opts.printAllMissed) return usage('--print-no-missed and --print-all-missed are mutually exclusive.');
          if (opts.printNoIgnored && opts.printAllIgnored) return usage('--print-no-ignored and --print-all-ignored are mutually exclusive.');
          let encoding = opts.encoding;
          try {
            new TextDecoder(encoding);
          } catch {
            return usage(`unknown encoding: ${encoding}`);
          }
          encoding = new TextDecoder(encoding).encoding;
          const out: string[] = [];
          const flush = () => {
            if (out.length) io.stdout.write(`${out.join('\n')}\n`);
            out.length = 0;
          };
          const options: SessionOptions = {
            configDir: opts.config,
            datepattern: opts.datepattern,
            maxlines: opts.maxlines,
            journalmatch: opts.journalmatch,
            usedns: opts.usedns as UseDns | undefined,
            raw: Boolean(opts.raw),
            checkAll: opts.checkAll,
            out: opts.out,
            timezone: opts.timezone,
            localZone: opts.zone,
            maxLineLength: opts.maxLineLength,
            printAllMatched: Boolean(opts.printAllMatched),
            printAllMissed: Boolean(opts.printAllMissed),
            printAllIgnored: Boolean(opts.printAllIgnored),
            printNoMissed: Boolean(opts.printNoMissed),
            printNoIgnored: Boolean(opts.printNoIgnored),
            listLimit: opts.maxlines ?? 20,
            keepFailures: Boolean(opts.json || opts.verbose),
            onFailures: opts.out
              ? (failures) => {
                  out.push(...formatOut(opts.out!, failures));
                  if (out.length >= 4096) flush();
                }
              : undefined,
          };
          let session: RegexSession;
          try {
            const fail = readSource(regex, options);
            const ignore = ignoreregex === undefined ? undefined : readSource(ignoreregex, options);
            session = new RegexSession(fail, ignore, options);
          } catch (err) {
            if (err instanceof FilterError) {
              io.stderr.write(`ERROR: ${errorMessage(err)}\n`);
              return EXIT.config;
            }
            throw err;
          }
          const quiet = Boolean(opts.out || opts.json);
          const say = (line: string) => {
            if (!quiet) out.push(line);
          };
          say('');
          say('Running tests');
          say('=============');
          say('');
          const describe = (kind: string, src: typeof session.fail) =>
            src.kind === 'filter'
              ? say(`Use ${kind.padStart(11)} filter file : ${src.label}, basedir: ${src.basedir}`)
              : say(`Use ${kind.padStart(11)} line : ${shortstr(src.label)}`);
          describe('failregex', session.fail);
          if (session.ignore) describe('ignoreregex', session.ignore);
          if (opts.maxlines !== undefined || session.fail.definition?.maxlines !== undefined) say(`Use         maxlines : ${session.filter.maxlines}`);
          if (session.filter.datepattern !== undefined) {
            const t = session.dateTemplates() ?? [];
            const name = t.length === 0 || t.length > 2 ? 'Default Detectors' : t[0]!.name;
            say(`Use      datepattern : ${session.filter.datepattern} : ${name}`);
          }
          const isFile = existsSync(log) && statSync(log).isFile();
          if (isFile) {
            say(`Use         log file : ${log}`);
            say(`Use         encoding : ${encoding.toUpperCase()}`);
            say('');
            flush();
            const bar = io.isTty && opts.progress && !opts.out && statSync(log).size >= PROGRESS_FROM_BYTES ? progressBar(io.stderr) : undefined;
            const { incompleteLast } = await forEachLine(log, encoding, (l) => session.push(l), bar ? (b, t) => bar.update(b, t) : undefined);
            bar?.done();
            if (incompleteLast) io.stderr.write(`fleetban regex: the last line of ${log} has no line end; left out, as fail2ban-regex does\n`);
          } else {
            const lines = log.split('\n');
            if (session.filter.maxlines <= 1 && lines.length === 1) {
              say(`Use      single line : ${shortstr(log.replaceAll('\n', '\\n'))}`);
            } else {
              say(`Use      multi line : ${lines.length} line(s)`);
              lines.slice(0, 5).forEach((l, i) => say(`| ${String(i + 1).padStart(2).slice(0, 2)}: ${shortstr(l)}`));
              if (lines.length > 5) say('| ...');
              say('`-');
            }
            say('');
            for (const l of lines) session.push(l);
          }
          session.finish();
          if (opts.json) {
            out.push(JSON.stringify(formatJson(session), null, 2));
          } else if (!opts.out) {
            out.push(...formatReport(session, Boolean(opts.verbose)));
          }
          flush();
          return EXIT.ok;

          function usage(message: string): number {
            io.stderr.write(`ERROR: ${message}\n`);
            return EXIT.usage;
          }
        }),
      );
  },
} satisfies CliCommand;

function shortstr(s: string, l = 53): string {
  return s.length > l ? `${s.slice(0, l - 3)}...` : s;
}

import { existsSync, statSync } from 'node:fs';
import { errorMessage } from '../../../../shared/errors.ts';
import { FilterError, journalLine, journalMicros, type UseDns } from '../../../../shared/filter/index.ts';
import { EXIT, type CliIo } from '../../command.ts';
import type { RegexOpts } from './index.ts';
import { describeMatch, isJournalLog, journalMatch, journalOptions, JournalSpecError } from './journal.ts';
import { KNOWN_CODECS, pythonCodec } from './encoding.ts';
import { forEachLine, progressBar } from './lines.ts';
import { decodeWarnings, Fail2banLog, logLevel, LogLevelError, UNREPRODUCED_BELOW } from './log.ts';
import { formatOut } from './out.ts';
import { formatJson, formatReport } from './report.ts';
import { readSource, RegexSession, type SessionOptions } from './session.ts';
import { pyRepr } from './text.ts';

/** The journal is read with this journalctl (found on PATH). */
const JOURNALCTL = 'journalctl';

/** Files bigger than this get a progress bar on a terminal. */
const PROGRESS_FROM_BYTES = 8 * 1024 * 1024;

/** logging.DEBUG: fail2ban-regex shows the real filter options from this level on, as with -vv. */
const DEBUG = 10;

/** The `fleetban regex` run: read the filter, feed the log, print fail2ban-regex's report, `-o` or JSON. */
export async function runRegex(io: CliIo, log: string, regex: string, ignoreregex: string | undefined, opts: RegexOpts): Promise<number> {
  if (opts.printNoMissed && opts.printAllMissed) return usage('--print-no-missed and --print-all-missed are mutually exclusive.');
  if (opts.printNoIgnored && opts.printAllIgnored) return usage('--print-no-ignored and --print-all-ignored are mutually exclusive.');
  const isFile = existsSync(log) && statSync(log).isFile();
  const fromJournal = !isFile && isJournalLog(log);
  // Shown as given, as fail2ban-regex shows it; decoded as the Python codec of that name.
  const encoding = opts.encoding;
  const codec = pythonCodec(encoding);
  if (!codec) return usage(`unknown encoding: ${encoding} (fleetban regex decodes ${KNOWN_CODECS})`);
  let level: number;
  try {
    level = logLevel(opts.logLevel);
  } catch (err) {
    if (err instanceof LogLevelError) return usage(err.message);
    throw err;
  }
  const verbose = opts.verbose ?? 0;
  const out: string[] = [];
  const flush = () => {
    if (out.length) io.stdout.write(`${out.join('\n')}\n`);
    out.length = 0;
  };
  const options: SessionOptions = {
    configDir: opts.config,
    datepattern: opts.datepattern || undefined,
    maxlines: opts.maxlines,
    // As fail2ban-regex: a LOG naming the journal reads the filter for the systemd backend (logtype journal).
    backend: isJournalLog(log) ? 'systemd' : 'auto',
    usedns: opts.usedns as UseDns | undefined,
    raw: Boolean(opts.raw),
    checkAll: opts.checkAll,
    out: opts.out,
    timezone: opts.TZ,
    localZone: opts.zone,
    maxLineLength: opts.maxLineLength,
    printAllMatched: Boolean(opts.printAllMatched),
    printAllMissed: Boolean(opts.printAllMissed),
    printAllIgnored: Boolean(opts.printAllIgnored),
    printNoMissed: Boolean(opts.printNoMissed),
    printNoIgnored: Boolean(opts.printNoIgnored),
    listLimit: opts.maxlines ?? 20,
    keepFailures: Boolean(opts.json || verbose),
    debuggex: Boolean(opts.debuggex),
    onFailures: opts.out
      ? (failures) => {
          out.push(...formatOut(opts.out!, failures));
          if (out.length >= 4096) flush();
        }
      : undefined,
  };
  const log2 = new Fail2banLog(level, verbose, (line) => out.push(line));
  if (level < UNREPRODUCED_BELOW) {
    io.stderr.write(
      `fleetban regex: -l ${opts.logLevel}: fail2ban's own records about its workings ` +
        '(files read, regexes compiled) have no counterpart here and are not printed\n',
    );
  }
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
  const describe = (kind: string, src: typeof session.fail) => {
    if (src.kind === 'regex') return say(`Use ${kind.padStart(11)} line : ${shortstr(src.label)}`);
    if (src.foreign) say(`Use ${kind.padStart(11)} file : ${src.label}`);
    else say(`Use ${kind.padStart(11)} filter file : ${src.label}, basedir: ${src.basedir}`);
    if (src.options && Object.keys(src.options).length > 0) say(`Use   filter options : ${pyRepr(src.options)}`);
    // fail2ban-regex -vv: what the filter's options came to after its files and the options given.
    const real = src.definition?.realOption;
    if ((verbose > 1 || level <= DEBUG) && real) {
      const shown = new Map<string, string>();
      for (const k of ['logtype', 'datepattern', ...Object.keys(src.options ?? {})]) {
        const v = real(k);
        if (v !== undefined && !shown.has(k)) shown.set(k, v);
      }
      say(`Real  filter options : ${pyRepr(shown)}`);
    }
  };
  const sayMaxlines = () => say(`Use         maxlines : ${session.filter.maxlines}`);
  const sayDatepattern = () => {
    const t = session.dateTemplates() ?? [];
    const name = t.length === 0 || t.length > 2 ? 'Default Detectors' : t[0]!.name;
    say(`Use      datepattern : ${session.filter.datepattern} : ${name}`);
  };
  // fail2ban-regex's order: the command line's settings, the filter, what the filter sets, the ignoreregex.
  if (options.maxlines !== undefined) sayMaxlines();
  if (options.datepattern !== undefined) sayDatepattern();
  describe('failregex', session.fail);
  if (options.maxlines === undefined && session.fail.definition?.maxlines !== undefined) sayMaxlines();
  if (options.datepattern === undefined && session.filter.datepattern !== undefined) sayDatepattern();
  if (session.ignore) describe('ignoreregex', session.ignore);
  if (fromJournal) {
    let journal;
    try {
      journal = { ...journalOptions(log), match: journalMatch(opts.journalmatch, session.fail.definition) };
    } catch (err) {
      if (err instanceof JournalSpecError) return usage(err.message);
      throw err;
    }
    say('Use         systemd journal');
    say(`Use         encoding : ${encoding}`);
    if (journal.match.length > 0) say(`Use    journal match : ${describeMatch(journal.match)}`);
    say('');
    flush();
    // Loaded here only: the journal reader is the shipper's, and most runs read a file.
    const { readJournal, JournalReadError } = await import('../../../shipper/sources/journal/index.ts');
    let skipped = 0;
    try {
      for await (const entry of readJournal(JOURNALCTL, journal, () => skipped++)) {
        session.pushEntry(journalLine(entry).line, journalMicros(entry));
      }
    } catch (err) {
      if (!(err instanceof JournalReadError)) throw err;
      flush();
      io.stderr.write(`ERROR: ${errorMessage(err)}\n`);
      return EXIT.unavailable;
    }
    if (skipped) io.stderr.write(`fleetban regex: ${skipped} line(s) of journalctl's output were not journal entries; left out\n`);
  } else if (isFile) {
    say(`Use         log file : ${log}`);
    say(`Use         encoding : ${encoding}`);
    say('');
    flush();
    const bar = io.isTty && opts.progress && !opts.out && statSync(log).size >= PROGRESS_FROM_BYTES ? progressBar(io.stderr) : undefined;
    const { incompleteLast } = await forEachLine(
      log,
      codec,
      (l) => session.push(l),
      bar ? (b, t) => bar.update(b, t) : undefined,
      decodeWarnings(log2, log, encoding),
    );
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
    out.push(
      ...formatReport(session, {
        verbose: verbose > 0,
        verboseDate: Boolean(opts.verboseDate),
        debuggex: opts.debuggex ? { codec, usedns: opts.usedns } : undefined,
      }),
    );
  }
  flush();
  if (session.unresolved && !opts.json) {
    io.stderr.write(
      `fleetban regex: ${session.unresolved} match(es) found a host name, not an address; ` +
        'fleetban never resolves names (--raw shows them)\n',
    );
  }
  return EXIT.ok;

  function usage(message: string): number {
    io.stderr.write(`ERROR: ${message}\n`);
    return EXIT.usage;
  }
}

function shortstr(s: string, l = 53): string {
  return s.length > l ? `${s.slice(0, l - 3)}...` : s;
}

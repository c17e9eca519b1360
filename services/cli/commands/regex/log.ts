import { InvalidInputError } from '../../../../shared/errors.ts';

/**
 * `-l LEVEL` of fail2ban-regex: the level of fail2ban's own logger, whose
 * records it writes to stdout among the report. fleetban writes the records
 * of what it does as fail2ban does (lines that do not decode); fail2ban's
 * INFO and DEBUG records about its own workings (config files read, regexes
 * compiled) have no counterpart here.
 */

/** A level fail2ban-regex refuses (str2LogLevel raises ValueError). */
export class LogLevelError extends InvalidInputError {}

/** logging's level names with those fail2ban adds (fail2ban/__init__.py). */
const LEVELS: Readonly<Record<string, number>> = {
  CRITICAL: 50,
  FATAL: 50,
  ERROR: 40,
  WARNING: 30,
  WARN: 30,
  NOTICE: 25,
  INFO: 20,
  MSG: 18,
  DEBUG: 10,
  TRACEDEBUG: 7,
  HEAVYDEBUG: 5,
  NOTSET: 0,
};

/** The name a record of this level shows (logging.getLevelName). */
const NAMES: Readonly<Record<number, string>> = {
  50: 'CRITICAL', 40: 'ERROR', 30: 'WARNING', 25: 'NOTICE', 20: 'INFO', 18: 'MSG', 10: 'DEBUG', 7: 'TRACE', 5: 'HEAVY',
};

/** The levels fail2ban's records about its own workings use, which fleetban does not write. */
export const UNREPRODUCED_BELOW = 25;

/** str2LogLevel: digits, or a level name in any case. */
export function logLevel(value: string): number {
  if (/^\d+$/.test(value)) return Number(value);
  const level = LEVELS[value.toUpperCase()];
  if (level === undefined) throw new LogLevelError(`Invalid log level '${value}'`);
  return level;
}

/** Where a record comes from, as Python's logging knows it. */
export interface LogSource {
  name: string;
  module: string;
  funcName: string;
}

const pad2 = (n: number) => String(n).padStart(2, '0');

/** %(asctime)s: local time with milliseconds after a comma. */
function asctime(d: Date): string {
  const ms = String(d.getMilliseconds()).padStart(3, '0');
  const day = `${d.getFullYear()}-${pad2(d.getMonth() + 1)}-${pad2(d.getDate())}`;
  return `${day} ${pad2(d.getHours())}:${pad2(d.getMinutes())}:${pad2(d.getSeconds())},${ms}`;
}

/** Python's `%-N.Ms`: cut to M, then padded to N. */
const field = (s: string, width: number, max = Infinity) => s.slice(0, max).padEnd(width);

/**
 * A logger with fail2ban-regex's handler: the format getVerbosityFormat
 * gives for the verbosity, each record a line for `write`.
 */
export class Fail2banLog {
  private readonly started = Date.now();

  constructor(
    readonly level: number,
    private readonly verbose: number,
    private readonly write: (line: string) => void,
  ) {}

  enabled(level: number): boolean {
    return level >= this.level;
  }

  log(level: number, source: LogSource, message: string): void {
    if (!this.enabled(level)) return;
    const name = NAMES[level] ?? `Level ${level}`;
    const now = new Date();
    // Python's thread ident; the main thread's differs from run to run there too.
    const thread = process.pid.toString(16).toUpperCase();
    const v = this.verbose;
    if (v <= 1) {
      const head = `${asctime(now)} ${field(source.name, 24)}[${process.pid}]: ${field(name, 7)}`;
      this.write(`${head}${name.slice(0, 1)}: ${message}`);
      return;
    }
    let fmt = ` ${message}`;
    if (v > 3) {
      // `%(module)15.15s` is right-aligned, the others left-aligned.
      const module = source.module.slice(0, 15).padStart(15);
      fmt = ` | ${module}-${field(String(level), 2)}: ${field(source.funcName, 20, 20)} |${fmt}`;
    }
    if (v > 2) {
      const relative = String(now.getTime() - this.started).padStart(5);
      fmt = ` +${relative} ${thread} ${field(source.name, 25, 25)} ${field(name, 5, 5)}${fmt}`;
    } else {
      fmt = ` ${field(asctime(now), 15)} ${thread} ${field(name, 5, 5)}${fmt}`;
    }
    this.write(fmt);
  }
}

/** Python's repr() of bytes. */
export function pyBytesRepr(bytes: Uint8Array): string {
  const hasSingle = bytes.includes(0x27);
  const q = hasSingle && !bytes.includes(0x22) ? '"' : "'";
  let out = '';
  for (const b of bytes) {
    if (b === 0x5c) out += '\\\\';
    else if (b === 0x0a) out += '\\n';
    else if (b === 0x0d) out += '\\r';
    else if (b === 0x09) out += '\\t';
    else if (b === 0x27 && q === "'") out += "\\'";
    else if (b < 0x20 || b >= 0x7f) out += `\\x${b.toString(16).padStart(2, '0')}`;
    else out += String.fromCharCode(b);
  }
  return `b${q}${out}${q}`;
}

// fail2ban logs through helpers.__safeLog, which Python's logging then names as the record's origin.
const FILTER: LogSource = { name: 'fail2ban.filter', module: 'helpers', funcName: '__safeLog' };
const TRACEDEBUG = 7;
const WARNING = 30;

/**
 * FileContainer.decode_line's records for a line that does not decode: a
 * warning for the first of a file, TRACE for the rest; the line itself
 * only when the logger's level lets the record through.
 */
export function decodeWarnings(log: Fail2banLog, file: string, encoding: string): (bytes: Buffer) => void {
  let warned = false;
  return (bytes) => {
    const level = warned ? TRACEDEBUG : WARNING;
    warned = true;
    log.log(level, FILTER, `Error decoding line from '${file}' with '${encoding}'.`);
    if (log.enabled(level)) {
      const advice = 'Consider setting logencoding to appropriate encoding for this jail.';
      log.log(level, FILTER, `${advice} Continuing to process line ignoring invalid characters: ${pyBytesRepr(bytes)}`);
    }
  };
}

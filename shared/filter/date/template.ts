import { DatePatternError } from '../errors.ts';
import { PyMatch, PyRegex } from '../regex/compile.ts';
import { expandDirectives, fieldCodes, hasZoneValue, timeFromCodes, type StrptimeContext } from './strptime.ts';

/**
 * Date templates (fail2ban.server.datetemplate): a regex that finds a
 * timestamp in a line, with group 1 around the timestamp text, and the
 * conversion of a match to epoch seconds. The regex text is built exactly
 * as fail2ban builds it (word or line boundaries added, `**` markers
 * removed, `(?iu)` for month and day names) and then carried over.
 */

export const LINE_BEGIN = 8;
export const LINE_END = 4;
export const WORD_BEGIN = 2;
export const WORD_END = 1;

const RE_GROUPED = /(?<!\(\?)(?<!\\)\((?!\?)/;
const RE_GROUP = /^((?:\(\?\w+\))?\^?(?:\(\?\w+\))?)(.*?)(\$?)$/;
const RE_GLOBALFLAGS = /((?:^|(?!<\\))\(\?[a-z]+\))/;
const RE_EXLINE_NO_BOUNDS = /^\{UNB\}/;
const RE_EXLINE_BOUND_BEG = /^\{\^LN-BEG\}/;
const RE_EXSANC_BOUND_BEG = /^\((?:\?:)?\^\|\\b\|\\W\)/;
const RE_EXEANC_BOUND_BEG = /\(\?=\\b\|\\W\|\$\)$/;
const RE_NO_WRD_BOUND_BEG = /^\(*(?:\(\?\w+\))?(?:\^|\(*\*\*|\((?:\?:)?\^)/;
const RE_NO_WRD_BOUND_END = /(?<!\\)(?:\$\)?|\\b|\\s|\*\*\)*)$/;
const RE_DEL_WRD_BOUNDS = /^\(*(?:\(\?\w+\))?\(*\*\*|(?<!\\)\*\*\)*$/g;
const RE_LINE_BOUND_BEG = /^(?:\(\?\w+\))?(?:\^|\((?:\?:)?\^(?!\|))/;
const RE_LINE_BOUND_END = /(?<![\\|])(?:\$\)?)$/;
const RE_ALPHA_PATTERN = /(?<!%)%[aAbBpc]/;
export const RE_EPOCH_PATTERN = /(?<!\\)\{L?EPOCH\}/i;

export type WordBegin = boolean | 'start';

/** A template's date as epoch seconds, or undefined when the text is no valid date. */
export type DateReader = (m: PyMatch, ctx: StrptimeContext) => number | undefined;

export class DateTemplate {
  name = '';
  /** fail2ban gives the line-anchored copies of its defaults weight 100, so they are preferred. */
  weight = 1;
  flags = 0;
  /** Set for templates made from a datepattern (`%` fields). */
  pattern?: string;
  regex = '';
  /**
   * Whether the date `read` returned last is an int in fail2ban (a date with
   * a zone, or read with logtimezone, or TAI64N) rather than a float (no
   * zone: time.mktime; Epoch). Python prints the one as `1432040705`, the
   * other as `1432040705.0`, and fail2ban-regex's `-o row` and `<time>` show it.
   */
  lastWhole = false;
  private compiled?: PyRegex;

  constructor(readonly read: DateReader) {}

  /** DateTemplate.setRegex: adds boundaries and records the anchoring flags. */
  setRegex(input: string, wordBegin: WordBegin = true, wordEnd = true): void {
    let regex = input.trim();
    const gf = RE_GLOBALFLAGS.exec(regex);
    if (gf) regex = regex.replace(RE_GLOBALFLAGS, '');
    const boundBegin = wordBegin !== false && !RE_NO_WRD_BOUND_BEG.test(regex);
    const boundEnd = wordEnd && !RE_NO_WRD_BOUND_END.test(regex);
    if (!RE_GROUPED.test(regex)) {
      const m = RE_GROUP.exec(regex);
      if (m) regex = `${m[1]}(${m[2]})${m[3]}`;
    }
    this.flags = 0;
    if (boundBegin) {
      this.flags |= wordBegin !== 'start' ? WORD_BEGIN : LINE_BEGIN;
      if (wordBegin !== 'start') {
        regex = String.raw`(?=^|\b|\W)` + regex;
      } else {
        regex = String.raw`^(?:\W{0,2})?` + regex;
        if (!this.name.startsWith('{^LN-BEG}')) this.name = `{^LN-BEG}${this.name}`;
      }
    }
    if (boundEnd) {
      this.flags |= WORD_END;
      regex += String.raw`(?=\b|\W|$)`;
    }
    if (!(this.flags & LINE_BEGIN) && RE_LINE_BOUND_BEG.test(regex)) this.flags |= LINE_BEGIN;
    if (!(this.flags & LINE_END) && RE_LINE_BOUND_END.test(regex)) this.flags |= LINE_END;
    regex = regex.replace(RE_DEL_WRD_BOUNDS, (m) => m.replaceAll('**', ''));
    if (gf) regex = gf[1] + regex;
    this.regex = regex;
    this.compiled = undefined;
  }

  /** Compiles the regex now (see PyRegex.warm). */
  warm(): void {
    this.compiled ??= compileDateRegex(this.regex, this.name);
    this.compiled.warm();
  }

  /** Python's search(line, pos, endpos) with this template's regex. */
  matchDate(line: string, pos?: number, endpos?: number): PyMatch | null {
    this.compiled ??= compileDateRegex(this.regex, this.name);
    return this.compiled.search(line, pos ?? 0, endpos);
  }
}

function compileDateRegex(regex: string, name: string): PyRegex {
  try {
    return new PyRegex(regex, { spans: true });
  } catch (err) {
    throw new DatePatternError(`date template ${name}: cannot compile ${regex}`, { cause: err });
  }
}

/** A template from a datepattern with `%` fields (DatePatternRegex). */
export function patternTemplate(pattern: string, wordBeginIn: WordBegin = true, wordEndIn = true): DateTemplate {
  const values: Array<string | undefined> = [];
  // Lines of one second share their date: the conversion is done once per date and second read.
  // First by the matched text (the characters around it are part of the key because the
  // templates' boundary lookarounds look at them), then by the field values the conversion
  // uses: lines that differ only in fractions of a second (`%f`, which it ignores) share it too.
  let memoText: string | undefined;
  let memoBefore = '';
  let memoAfter = '';
  let memoSecond = NaN;
  let memoCtx: StrptimeContext | undefined;
  let memoTime: number | undefined;
  let memoWhole = false;
  const memoValues: Array<string | undefined> = [];
  let codesFor: readonly string[] | undefined;
  let codes: Uint8Array = new Uint8Array(0);
  const t = new DateTemplate((m, ctx) => {
    const raw = m.raw;
    const input = raw.input;
    const text = raw[0];
    const before = input.charAt(raw.index - 1);
    const after = input.charAt(raw.index + text.length);
    const second = Math.floor(ctx.now / 1000);
    const sameRead = second === memoSecond && ctx === memoCtx;
    t.lastWhole = memoWhole;
    if (sameRead && text === memoText && before === memoBefore && after === memoAfter) return memoTime;
    const names = m.namedValues(values);
    memoText = text;
    memoBefore = before;
    memoAfter = after;
    if (sameRead && sameFields(names, values, memoValues)) return memoTime;
    if (names !== codesFor) {
      codesFor = names;
      codes = fieldCodes(names);
    }
    memoTime = timeFromCodes(codes, values, ctx);
    memoWhole = t.lastWhole = ctx.defaultOffset !== undefined || hasZoneValue(codes, values);
    memoSecond = second;
    memoCtx = ctx;
    memoValues.length = values.length;
    for (let i = 0; i < values.length; i++) memoValues[i] = values[i];
    return memoTime;
  });
  t.pattern = pattern;
  let p = pattern;
  let wordBegin = wordBeginIn;
  let wordEnd = wordEndIn;
  if (RE_EXLINE_NO_BOUNDS.test(p)) {
    p = p.replace(RE_EXLINE_NO_BOUNDS, '');
    wordBegin = wordEnd = false;
  }
  if (wordBegin && RE_EXLINE_BOUND_BEG.test(p)) {
    p = p.replace(RE_EXLINE_BOUND_BEG, '');
    wordBegin = 'start';
  }
  const { regex, name } = expandDirectives(p);
  t.name = name;
  t.setRegex(RE_ALPHA_PATTERN.test(p) ? `(?iu)${regex}` : regex, wordBegin, wordEnd);
  return t;
}

/** The same values for every field the conversion reads (all but `f`: timeFromValues ignores fractions). */
function sameFields(names: readonly string[], a: ReadonlyArray<string | undefined>, b: ReadonlyArray<string | undefined>): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) {
    if (a[i] !== b[i] && names[i] !== 'f') return false;
  }
  return true;
}

const EPOCH_RE = String.raw`\d{10,11}\b(?:\.\d{3,6})?`;
const LONG_EPOCH_RE = String.raw`\d{10,11}(?:\d{3}(?:\.\d{1,6}|\d{3})?)?`;

/** Unix time stamps (DateEpoch): at line start, in `[...]`, or in SELinux `audit(...)`. */
export function epochTemplate(options: { lineBeginOnly?: boolean; pattern?: string; longFrm?: boolean } = {}): DateTemplate {
  const { lineBeginOnly = false, pattern, longFrm = false } = options;
  let groupIndex = 1;
  const t = new DateTemplate((m) => {
    const text = m.group(groupIndex);
    if (text === undefined) return undefined;
    let v = Number(text);
    if (longFrm && text.length >= 13) v = text.length >= 16 && !text.includes('.') ? v / 1_000_000 : v / 1000;
    return v;
  });
  t.name = pattern ?? (longFrm ? 'LongEpoch' : 'Epoch');
  const re = longFrm ? LONG_EPOCH_RE : EPOCH_RE;
  if (pattern) {
    groupIndex = 2;
    t.setRegex(`(${pattern.replace(new RegExp(RE_EPOCH_PATTERN.source, 'gi'), () => `(${re})`)})`);
  } else if (!lineBeginOnly) {
    t.setRegex(String.raw`((?:^|(?P<square>(?<=^\[))|(?P<selinux>(?<=\baudit\()))${re})(?:(?(selinux)(?=:\d+\)))|(?(square)(?=\])))`, false);
  } else {
    t.setRegex(String.raw`((?P<square>(?<=^\[))?${re})(?(square)(?=\]))`, 'start', true);
  }
  return t;
}

/** TAI64N labels (DateTai64n), as daemontools writes them. */
export function tai64nTemplate(wordBegin: WordBegin = false): DateTemplate {
  const t = new DateTemplate((m) => {
    const value = m.group(1);
    t.lastWhole = true;
    return value === undefined ? undefined : parseInt(value.slice(2, 17), 16);
  });
  t.name = 'TAI64N';
  t.setRegex('@[0-9a-f]{24}', wordBegin);
  return t;
}

/** DateTemplate.unboundPattern: a pattern without its boundary markers. */
export function unboundPattern(pattern: string): string {
  return pattern
    .replace(RE_EXLINE_NO_BOUNDS, '')
    .replace(RE_EXLINE_BOUND_BEG, '')
    .replace(RE_EXSANC_BOUND_BEG, '')
    .replace(RE_EXEANC_BOUND_BEG, '');
}

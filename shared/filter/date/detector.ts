import { DatePatternError } from '../errors.ts';
import type { PyMatch } from '../regex/compile.ts';
import type { StrptimeContext } from './strptime.ts';
import {
  DateTemplate,
  epochTemplate,
  LINE_BEGIN,
  LINE_END,
  patternTemplate,
  RE_EPOCH_PATTERN,
  tai64nTemplate,
  unboundPattern,
} from './template.ts';

/**
 * Finding the timestamp in a line (fail2ban.server.datedetector). The
 * detector tries the template that matched last, at the same place, first;
 * only when that fails (or finds its date elsewhere in the line) does it
 * search all templates, and a template that keeps winning moves up the list.
 * fail2ban does exactly this, and which template wins decides which time a
 * line gets, so the order and the tie-breaks are kept.
 */

/** fail2ban's default datepatterns, in its order. */
const DEFAULT_PATTERNS = [
  String.raw`%ExY(?P<_sep>[-/.])%m(?P=_sep)%d(?:T|  ?)%H:%M:%S(?:[.,]%f)?(?:\s*%z)?`,
  String.raw`(?:%a )?%b %d %k:%M:%S(?:\.%f)?(?: %ExY)?`,
  String.raw`(?:%a )?%b %d %ExY %k:%M:%S(?:\.%f)?`,
  String.raw`%d(?P<_sep>[-/])%m(?P=_sep)(?:%ExY|%Exy) %k:%M:%S`,
  String.raw`%d(?P<_sep>[-/])%b(?P=_sep)%ExY[ :]?%H:%M:%S(?:\.%f)?(?: %z)?`,
  String.raw`%m/%d/%ExY:%H:%M:%S`,
  String.raw`%m-%d-%ExY %k:%M:%S(?:\.%f)?`,
  'EPOCH',
  '{^LN-BEG}%H:%M:%S',
  '^<%m/%d/%Exy@%H:%M:%S>',
  String.raw`%Exy%Exm%Exd  ?%H:%M:%S`,
  '%b %d, %ExY %I:%M:%S %p',
  '^%b-%d-%Exy %k:%M:%S',
  String.raw`%ExY%Exm%Exd(?:T|  ?)%ExH%ExM%ExS(?:[.,]%f)?(?:\s*%z)?`,
  String.raw`(?:%Z )?(?:%a )?%b %d %k:%M:%S(?:\.%f)?(?: %ExY)?`,
  String.raw`(?:%z )?(?:%a )?%b %d %k:%M:%S(?:\.%f)?(?: %ExY)?`,
  'TAI64N',
];

/** Templates by pattern key, shared like fail2ban's DD_patternCache. */
const cache = new Map<string, DateTemplate>();

function patternKey(pattern: string): string {
  return pattern.includes('%') ? pattern : pattern.toUpperCase();
}

function getPatternTemplate(pattern: string, keyIn?: string): DateTemplate {
  const key = keyIn ?? patternKey(pattern);
  let template = cache.get(key);
  if (!template) {
    if (key.includes('EPOCH')) {
      if (RE_EPOCH_PATTERN.test(pattern)) template = epochTemplate({ pattern, longFrm: key.includes('LEPOCH') });
      else if (key === 'EPOCH' || key === '{^LN-BEG}EPOCH' || key === '^EPOCH') template = epochTemplate({ lineBeginOnly: key !== 'EPOCH' });
      else if (key === 'LEPOCH' || key === '{^LN-BEG}LEPOCH' || key === '^LEPOCH') template = epochTemplate({ lineBeginOnly: key !== 'LEPOCH', longFrm: true });
    }
    if (!template) {
      if (key === 'TAI64N' || key === '{^LN-BEG}TAI64N' || key === '^TAI64N') template = tai64nTemplate(key !== 'TAI64N' ? 'start' : false);
      else template = patternTemplate(pattern);
    }
  }
  cache.set(key, template);
  return template;
}

function getAnchoredTemplate(template: DateTemplate, wrap: (s: string) => string = (s) => `{^LN-BEG}${s}`): DateTemplate {
  const name = wrap(template.name);
  let anchored = cache.get(name);
  if (!anchored) {
    const regex = wrap(template.pattern ?? template.regex);
    if (template.pattern !== undefined) anchored = cache.get(regex);
    if (!anchored) anchored = template.pattern === undefined ? getPatternTemplate(name) : getPatternTemplate(regex);
  }
  return anchored;
}

let defaultTemplates: DateTemplate[] | undefined;
let allDefaults: DateTemplate[] | undefined;

/** The default templates as listed (DateDetectorCache.defaultTemplates). */
function originals(): DateTemplate[] {
  defaultTemplates ??= DEFAULT_PATTERNS.map((p) => getPatternTemplate(p));
  return defaultTemplates;
}

/** Line-anchored copies first (weight 100), then the originals (DateDetectorCache.templates). */
function defaultsWithAnchored(): DateTemplate[] {
  if (allDefaults) return allDefaults;
  const anchored: DateTemplate[] = [];
  const plain: DateTemplate[] = [];
  for (const t of originals()) {
    if (!t.name.startsWith('{^LN-BEG}') && !t.name.startsWith('^')) {
      const a = getAnchoredTemplate(t);
      if (a.name !== t.name) {
        a.weight = 100;
        anchored.push(a);
      }
    }
    plain.push(t);
  }
  allDefaults = [...anchored, ...plain];
  return allDefaults;
}

/** Per-detector state of a template (DateDetectorTemplate). */
interface Slot {
  template: DateTemplate;
  hits: number;
  lastUsed: number;
  distance: number;
}

const weightOf = (s: Slot): number => (s.hits * s.template.weight) / Math.max(1, s.distance);

/** A template as fail2ban-regex's summary shows it (DateDetectorTemplate). */
export interface DateTemplateStats {
  name: string;
  hits: number;
  /** The detector's weight: hits * template weight / distance from the line start. */
  weight: number;
  templateWeight: number;
  /** The datepattern it was made from ('' for Epoch and TAI64N templates). */
  pattern: string;
  regex: string;
}

export interface DateFound {
  /** Epoch seconds, or undefined when the text found is no valid date. */
  time: number | undefined;
  /** fail2ban keeps `time` as an int, not a float (see DateTemplate.lastWhole). */
  whole: boolean;
  /** Where the timestamp text is: line[start:end] is removed before matching failregex. */
  start: number;
  end: number;
}

const MAX = 0x7fffffff;

export class DateDetector {
  private readonly slots_: Slot[] = [];
  private readonly known = new Set<string>();
  private readonly unusedTime = 300;
  // fail2ban's __lastPos and __lastEndPos (position, character before, character at), kept as scalars:
  // matchTime runs on every line, and these change on every line.
  private lastPos = 1;
  private lastPosBefore = '';
  private lastPosAt = '';
  private lastEnd = MAX;
  private lastEndBefore = '';
  private lastEndAt = '';
  private lastIndex = MAX;
  private firstUnused = 0;
  /** The template of the last match (set by locate). */
  private hitTemplate: DateTemplate | undefined;
  private hitMatch: PyMatch | null = null;
  /** The templates in their current order with their hits, for fail2ban-regex's summary (and --VD's details). */
  get templates(): ReadonlyArray<DateTemplateStats> {
    return this.slots_.map((s) => ({
      name: s.template.name,
      hits: s.hits,
      weight: weightOf(s),
      templateWeight: s.template.weight,
      pattern: s.template.pattern ?? '',
      regex: s.template.regex,
    }));
  }

  /** The templates as fail2ban describes them (name, Python regex, anchoring flags, weight), for comparison. */
  slots(): Array<{ name: string; regex: string; flags: number; weight: number }> {
    return this.slots_.map((s) => ({ name: s.template.name, regex: s.template.regex, flags: s.template.flags, weight: s.template.weight }));
  }

  /** A detector for a filter's datepattern (one or more lines), or fail2ban's defaults when none. */
  static forPattern(datepattern: string | undefined): DateDetector {
    const dd = new DateDetector();
    if (datepattern !== undefined) {
      for (const p of datepattern.split(/\n+/).map((s) => s.trim()).filter(Boolean)) dd.appendTemplate(p);
    }
    return dd;
  }

  /** Compiles every template now instead of on first use (the default set is added as matchTime would). */
  warm(): void {
    if (this.slots_.length === 0) this.addDefaults();
    for (const s of this.slots_) s.template.warm();
  }

  appendTemplate(pattern: string): void {
    const key = patternKey(pattern);
    let template = cache.get(key);
    if (!template) {
      if (key === '{^LN-BEG}' || key === '{DEFAULT}') {
        this.addDefaults(key === '{^LN-BEG}' ? (t) => (t.flags & LINE_BEGIN) !== 0 : undefined);
        return;
      }
      if (key.includes('{DATE}')) {
        this.addDefaults(undefined, pattern, false);
        return;
      }
      template = key === '{NONE}' ? getPatternTemplate('{UNB}^', key) : getPatternTemplate(pattern, key);
      cache.set(key, template);
    }
    this.append(template);
  }

  private append(template: DateTemplate, ignoreDuplicate = false): void {
    if (this.known.has(template.name)) {
      if (ignoreDuplicate) return;
      throw new DatePatternError(`There is already a template with name ${template.name}`);
    }
    this.known.add(template.name);
    this.slots_.push({ template, hits: 0, lastUsed: 0, distance: MAX });
  }

  private addDefaults(filter?: (t: DateTemplate) => boolean, preMatch?: string, all = true): void {
    const ignoreDuplicate = this.slots_.length > 0;
    for (let template of all ? defaultsWithAnchored() : originals()) {
      if (filter && !filter(template)) continue;
      if (preMatch !== undefined) {
        template = getAnchoredTemplate(template, (s) => preMatch.replace(/(?<!\\)\{DATE\}/gi, () => unboundPattern(s)));
      }
      this.append(template, ignoreDuplicate);
    }
  }

  /** Finds the timestamp (DateDetector.matchTime), or undefined. */
  matchTime(line: string): { match: PyMatch; template: DateTemplate } | undefined {
    if (!this.locate(line)) return undefined;
    return { match: this.hitMatch!, template: this.hitTemplate! };
  }

  /**
   * matchTime without allocating its answer: true when a template matched,
   * which is then in hitTemplate / hitMatch.
   */
  private locate(line: string): boolean {
    if (this.slots_.length === 0) this.addDefaults();
    const slots = this.slots_;
    let match: PyMatch | null = null;
    // The best match found by a template that did not win outright (fail2ban's `found`).
    let foundMatch: PyMatch | null = null;
    let foundDistance = MAX;
    let foundEnd = MAX;
    let foundIndex = -1;
    let ignoreBySearch = MAX;
    let i = this.lastIndex;
    let slot: Slot | undefined;
    let template: DateTemplate | undefined;
    let distance = 0;
    let endpos = 0;
    if (i < slots.length) {
      slot = slots[i]!;
      template = slot.template;
      if (template.flags & (LINE_BEGIN | LINE_END)) {
        match = template.matchDate(line);
        ignoreBySearch = i;
      } else {
        distance = this.lastPos;
        endpos = this.lastEnd;
        if (
          (sl(line, distance - 1, distance) === this.lastPosBefore || (sl(line, distance, distance + 1) === this.lastPosAt && !isAlnum(this.lastPosAt))) &&
          (sl(line, endpos, endpos + 1) === this.lastEndAt || (sl(line, endpos - 1, endpos) === this.lastEndBefore && !isAlnum(this.lastEndBefore)))
        ) {
          match = template.matchDate(line, distance, endpos);
        } else {
          match = template.matchDate(line);
          ignoreBySearch = i;
        }
      }
      if (match) {
        distance = match.start();
        endpos = match.end();
        if (!(slots.length === 1 || template.flags & (LINE_BEGIN | LINE_END) || (distance === this.lastPos && endpos === this.lastEnd))) {
          foundMatch = match;
          foundDistance = distance;
          foundEnd = endpos;
          foundIndex = i;
          match = null;
        }
      }
    }
    if (!match) {
      for (i = 0; i < slots.length; i++) {
        if (i === ignoreBySearch) continue;
        slot = slots[i]!;
        template = slot.template;
        match = template.matchDate(line);
        if (!match) continue;
        distance = match.start();
        endpos = match.end();
        if (i + 1 >= slots.length) break;
        if (template.flags & (LINE_BEGIN | LINE_END)) break;
        if (distance > slot.distance || distance > this.lastPos) {
          if (distance < foundDistance) {
            foundMatch = match;
            foundDistance = distance;
            foundEnd = endpos;
            foundIndex = i;
          }
          match = null;
          continue;
        }
        break;
      }
      if (!match && foundMatch) {
        match = foundMatch;
        distance = foundDistance;
        endpos = foundEnd;
        i = foundIndex;
        slot = slots[i]!;
        template = slot.template;
      }
    }
    if (!match || !slot || !template) return false;
    slot.hits++;
    slot.lastUsed = coarseNow();
    slot.distance = distance;
    if (this.firstUnused === i) this.firstUnused++;
    this.lastPos = distance;
    this.lastPosBefore = sl(line, distance - 1, distance);
    this.lastPosAt = line[distance] ?? '';
    this.lastEnd = endpos;
    this.lastEndBefore = line[endpos - 1] ?? '';
    this.lastEndAt = sl(line, endpos, endpos + 1);
    if (i && i !== this.lastIndex) i = this.reorder(i);
    this.lastIndex = i;
    this.hitMatch = match;
    this.hitTemplate = template;
    return true;
  }

  /** matchTime plus the conversion: where the date text is and its time. */
  find(line: string, ctx: StrptimeContext): DateFound | undefined {
    if (!this.locate(line)) return undefined;
    const match = this.hitMatch!;
    const span = match.span(1);
    const start = span ? span[0] : match.start();
    const end = span ? span[1] : start;
    if (start === end) return { time: undefined, whole: false, start, end };
    let time: number | undefined;
    try {
      time = this.hitTemplate!.read(match, ctx);
    } catch (err) {
      if (!(err instanceof DatePatternError)) throw err;
      time = undefined;
    }
    return { time, whole: this.hitTemplate!.lastWhole, start, end };
  }

  private reorder(num: number): number {
    const slots = this.slots_;
    const slot = slots[num]!;
    const untime = slot.lastUsed - this.unusedTime;
    const weight = weightOf(slot);
    let pos = this.firstUnused < num ? this.firstUnused : num >> 1;
    const moveable = (): boolean => weight > weightOf(slots[pos]!) || untime > slots[pos]!.lastUsed;
    if (!moveable()) {
      if (pos === num - 1) return num;
      pos = num - 1;
      if (!moveable()) return num;
    }
    slots.splice(num, 1);
    slots.splice(pos, 0, slot);
    while (this.firstUnused < slots.length && slots[this.firstUnused]!.hits) this.firstUnused++;
    return pos;
  }
}

/**
 * Wall-clock seconds, read every 256 calls: fail2ban stamps each template's
 * last use only to compare it with a five-minute threshold when reordering.
 */
let clockCalls = 0;
let clockValue = 0;
function coarseNow(): number {
  if ((clockCalls++ & 255) === 0) clockValue = Date.now() / 1000;
  return clockValue;
}

/** Python's line[a:b] for small indices (a may be -1). */
function sl(line: string, a: number, b: number): string {
  if (a < 0) a = line.length + a;
  if (b < 0) b = line.length + b;
  return a >= b ? '' : line.slice(a, b);
}

function isAlnum(s: string): boolean {
  return s !== '' && /^[\p{L}\p{N}]+$/u.test(s);
}

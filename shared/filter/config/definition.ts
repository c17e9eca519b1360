import { FilterConfigError } from '../errors.ts';
import { ConfigSet, NoValueError } from './reader.ts';

/**
 * A filter's settings after fail2ban's FilterReader has done its work:
 * [Definition] read with the jail's filter options as variables, [Init]
 * values added, `<tag>` references substituted recursively (so
 * `<mdre-<mode>>` becomes the regexes of the chosen mode), values split
 * into lists.
 */
export interface FilterDefinition {
  name: string;
  prefregex?: string;
  failregex: string[];
  ignoreregex: string[];
  maxlines?: number;
  datepattern?: string;
  /** The raw journalmatch lines. */
  journalmatch: string[];
  usedns?: string;
  /** Files read, in order (for diagnostics). */
  files: readonly string[];
  /**
   * An option as fail2ban-regex -vv shows it ("Real  filter options"): the
   * combined, interpolated value (ConfigReader.getCombined), else the
   * [Definition] value; undefined when the filter has neither.
   */
  realOption?: (option: string) => string | undefined;
}

const OPTIONS = ['usedns', 'prefregex', 'ignoreregex', 'failregex', 'maxlines', 'datepattern', 'journalmatch'] as const;
const TAG = /<([^ <>]+)>/g;
const MAX_TAG_REPLACE_COUNT = 25;

/**
 * Resolves a read filter. `initOpts` are the options given with the filter
 * name (`sshd[mode=aggressive]`); `backend` sets `logtype` as fail2ban's
 * applyAutoOptions does when neither the options nor the filter set it.
 */
export function resolveDefinition(
  name: string,
  cfg: ConfigSet,
  initOptsIn: Record<string, string>,
  backend?: string,
): FilterDefinition {
  const initOpts: Record<string, string> = { ...initOptsIn };
  if (backend !== undefined && !initOpts.logtype && !cfg.hasOption('Definition', 'logtype', false)) {
    initOpts.logtype = backend.startsWith('systemd') ? 'journal' : 'file';
  }
  const pOpts = { ...initOpts };
  const opts: Record<string, string> = {};
  for (const opt of OPTIONS) {
    if (opt in pOpts) continue;
    try {
      opts[opt] = cfg.get('Definition', opt, pOpts);
    } catch (err) {
      if (!(err instanceof NoValueError)) throw new FilterConfigError(`${name}: [Definition] ${opt}: ${(err as Error).message}`, undefined, { cause: err });
    }
  }
  if (cfg.hasSection('Init')) {
    for (const opt of cfg.options('Init')) {
      const v = cfg.get('Init', opt);
      if (!opt.startsWith('known/')) initOpts[`known/${opt}`] = v;
      if (!(opt in initOpts)) initOpts[opt] = v;
    }
  }
  const combined: Record<string, string> = { ...opts, ...initOpts };
  const ignore = new Set<string>();
  for (const n of Object.keys(combined)) {
    const cond = /^(\w+)(\?.+)$/.exec(n);
    if (cond) ignore.add(cond[1]!);
  }
  const cache = new Map<string, string | undefined>();
  const combOption = (option: string): string | undefined => {
    if (cache.has(option)) return cache.get(option);
    let v: string | undefined;
    try {
      v = cfg.getEx('Definition', option, pOpts);
    } catch (err) {
      if (!(err instanceof NoValueError)) throw err;
      v = undefined;
    }
    cache.set(option, v);
    return v;
  };
  const resolved = substituteRecursiveTags(combined, ignore, combOption);
  const lines = (v: string | undefined) => (v === undefined ? [] : v.split('\n').filter((s) => s !== ''));
  let maxlines: number | undefined;
  if (resolved.maxlines !== undefined) {
    maxlines = /^\s*[+-]?\d+\s*$/.test(resolved.maxlines) ? Number(resolved.maxlines) : undefined;
  }
  return {
    name,
    prefregex: resolved.prefregex ? resolved.prefregex : undefined,
    failregex: lines(resolved.failregex),
    ignoreregex: lines(resolved.ignoreregex),
    maxlines,
    datepattern: resolved.datepattern,
    journalmatch: lines(resolved.journalmatch),
    usedns: resolved.usedns,
    files: [...cfg.files],
    realOption: (option) => {
      if (Object.prototype.hasOwnProperty.call(resolved, option)) return resolved[option];
      try {
        return cfg.get('Definition', option, pOpts);
      } catch (err) {
        if (err instanceof NoValueError) return undefined;
        throw err;
      }
    },
  };
}

/** helpers.substituteRecursiveTags: `<tag>` → the tag's value, repeated while values still hold tags. */
export function substituteRecursiveTags(
  input: Record<string, string>,
  ignore: ReadonlySet<string> = new Set(),
  extra?: (tag: string) => string | undefined,
): Record<string, string> {
  const tags: Record<string, string> = { ...input };
  const done = new Set<string>();
  const repCounts = new Map<string, Map<string, number>>();
  for (;;) {
    let repeat = false;
    for (const tag of Object.keys(input)) {
      if (ignore.has(tag) || done.has(tag)) continue;
      const orig = tags[tag]!;
      let value = orig;
      const counts = repCounts.get(tag) ?? new Map<string, number>();
      TAG.lastIndex = 0;
      let m = TAG.exec(value);
      while (m) {
        const rtag = m[1]!;
        if (ignore.has(rtag)) {
          TAG.lastIndex = m.index + m[0].length;
          m = TAG.exec(value);
          continue;
        }
        if (rtag === tag || (counts.get(rtag) ?? 1) > MAX_TAG_REPLACE_COUNT) {
          throw new FilterConfigError(`properties contain self referencing definitions and cannot be resolved, fail tag: ${tag}, found: ${rtag}`);
        }
        let repl: string | undefined = Object.prototype.hasOwnProperty.call(tags, rtag) ? tags[rtag] : undefined;
        if (repl === undefined && extra) repl = extra(rtag);
        if (repl === undefined) {
          TAG.lastIndex = m.index + m[0].length;
          m = TAG.exec(value);
          continue;
        }
        value = value.split(`<${rtag}>`).join(repl);
        counts.set(rtag, (counts.get(rtag) ?? 0) + 1);
        TAG.lastIndex = m.index;
        m = TAG.exec(value);
      }
      if (orig !== value) {
        TAG.lastIndex = 0;
        if (TAG.test(value)) {
          repCounts.set(tag, counts);
          repeat = true;
        }
        tags[tag] = value;
      }
      if (!value.includes('<')) done.add(tag);
    }
    if (!repeat) return tags;
  }
}

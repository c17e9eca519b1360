import { posix as path } from 'node:path';
import { FilterConfigError } from '../errors.ts';
import { parseIni, type IniFile } from './ini.ts';

/**
 * fail2ban's configuration reading (client/configparserinc.py and
 * configreader.py): `[INCLUDES]` before/after, `.local` beside every
 * `.conf`, `<name>.d/*.conf` and `*.local`, sections merged file by file
 * (an overridden value stays reachable as `%(known/option)s`), and
 * `%(name)s` / `%(section/option)s` interpolation. Pure: files come through
 * a {@link ConfigSource}.
 */
export interface ConfigSource {
  /** The file's text, or undefined when there is no such file. */
  read(file: string): string | undefined;
  /** Names of the files in a directory (empty when it does not exist). */
  list(dir: string): string[];
}

const CONDITIONAL = /^(\w+)(\?.+)$/;
const SECTION_OPTNAME = /^([\w-]+)\/([^\s>]+)$/;
const SECTION_OPTSUBST = /%\(([\w-]+\/([^)]+))\)s/g;
const KEY = /^%\(([^)]+)\)s/;
const MAX_DEPTH = 10;

/** A missing section or option (Python's NoSectionError / NoOptionError). */
export class NoValueError extends FilterConfigError {}

export class ConfigSet {
  readonly defaults = new Map<string, string>();
  readonly sections = new Map<string, Map<string, string>>();
  /** Files read, in order. */
  readonly files: string[] = [];
  private readonly parsed = new Map<string, IniFile | null>();

  constructor(private readonly source: ConfigSource) {}

  /** ConfigReaderUnshared.read: `<base>.conf`, `<base>.d/*.conf`, `<base>.local`, `<base>.d/*.local`, with includes. */
  readNamed(base: string): boolean {
    const dir = `${base}.d`;
    const inDir = this.source.list(dir).sort();
    const candidates = [
      `${base}.conf`,
      ...inDir.filter((f) => f.endsWith('.conf')).map((f) => path.join(dir, f)),
      `${base}.local`,
      ...inDir.filter((f) => f.endsWith('.local')).map((f) => path.join(dir, f)),
    ].filter((f) => this.parse(f) !== null);
    if (candidates.length === 0) return false;
    return this.read(candidates) > 0;
  }

  /** SafeConfigParserWithIncludes.read with includes: returns how many files were read. */
  read(files: string[]): number {
    const all = this.includes(files, []);
    let n = 0;
    for (const file of all) {
      const ini = this.parse(file);
      if (!ini) continue;
      n++;
      this.files.push(file);
      for (const [k, v] of ini.defaults) this.defaults.set(k, v);
      for (const [nameIn, sectionIn] of ini.sections) {
        let name = nameIn;
        let section = sectionIn;
        const cond = CONDITIONAL.exec(name);
        if (cond) {
          name = cond[1]!;
          section = new Map([...section].map(([k, v]) => [k + cond[2]!, v]));
        }
        const existing = this.sections.get(name);
        if (existing) {
          const known = this.sections.get(`KNOWN/${name}`) ?? new Map<string, string>();
          for (const [k, v] of existing) if (section.has(k)) known.set(k, v);
          this.sections.set(`KNOWN/${name}`, known);
          for (const [k, v] of section) existing.set(k, v);
        } else {
          this.sections.set(name, new Map(section));
        }
      }
    }
    return n;
  }

  private parse(file: string): IniFile | null {
    if (this.parsed.has(file)) return this.parsed.get(file)!;
    const text = this.source.read(file);
    const ini = text === undefined ? null : parseIni(text, file);
    this.parsed.set(file, ini);
    return ini;
  }

  /** Files with their `.local` companions and their includes, in reading order. */
  private includes(files: string[], seen: string[]): string[] {
    const expanded: string[] = [];
    for (const f of files) {
      expanded.push(f);
      const local = f.replace(/\.[^./]*$/, '') + '.local';
      if (!files.includes(local) && this.parse(local) !== null) expanded.push(local);
    }
    return expanded.flatMap((f) => this.includesOf(f, seen));
  }

  private includesOf(resource: string, seen: string[]): string[] {
    const ini = this.parse(resource);
    if (!ini) return [];
    const dir = path.dirname(resource);
    const before: string[] = [];
    const after: string[] = [];
    const section = ini.sections.get('INCLUDES');
    if (section) {
      const single = new ConfigSet(this.source);
      single.merge(ini);
      for (const [option, list] of [['before', before], ['after', after]] as const) {
        if (!section.has(option) && !ini.defaults.has(option)) continue;
        const value = single.get('INCLUDES', option);
        for (const item of value.split('\n')) {
          const r = path.isAbsolute(item) ? item : path.join(dir, item);
          if (seen.includes(r)) continue;
          list.push(...this.includes([r], [...seen, resource]));
        }
      }
    }
    return [...before, resource, ...after];
  }

  private merge(ini: IniFile): void {
    for (const [k, v] of ini.defaults) this.defaults.set(k, v);
    for (const [k, v] of ini.sections) this.sections.set(k, new Map(v));
  }

  hasSection(name: string): boolean {
    return this.sections.has(name);
  }

  /** Own options of a section (without [DEFAULT]). */
  options(section: string): string[] {
    const s = this.sections.get(section);
    if (!s) throw new NoValueError(`No section: '${section}'`);
    return [...s.keys()];
  }

  hasOption(section: string, option: string, withDefault = true): boolean {
    const s = this.sections.get(section);
    if (!s) return false;
    return s.has(option) || (withDefault && this.defaults.has(option));
  }

  /** ConfigParser.get with interpolation; `vars` come first, then the section, then [DEFAULT]. */
  get(section: string, optionIn: string, vars: Record<string, string> = {}, raw = false): string {
    const sectionMap = section === 'DEFAULT' ? new Map<string, string>() : this.sections.get(section);
    if (!sectionMap) throw new NoValueError(`No section: '${section}'`);
    const map = new Map<string, string>();
    for (const [k, v] of this.defaults) map.set(k, v);
    for (const [k, v] of sectionMap) map.set(k, v);
    for (const [k, v] of Object.entries(vars)) map.set(k.toLowerCase(), String(v));
    const option = optionIn.toLowerCase();
    const value = map.get(option);
    if (value === undefined) throw new NoValueError(`No option '${option}' in section: '${section}'`);
    if (raw) return value;
    const out: string[] = [];
    this.interpolate(option, out, value, section, map, 1);
    return out.join('');
  }

  /** get_ex: also `section/option` names (`known/option` looks in KNOWN/<section> first). */
  getEx(section: string, option: string, vars: Record<string, string> = {}): string {
    const sopt = option.includes('/') ? SECTION_OPTNAME.exec(option) : null;
    if (sopt) {
      const sec = sopt[1]!;
      const opt = sopt[2]!;
      const lower = sec.toLowerCase();
      const tries = lower === 'known' ? [`KNOWN/${section}`, section] : [lower === 'default' ? 'DEFAULT' : sec];
      for (const s of tries) {
        try {
          return this.get(s, opt);
        } catch (err) {
          if (!(err instanceof NoValueError)) throw err;
        }
      }
    }
    return this.get(section, option, vars);
  }

  /** BasicInterpolation._interpolate_some with fail2ban's `%(section/option)s` support. */
  private interpolate(option: string, accum: string[], restIn: string, section: string, mapIn: Map<string, string>, depth: number): void {
    if (depth > MAX_DEPTH) throw new FilterConfigError(`recursion limit exceeded in value substitution: option '${option}' in section '${section}'`);
    const map = new Map(mapIn);
    map.set('__name__', section);
    this.mapSectionOptions(section, restIn, map);
    let rest = restIn;
    while (rest) {
      const p = rest.indexOf('%');
      if (p < 0) {
        accum.push(rest);
        return;
      }
      if (p > 0) {
        accum.push(rest.slice(0, p));
        rest = rest.slice(p);
      }
      const c = rest.slice(1, 2);
      if (c === '%') {
        accum.push('%');
        rest = rest.slice(2);
      } else if (c === '(') {
        const m = KEY.exec(rest);
        if (!m) throw new FilterConfigError(`bad interpolation variable reference ${JSON.stringify(rest)} in option '${option}' of section '${section}'`);
        const name = m[1]!.toLowerCase();
        rest = rest.slice(m[0].length);
        const v = map.get(name);
        if (v === undefined) throw new FilterConfigError(`bad option '${option}' in section '${section}': no value for %(${m[1]})s`);
        if (v.includes('%')) this.interpolate(option, accum, v, section, map, depth + 1);
        else accum.push(v);
      } else {
        throw new FilterConfigError(`'%' must be followed by '%' or '(', found: ${JSON.stringify(rest)} in option '${option}' of section '${section}'`);
      }
    }
  }

  /** _map_section_options: makes `%(sec/opt)s` references in `rest` resolvable. */
  private mapSectionOptions(section: string, rest: string, map: Map<string, string>): void {
    if (!rest.includes('/') || !rest.includes('%(')) return;
    for (const m of rest.matchAll(SECTION_OPTSUBST)) {
      const sopt = m[1]!;
      const opt = m[2]!;
      if (map.has(sopt)) continue;
      const sec = sopt.slice(0, sopt.length - opt.length - 1);
      const lower = sec.toLowerCase();
      let v: string | undefined;
      let useDefault = lower === 'default';
      if (lower === 'known') {
        v = this.sections.get(`KNOWN/${section}`)?.get(opt);
        if (v === undefined) useDefault = true;
      } else if (!useDefault) {
        const s = this.sections.get(sec);
        if (!s) continue;
        v = s.get(opt);
        if (v === undefined) useDefault = true;
      }
      if (useDefault) {
        v = this.defaults.get(opt);
        if (v === undefined) continue;
      }
      map.set(sopt, v!);
    }
  }
}

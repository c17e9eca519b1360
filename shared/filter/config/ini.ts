import { FilterConfigError } from '../errors.ts';

/**
 * One configuration file as Python's ConfigParser reads it with fail2ban's
 * settings: `=` or `:` between key and value, keys lower-cased, `#` and `;`
 * whole-line comments, `;` inline comments after white space, values
 * continued on more-indented lines (empty lines inside a value kept,
 * trailing ones dropped), `[DEFAULT]` apart, a key or section repeated in
 * one file an error.
 */
export interface IniFile {
  defaults: Map<string, string>;
  /** Sections in file order; section names keep their case. */
  sections: Map<string, Map<string, string>>;
}

const SECTION = /^\[(.+)\]/;
const OPTION = /^(.*?)\s*([=:])\s*(.*)$/;

export function parseIni(text: string, file: string): IniFile {
  const defaults = new Map<string, string[]>();
  const sections = new Map<string, Map<string, string[]>>();
  let current: Map<string, string[]> | undefined;
  let sectionName = '';
  let optname: string | undefined;
  let indentLevel = 0;
  const added = new Set<string>();
  const errors: string[] = [];
  const lines = text.split(/\r\n|\n|\r/);
  if (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  lines.forEach((rawLine, index) => {
    const lineno = index + 1;
    const line = rawLine;
    let commentStart = Infinity;
    for (let i = line.indexOf(';'); i >= 0; i = line.indexOf(';', i + 1)) {
      if (i === 0 || /\s/.test(line[i - 1]!)) {
        commentStart = i;
        break;
      }
    }
    const stripped = line.trim();
    if (stripped.startsWith('#') || stripped.startsWith(';')) commentStart = 0;
    const value = (commentStart === Infinity ? line : line.slice(0, commentStart)).trim();
    if (!value) {
      if (commentStart === Infinity && current && optname !== undefined && current.get(optname) !== undefined) {
        current.get(optname)!.push('');
      }
      return;
    }
    const firstNonSpace = line.search(/\S/);
    const curIndent = firstNonSpace < 0 ? 0 : firstNonSpace;
    if (current && optname !== undefined && curIndent > indentLevel) {
      current.get(optname)!.push(value);
      return;
    }
    indentLevel = curIndent;
    const header = SECTION.exec(value);
    if (header) {
      sectionName = header[1]!;
      if (sectionName === 'DEFAULT') {
        current = defaults;
      } else if (sections.has(sectionName)) {
        if (added.has(sectionName)) throw new FilterConfigError(`line ${lineno}: section '${sectionName}' already exists`, file);
        current = sections.get(sectionName)!;
        added.add(sectionName);
      } else {
        current = new Map();
        sections.set(sectionName, current);
        added.add(sectionName);
      }
      optname = undefined;
      return;
    }
    if (!current) throw new FilterConfigError(`line ${lineno}: file contains no section headers: ${JSON.stringify(line)}`, file);
    const opt = OPTION.exec(value);
    if (!opt || !opt[1]) {
      errors.push(`line ${lineno}: ${JSON.stringify(line)}`);
      return;
    }
    optname = opt[1].trimEnd().toLowerCase();
    const key = `${sectionName}\u0000${optname}`;
    if (added.has(key)) throw new FilterConfigError(`line ${lineno}: option '${optname}' in section '${sectionName}' already exists`, file);
    added.add(key);
    current.set(optname, [opt[3]!.trim()]);
  });
  if (errors.length) throw new FilterConfigError(`source contains parsing errors: ${errors.join(', ')}`, file);
  const join = (m: Map<string, string[]>): Map<string, string> => new Map([...m].map(([k, v]) => [k, v.join('\n').trimEnd()]));
  return { defaults: join(defaults), sections: new Map([...sections].map(([k, v]) => [k, join(v)])) };
}

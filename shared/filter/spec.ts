import { FilterConfigError } from './errors.ts';

/**
 * `name[opt=value, opt2="value"][opt3='value']` as fail2ban's
 * helpers.extractOptions reads a jail's filter (or action) setting.
 */
const OPTION = /^([^[]+)(?:\[([^]*)\])?\s*$/;
const OPTION_EXTRACT = /\s*([\w\-_.]+)=(?:"([^"]*)"|'([^']*)'|([^,\]]*))(?:,|\]\s*\[|$|(?<wrngA>[^]+))|,?\s*$|(?<wrngB>[^]+)/gy;

export function extractOptions(spec: string): { name: string; options: Record<string, string> } {
  const m = OPTION.exec(spec);
  if (!m) throw new FilterConfigError(`unexpected option syntax: ${spec}`);
  const options: Record<string, string> = {};
  const text = m[2];
  if (text) {
    OPTION_EXTRACT.lastIndex = 0;
    for (;;) {
      const start = OPTION_EXTRACT.lastIndex;
      if (start > text.length) break;
      const o = OPTION_EXTRACT.exec(text);
      if (!o) break;
      if (o.groups?.wrngA) throw new FilterConfigError(`unexpected syntax at ${o.index} after option ${JSON.stringify(o[1])}: ${o.groups.wrngA.slice(0, 25)}`);
      if (o.groups?.wrngB) throw new FilterConfigError(`expected option, wrong syntax at ${o.index}: ${o.groups.wrngB.slice(0, 25)}`);
      if (o[1]) options[o[1].trim()] = (o[2] ?? o[3] ?? o[4] ?? '').trim();
      if (o[0].length === 0) {
        if (OPTION_EXTRACT.lastIndex >= text.length) break;
        OPTION_EXTRACT.lastIndex++;
      }
    }
  }
  return { name: m[1]!, options };
}

/**
 * fail2ban's tags in failregex/ignoreregex/prefregex (`<HOST>`, `<F-USER>`,
 * `<SKIPLINES>`, ...), replaced by Python regex text exactly as
 * fail2ban.server.failregex.Regex._resolveHostTag does, before the pattern
 * is parsed. The address patterns are fail2ban's own (IPAddr.IP_4_RE and
 * IP_6_RE), so the same text is taken for an address.
 */

const IP_4_RE = String.raw`(?:\d{1,3}\.){3}\d{1,3}`;
const IP_6_RE = String.raw`(?:[0-9a-fA-F]{1,4}::?|::){1,7}(?:[0-9a-fA-F]{1,4}|(?<=:):)`;

const R_IPV4 = String.raw`(?:::f{4,6}:)?(?P<ip4>${IP_4_RE})`;
const R_IPV6 = `(?P<ip6>${IP_6_RE})`;
const R_DNS = String.raw`(?P<dns>[\w\-.^_]*\w)`;
const R_CIDR = String.raw`(?P<cidr>\d+)`;
const R_ADDR = String.raw`\[?(?:${R_IPV4}|${R_IPV6})\]?`;
const R_HOST = `(?:${R_ADDR}|${R_DNS})`;
const R_SUBNET = String.raw`\[?(?:${R_IPV4}|${R_IPV6})(?:/${R_CIDR})?\]?`;

const STATIC: Record<string, string> = {
  IP4: R_IPV4,
  'F-IP4/': R_IPV4,
  IP6: R_IPV6,
  'F-IP6/': R_IPV6,
  ADDR: R_ADDR,
  'F-ADDR/': R_ADDR,
  CIDR: R_CIDR,
  'F-CIDR/': R_CIDR,
  SUBNET: R_SUBNET,
  'F-SUBNET/': R_SUBNET,
  DNS: R_DNS,
  'F-DNS/': R_DNS,
  'F-ID/': String.raw`(?P<fid>\S+)`,
  'F-PORT/': String.raw`(?P<fport>\w+)`,
};

/** Tag names whose group gets another name (`<F-ID>` is group `fid`). */
const RENAMED: Record<string, string> = { id: 'fid', port: 'fport' };

const TAG = /<\/?[\w-]+\/?>/g;
const F_NAME = /^(\/?)F-([A-Z0-9_-]+)$/;
/** `((?i)x)` and `(?:(?i)x)` → `(?i:x)`, as fail2ban does before compiling. */
const GLOBAL_TO_LOCAL_FLAGS = /(?<!\\)\((?:\?:)?(\(\?[a-z]+)\)/g;

/** The group name an `<F-NAME>` tag opens. */
export function groupNameOfTag(tag: string): string {
  const n = tag.toLowerCase();
  return RENAMED[n] ?? n;
}

/** The text `<HOST>` and friends stand for; `usedns: no` makes `<HOST>` addresses only. */
export function resolveTags(regex: string, usedns: string = 'yes'): string {
  const open = new Set<string>();
  let skiplines = 0;
  return regex.replace(TAG, (tag) => {
    const name = tag.slice(1, -1);
    if (name === 'HOST') return usedns === 'no' ? R_ADDR : R_HOST;
    if (name === 'SKIPLINES') return String.raw`\n(?P<skiplines${skiplines++}>(?:(?:.*\n)*?))`;
    const fixed = STATIC[name];
    if (fixed !== undefined) return fixed;
    const m = F_NAME.exec(name);
    if (!m) return tag;
    const tn = m[2]!;
    if (m[1]) return open.has(tn) ? ')' : tag;
    open.add(tn);
    return `(?P<${groupNameOfTag(tn)}>`;
  });
}

/** fail2ban's rewrite of misplaced global flags into local flag groups. */
export function localiseFlags(regex: string): string {
  return regex.replace(GLOBAL_TO_LOCAL_FLAGS, '$1:');
}

/** A filter regex as fail2ban shows it once compiled: tags resolved, flags localised. */
export function resolveTagsForDisplay(regex: string, usedns?: string): string {
  return localiseFlags(resolveTags(regex, usedns));
}

/** The `<HOST>` pattern text (for diagnostics and tests). */
export const HOST_PATTERN = R_HOST;

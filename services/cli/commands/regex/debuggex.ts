import { resolveTags } from '../../../../shared/filter/index.ts';
import { CP1252_HIGH, type Codec } from './encoding.ts';

/**
 * `-D`: fail2ban-regex's debuggex.com links, each a listed line with one
 * regex (debuggexURL): the regex with its tags resolved and the line encoded
 * back in the log's encoding (errors='ignore'), as urllib's urlencode
 * writes them.
 */

const cp1252Bytes = new Map<string, number>();
for (let b = 0x80; b < 0xa0; b++) {
  const c = CP1252_HIGH[b - 0x80]!;
  if (c !== '\ufffd') cp1252Bytes.set(c, b);
}

/** str.encode(codec, 'ignore'). */
export function encodeLine(codec: Codec, text: string): Buffer {
  if (codec === 'utf_8') return Buffer.from(text, 'utf8');
  const out: number[] = [];
  for (const c of text) {
    const code = c.codePointAt(0)!;
    if (code < 0x80) out.push(code);
    else if (codec === 'latin_1' && code <= 0xff) out.push(code);
    else if (codec === 'cp1252') {
      if (code >= 0xa0 && code <= 0xff) out.push(code);
      else if (cp1252Bytes.has(c)) out.push(cp1252Bytes.get(c)!);
    }
  }
  return Buffer.from(out);
}

/** urllib.parse.quote_plus of bytes. */
function quotePlus(bytes: Uint8Array): string {
  let out = '';
  for (const b of bytes) {
    const c = String.fromCharCode(b);
    if (/[A-Za-z0-9_.~-]/.test(c)) out += c;
    else if (b === 0x20) out += '+';
    else out += `%${b.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

/** debuggexURL(sample, regex, multiline, useDns). */
export function debuggexUrl(sample: Uint8Array, regex: string, multiline: boolean, usedns: string | undefined): string {
  const args: Array<[string, Uint8Array]> = [
    ['re', Buffer.from(resolveTags(regex, usedns ?? 'yes'), 'utf8')],
    ['str', sample],
    ['flavor', Buffer.from('python')],
  ];
  if (multiline) args.push(['flags', Buffer.from('m')]);
  return `https://www.debuggex.com/?${args.map(([k, v]) => `${k}=${quotePlus(v)}`).join('&')}`;
}

/** The lines fail2ban-regex -D lists: every line with every regex, and the link for the two. */
export function debuggexLines(
  lines: readonly string[],
  regexes: readonly string[],
  options: { codec: Codec; multiline: boolean; usedns: string | undefined },
): string[] {
  const out: string[] = [];
  for (const line of lines) {
    const sample = encodeLine(options.codec, line);
    for (const regex of regexes) {
      out.push(`${line} | ${regex} |  ${debuggexUrl(sample, regex, options.multiline, options.usedns)}`.trimEnd());
    }
  }
  return out;
}

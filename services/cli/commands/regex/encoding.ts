/**
 * `-e ENCODING` as fail2ban-regex takes it: a Python codec name, looked up
 * as codecs.lookup does, and each line decoded as FileContainer.decode_line
 * does (strict; a line that does not decode is decoded again with
 * errors='replace', one U+FFFD per bad byte or sequence). Only codecs whose
 * Python decoding fleetban reproduces exactly are taken; any other name is
 * refused rather than read as something close to it.
 */

/** The Python codecs fleetban decodes exactly, by their module names. */
export type Codec = 'utf_8' | 'latin_1' | 'ascii' | 'cp1252';

/** Python's encodings.aliases for these codecs (Python 3.11). */
const ALIASES: Readonly<Record<string, Codec>> = {
  utf_8: 'utf_8', cp65001: 'utf_8', u8: 'utf_8', utf: 'utf_8', utf8: 'utf_8', utf8_ucs2: 'utf_8', utf8_ucs4: 'utf_8',
  latin_1: 'latin_1', 8859: 'latin_1', cp819: 'latin_1', csisolatin1: 'latin_1', ibm819: 'latin_1', iso8859: 'latin_1',
  iso8859_1: 'latin_1', iso_8859_1: 'latin_1', iso_8859_1_1987: 'latin_1', iso_ir_100: 'latin_1', l1: 'latin_1',
  latin: 'latin_1', latin1: 'latin_1',
  ascii: 'ascii', 646: 'ascii', 'ansi_x3.4_1968': 'ascii', 'ansi_x3.4_1986': 'ascii', ansi_x3_4_1968: 'ascii',
  cp367: 'ascii', csascii: 'ascii', ibm367: 'ascii', iso646_us: 'ascii', 'iso_646.irv_1991': 'ascii', iso_ir_6: 'ascii',
  us: 'ascii', us_ascii: 'ascii',
  cp1252: 'cp1252', 1252: 'cp1252', windows_1252: 'cp1252',
};

/** Names fail2ban-regex takes that fleetban does not decode (yet), for the refusal message. */
export const KNOWN_CODECS =
  'utf-8, latin-1 (iso-8859-1, latin1, l1), ascii, cp1252 (windows-1252) and their Python aliases';

/**
 * encodings.normalize_encoding after codecs.lookup's lower-casing: runs of
 * characters other than ASCII letters, digits and `.` become one `_`.
 */
function normalize(name: string): string {
  let out = '';
  let punct = false;
  for (const c of name.toLowerCase()) {
    if (/^[\p{L}\p{N}.]$/u.test(c)) {
      if (punct && out) out += '_';
      if (c.charCodeAt(0) < 128) out += c;
      punct = false;
    } else {
      punct = true;
    }
  }
  return out;
}

/** The codec a name stands for, as codecs.lookup finds it; undefined for one fleetban does not decode. */
export function pythonCodec(name: string): Codec | undefined {
  const norm = normalize(name);
  return ALIASES[norm] ?? ALIASES[norm.replaceAll('.', '_')];
}

/**
 * Python's cp1252 for bytes 0x80-0x9f (the rest is latin-1); U+FFFD for the
 * five it leaves undefined. Written out: Node 20's TextDecoder decodes
 * windows-1252 as latin-1, and WHATWG's maps the five to C1 controls.
 */
export const CP1252_HIGH =
  '\u20ac\ufffd\u201a\u0192\u201e\u2026\u2020\u2021\u02c6\u2030\u0160\u2039\u0152\ufffd\u017d\ufffd' +
  '\ufffd\u2018\u2019\u201c\u201d\u2022\u2013\u2014\u02dc\u2122\u0161\u203a\u0153\ufffd\u017e\u0178';

/** Decodes bytes [start, end) of a line, as Python's decode_line with this codec. */
export type LineDecoder = (buf: Buffer, start: number, end: number) => string;

export function lineDecoder(codec: Codec): LineDecoder {
  switch (codec) {
    case 'utf_8':
      // Buffer replaces each maximal bad subsequence with one U+FFFD, as Python's 'replace' does.
      return (buf, start, end) => buf.toString('utf8', start, end);
    case 'latin_1':
      // Every byte is the code point of the same number (0x80-0x9f are the C1 controls).
      return (buf, start, end) => buf.toString('latin1', start, end);
    case 'ascii':
      return (buf, start, end) => {
        const text = buf.toString('latin1', start, end);
        return /[\x80-\xff]/.test(text) ? text.replace(/[\x80-\xff]/g, '\ufffd') : text;
      };
    case 'cp1252':
      return (buf, start, end) => {
        const text = buf.toString('latin1', start, end);
        if (!/[\x80-\x9f]/.test(text)) return text;
        return text.replace(/[\x80-\x9f]/g, (c) => CP1252_HIGH[c.charCodeAt(0) - 0x80]!);
      };
  }
}

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

/** Whether bytes [start, end) decoded to `text` decode strictly too (fail2ban warns about a line that does not). */
export function decodedStrictly(codec: Codec, text: string, buf: Buffer, start: number, end: number): boolean {
  if (codec === 'latin_1' || !text.includes('\ufffd')) return true;
  if (codec !== 'utf_8') return false;
  try {
    strictUtf8.decode(buf.subarray(start, end));
    return true;
  } catch {
    return false;
  }
}

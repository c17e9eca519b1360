import { readdir, stat } from 'node:fs/promises';
import { isAbsolute, join, resolve, sep } from 'node:path';

/**
 * fail2ban's logpath globs (Python's glob): `*`, `?`, `[abc]`, `[!abc]` within
 * one path segment; a name starting with a dot is matched only by a segment
 * that starts with a dot. No `**`, as in fail2ban.
 */
export interface PathPattern {
  /** The pattern as written, made absolute. */
  readonly text: string;
  /** The longest directory without wildcards: what is watched. */
  readonly base: string;
  /** One matcher per segment after `base`. */
  readonly segments: readonly RegExp[];
}

const MAGIC = /[*?[]/;

export function hasMagic(segment: string): boolean {
  return MAGIC.test(segment);
}

/** Python's fnmatch.translate for one segment. */
export function segmentRegex(segment: string): RegExp {
  let out = '';
  for (let i = 0; i < segment.length; i++) {
    const c = segment[i]!;
    if (c === '*') out += '[^/]*';
    else if (c === '?') out += '[^/]';
    else if (c === '[') {
      let j = i + 1;
      if (segment[j] === '!') j++;
      if (segment[j] === ']') j++;
      while (j < segment.length && segment[j] !== ']') j++;
      if (j >= segment.length) {
        out += '\\[';
      } else {
        let body = segment.slice(i + 1, j).replaceAll('\\', '\\\\');
        if (body.startsWith('!')) body = `^${body.slice(1)}`;
        else if (body.startsWith('^')) body = `\\${body}`;
        out += `[${body}]`;
        i = j;
      }
    } else out += c.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
  }
  return new RegExp(`^${out}$`, 's');
}

export function parsePattern(text: string, cwd = process.cwd()): PathPattern {
  const absolute = isAbsolute(text) ? resolve(text) : resolve(cwd, text);
  const parts = absolute.split(sep).filter((p) => p !== '');
  const firstMagic = parts.findIndex(hasMagic);
  if (firstMagic < 0) {
    return { text: absolute, base: sep + parts.slice(0, -1).join(sep), segments: [exact(parts[parts.length - 1] ?? '')] };
  }
  return { text: absolute, base: sep + parts.slice(0, firstMagic).join(sep), segments: parts.slice(firstMagic).map((p) => (hasMagic(p) ? segmentRegex(p) : exact(p))) };
}

function exact(segment: string): RegExp {
  return new RegExp(`^${segment.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}$`);
}

function nameMatches(re: RegExp, name: string): boolean {
  if (name.startsWith('.') && !re.source.startsWith('^\\.')) return false;
  return re.test(name);
}

/**
 * Whether `path` is a file the pattern names (`complete`), or a directory on
 * the way to one (`prefix`), so a watcher can skip everything else.
 */
export function matchPath(pattern: PathPattern, path: string): 'complete' | 'prefix' | false {
  if (path === pattern.base) return 'prefix';
  if (!path.startsWith(pattern.base === sep ? sep : pattern.base + sep)) return false;
  const rest = path.slice(pattern.base.length).split(sep).filter((p) => p !== '');
  if (rest.length > pattern.segments.length) return false;
  for (let i = 0; i < rest.length; i++) if (!nameMatches(pattern.segments[i]!, rest[i]!)) return false;
  return rest.length === pattern.segments.length ? 'complete' : 'prefix';
}

/** The regular files that match now, sorted. */
export async function expand(pattern: PathPattern): Promise<string[]> {
  let current = [pattern.base];
  for (let depth = 0; depth < pattern.segments.length; depth++) {
    const re = pattern.segments[depth]!;
    const last = depth === pattern.segments.length - 1;
    const next: string[] = [];
    for (const dir of current) {
      const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
      for (const entry of entries) {
        if (!nameMatches(re, entry.name)) continue;
        const path = join(dir, entry.name);
        if (last) {
          const info = await stat(path).catch(() => undefined);
          if (info?.isFile()) next.push(path);
        } else if (entry.isDirectory() || entry.isSymbolicLink()) next.push(path);
      }
    }
    current = next;
  }
  return current.sort();
}

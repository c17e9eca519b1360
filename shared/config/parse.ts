import { isMap, isPair, isScalar, isSeq, LineCounter, parseDocument, visit, type Document, type Node } from 'yaml';
import type { z } from 'zod';
import { errorMessage, type ConfigProblem } from '../errors.ts';
import { checkRetention } from './retention.ts';
import { JAIL_NAME } from '../schema/index.ts';
import { jailSchema, rootSchema, type Config, type JailConfig } from './schema/index.ts';

export type ParseResult =
  | {
      ok: true;
      config: Config;
      /** What was accepted in a safer form than written (a ban capped); each names file, key and line. */
      warnings: ConfigProblem[];
      /** The line of a dotted key path in the file (its deepest part that exists), for checks made later (filters). */
      lineOf(path: readonly PropertyKey[]): number | undefined;
    }
  | { ok: false; problems: ConfigProblem[] };

/** A config file is a few kB; beyond this it is refused before YAML parsing (bounded time and memory). */
export const MAX_CONFIG_CHARS = 1 << 20;

/** Aliases a config may use; YAML alias bombs expand far beyond this. */
const MAX_ALIASES = 100;

export interface ParseContext {
  /** Used when the file names no `host`. */
  hostname: string;
}

/**
 * The pure half of loading a config: YAML text in, a resolved {@link Config}
 * or every problem out, each naming the file, the key path and the line.
 */
export function parseConfig(text: string, file: string, context: ParseContext): ParseResult {
  if (text.length > MAX_CONFIG_CHARS) {
    return { ok: false, problems: [{ file, path: '', message: `the file has more than ${MAX_CONFIG_CHARS} characters; a config is a few kB` }] };
  }
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, uniqueKeys: true, prettyErrors: false });
  const problems: ConfigProblem[] = [];
  const warnings: ConfigProblem[] = [];
  const locate = (path: readonly PropertyKey[]) => lineOf(doc, lines, path);
  const at = (path: readonly PropertyKey[], message: string) =>
    problems.push({ file, path: path.map(String).join('.'), line: locate(path), message });
  const warn = (path: readonly PropertyKey[], message: string) =>
    warnings.push({ file, path: path.map(String).join('.'), line: locate(path), message });

  for (const error of doc.errors) {
    problems.push({ file, path: '', line: lines.linePos(error.pos[0]).line, message: error.message.split('\n')[0]! });
  }
  if (problems.length > 0) return { ok: false, problems };

  let raw: unknown;
  try {
    raw = doc.toJS({ maxAliasCount: MAX_ALIASES }) ?? {};
  } catch (err) {
    // yaml throws a ReferenceError when aliases would expand beyond the limit.
    const line = firstAliasLine(doc, lines);
    problems.push({ file, path: '', ...(line !== undefined && { line }), message: `cannot read the YAML: ${errorMessage(err)} (aliases expand too far)` });
    return { ok: false, problems };
  }
  if (typeof raw !== 'object' || Array.isArray(raw)) {
    at([], 'the top level must be a map of settings');
    return { ok: false, problems };
  }

  // The root and the jails are checked independently, so one run lists every problem.
  const root = rootSchema.safeParse(raw);
  if (!root.success) report(root.error, [], at);
  const rawRecord = raw as Record<string, unknown>;
  const defaultsRaw = isRecord(rawRecord.defaults) ? rawRecord.defaults : {};
  const rawJails = isRecord(rawRecord.jails) ? rawRecord.jails : {};
  const defaultsCheck = jailSchema.safeParse(defaultsRaw);
  if (!defaultsCheck.success) report(defaultsCheck.error, ['defaults'], at);

  const jails: Record<string, JailConfig> = {};
  for (const [name, jailRaw] of Object.entries(rawJails ?? {})) {
    if (!JAIL_NAME.test(name)) {
      at(['jails', name], 'a jail name is 1-64 characters from A-Z a-z 0-9 _ -');
      continue;
    }
    if (jailRaw !== null && (typeof jailRaw !== 'object' || Array.isArray(jailRaw))) {
      at(['jails', name], 'a jail is a map of settings');
      continue;
    }
    const own = (jailRaw ?? {}) as Record<string, unknown>;
    const parsed = jailSchema.safeParse({ ...defaultsRaw, ...own });
    if (!parsed.success) {
      // A bad value inherited from `defaults` was reported there already.
      const ownIssues = parsed.error.issues.filter((i) => i.path.length === 0 || String(i.path[0]) in own);
      report({ issues: ownIssues }, ['jails', name], at);
      continue;
    }
    // filter goes last whether it was written or not, so printing a config is stable.
    const { filter, ...settings } = parsed.data;
    jails[name] = { ...settings, name, filter: filter ?? name };
  }

  if (!root.success) return { ok: false, problems };
  const { defaults: _defaults, jails: _jails, prefix, host, ...rest } = root.data;
  if (rest.shipper.jails !== 'all') {
    rest.shipper.jails.forEach((jail, i) => {
      if (!(jail in rawJails)) at(['shipper', 'jails', i], `jail "${jail}" is not defined under jails`);
    });
  }
  if (problems.length > 0) return { ok: false, problems };
  const defaults = { ignoreip: defaultsCheck.success ? defaultsCheck.data.ignoreip : [] };
  const config = { prefix, host: host ?? context.hostname, ...rest, jails, defaults };
  checkRetention(config, at, warn);
  if (problems.length > 0) return { ok: false, problems };
  return { ok: true, config, warnings, lineOf: locate };
}

function firstAliasLine(doc: Document, lines: LineCounter): number | undefined {
  let line: number | undefined;
  visit(doc, {
    Alias(_key, node) {
      line = startLine(node, lines);
      return visit.BREAK;
    },
  });
  return line;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function report(error: Pick<z.ZodError, 'issues'>, base: readonly PropertyKey[], at: (path: readonly PropertyKey[], message: string) => void): void {
  for (const issue of error.issues) {
    const path = [...base, ...issue.path];
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys) at([...path, key], 'unknown key');
    } else if (issue.code === 'invalid_type' && /received undefined$/.test(issue.message)) {
      at(path, 'required');
    } else {
      at(path, issue.message.replace(/^Invalid (?:input|option): /, ''));
    }
  }
}

/** The 1-based line of the deepest part of `path` that exists in the document. */
function lineOf(doc: Document, lines: LineCounter, path: readonly PropertyKey[]): number | undefined {
  let node: unknown = doc.contents;
  let line = startLine(node, lines);
  for (const segment of path) {
    if (isMap(node)) {
      const pair = node.items.find((p) => isPair(p) && isScalar(p.key) && String(p.key.value) === String(segment));
      if (!pair) break;
      line = startLine(pair.key, lines) ?? line;
      node = pair.value;
    } else if (isSeq(node) && typeof segment === 'number') {
      node = node.items[segment];
      line = startLine(node, lines) ?? line;
    } else {
      break;
    }
  }
  return line;
}

function startLine(node: unknown, lines: LineCounter): number | undefined {
  const range = (node as Node | null | undefined)?.range;
  return range ? lines.linePos(range[0]).line : undefined;
}

import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { basename, dirname, extname, join, resolve } from 'node:path';
import { resolveDefinition, type FilterDefinition } from './config/definition.ts';
import { ConfigSet, type ConfigSource } from './config/reader.ts';
import { FilterConfigError, FilterError, FilterNotFoundError } from './errors.ts';
import { buildFilter, type BuiltFilter } from './filter.ts';
import { extractOptions } from './spec.ts';
import type { FilterOptions } from './types.ts';

/**
 * The only module of the engine that touches the file system: finding a
 * filter, reading its files (with includes and .local overrides), and
 * handing the text to the pure parts.
 */

export const SYSTEM_FILTER_DIR = '/etc/fail2ban/filter.d';

/** Where infra/setup/steps/fail2ban-filters.sh unpacks Debian's fail2ban package. */
export function fail2banCacheRoot(env: NodeJS.ProcessEnv = process.env): string {
  if (env.FLEETBAN_FAIL2BAN_CACHE) return env.FLEETBAN_FAIL2BAN_CACHE;
  const base = env.XDG_CACHE_HOME || join(env.HOME || homedir(), '.cache');
  return join(base, 'fleetban', 'fail2ban');
}

/** The unpacked package (`<cache>/current`), or undefined when the set-up has not filled the cache. */
export function fail2banPackageDir(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const dir = join(fail2banCacheRoot(env), 'current');
  return existsSync(join(dir, 'etc', 'fail2ban', 'filter.d')) ? dir : undefined;
}

/** Directories searched for a filter name, in order. */
export function filterSearchPath(options: Pick<FilterOptions, 'dirs'> = {}, env: NodeJS.ProcessEnv = process.env): string[] {
  const dirs = [...(options.dirs ?? []), SYSTEM_FILTER_DIR];
  const pkg = fail2banPackageDir(env);
  if (pkg) dirs.push(join(pkg, 'etc', 'fail2ban', 'filter.d'));
  return dirs;
}

/** Files from the real file system. */
export const FILE_SOURCE: ConfigSource = {
  read(file) {
    try {
      if (!statSync(file).isFile()) return undefined;
      return readFileSync(file, 'utf8');
    } catch {
      return undefined;
    }
  },
  list(dir) {
    try {
      return readdirSync(dir);
    } catch {
      return [];
    }
  },
};

/**
 * A spec with a `/` names a file. A bare `sshd.conf` or `sshd.local` names
 * the filter `sshd` in the filter directories, as fail2ban-regex reads it
 * (it joins a name without `/` to filter.d), not a file in the working
 * directory.
 */
function isPath(name: string): boolean {
  return name.includes('/');
}

const EXTENSION = /\.(?:conf|local)$/;

/** Reads a filter by name (searching the directories) or path, resolving its options; no regex is compiled. */
export function readFilterDefinition(spec: string, options: FilterOptions = {}, source: ConfigSource = FILE_SOURCE): FilterDefinition {
  const { name: rawName, options: initOpts } = extractOptions(spec.trim());
  const name = rawName.trim();
  const cfg = new ConfigSet(source);
  let label = name;
  try {
    if (isPath(name)) {
      const file = resolve(name);
      if (source.read(file) === undefined) throw new FilterNotFoundError(`filter file not found: ${file}`);
      label = basename(file, extname(file));
      if (basename(dirname(file)) === 'filter.d') cfg.readNamed(join(dirname(file), label));
      else cfg.read([file]);
    } else {
      const named = name.replace(EXTENSION, '');
      label = named;
      const dirs = filterSearchPath(options);
      const dir = dirs.find((d) => source.read(join(d, `${named}.conf`)) !== undefined || source.read(join(d, `${named}.local`)) !== undefined);
      if (!dir) throw new FilterNotFoundError(`no filter named '${named}' in ${dirs.join(', ')}`);
      if (!cfg.readNamed(join(dir, named))) throw new FilterNotFoundError(`filter '${named}' in ${dir} could not be read`);
    }
    return resolveDefinition(label, cfg, initOpts, options.backend);
  } catch (err) {
    if (err instanceof FilterError) {
      if (err instanceof FilterNotFoundError) throw err;
      throw new FilterConfigError(`filter ${spec}: ${err.message}`, undefined, { cause: err });
    }
    throw err;
  }
}

/** Finds, reads and translates a filter (`sshd`, `sshd[mode=aggressive]`, or a path). */
export async function loadFilter(spec: string, options: FilterOptions = {}): Promise<BuiltFilter> {
  const definition = readFilterDefinition(spec, options);
  try {
    return buildFilter(definition, options);
  } catch (err) {
    if (err instanceof FilterError) throw new FilterConfigError(`filter ${spec}: ${err.message}`, undefined, { cause: err });
    throw err;
  }
}

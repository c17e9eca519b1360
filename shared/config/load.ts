import { readFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { ConfigError, errorMessage } from '../errors.ts';
import { parseConfig } from './parse.ts';
import type { ConfigProblem } from '../errors.ts';
import type { Config } from './schema/index.ts';

/**
 * Reads and parses a config file; throws {@link ConfigError} listing every
 * problem. `warnings` receives what was accepted in a safer form (a capped ban).
 */
export async function loadConfig(file: string, warnings?: ConfigProblem[]): Promise<Config> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new ConfigError(file, [{ file, path: '', message: `cannot read: ${errorMessage(err)}` }]);
  }
  const result = parseConfig(text, file, { hostname: hostname() });
  if (!result.ok) throw new ConfigError(file, result.problems);
  warnings?.push(...result.warnings);
  return result.config;
}

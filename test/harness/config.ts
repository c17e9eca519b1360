import { stringify } from 'yaml';
import { parseConfig, type Config } from '../../shared/config/index.ts';

/**
 * A resolved Config built from a plain object, through the same parser as a
 * real file, so tests use the real defaults and validation.
 */
export function testConfig(settings: Record<string, unknown>, hostname = 'test-host'): Config {
  const result = parseConfig(stringify(settings), 'test-config.yaml', { hostname });
  if (!result.ok) throw new Error(`bad test config:\n${result.problems.map((p) => `${p.path}: ${p.message}`).join('\n')}`);
  return result.config;
}

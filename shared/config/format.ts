import { stringify } from 'yaml';
import { formatDuration } from '../time/index.ts';
import type { Config } from './schema/index.ts';

/** Keys whose values are ms; shown back in fail2ban's units. */
const DURATION_KEYS = new Set([
  'findtime', 'bantime', 'bantime.maxtime', 'bantime.rndtime', 'dbpurgeage',
  'reconnectWait', 'duplicateWindow', 'maxAge', 'ackWait',
  'checkInterval', 'positionInterval', 'rotateWait', 'publishTimeout', 'stopTimeout',
]);
const SECRET_KEYS = new Set(['password', 'token', 'nkeySeed', 'sentinelPassword']);

/** The resolved configuration as YAML, durations readable and secrets masked. */
export function formatConfig(config: Config): string {
  return stringify(readable(config), { lineWidth: 0 });
}

/** The resolved configuration as plain data with secrets masked (for `--json`). */
export function redactConfig(config: Config): unknown {
  return walk(config, (key, value) => (SECRET_KEYS.has(key) && value !== undefined ? '***' : value));
}

function readable(config: Config): unknown {
  return walk(redactConfig(config), (key, value) =>
    DURATION_KEYS.has(key) && typeof value === 'number' && value !== 0 ? formatDuration(value) : value,
  );
}

function walk(value: unknown, visit: (key: string, value: unknown) => unknown): unknown {
  if (Array.isArray(value)) return value.map((v) => walk(v, visit));
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = visit(k, walk(v, visit));
    return out;
  }
  return value;
}

import { stringify } from 'yaml';
import { formatDuration, PERMANENT } from '../time/index.ts';
import type { Config } from './schema/index.ts';

/** Keys whose values are ms (or lists of ms); shown back in fail2ban's units. */
const DURATION_KEYS = new Set([
  'findtime', 'bantime', 'bantime.maxtime', 'bantime.rndtime', 'dbpurgeage',
  'reconnectWait', 'duplicateWindow', 'maxAge', 'ackWait', 'statusFlush', 'maxTimeout', 'lists',
  'checkInterval', 'positionInterval', 'rotateWait', 'publishTimeout', 'stopTimeout',
]);
const SECRET_KEYS = new Set(['password', 'token', 'nkeySeed', 'sentinelPassword']);

/**
 * The resolved configuration as YAML, durations readable and secrets masked.
 * The parser reads it back to the same configuration (secrets aside), so the
 * output can be saved as the file.
 */
export function formatConfig(config: Config): string {
  return stringify(readable(config), { lineWidth: 0 });
}

/** The resolved configuration as plain data with secrets masked (for `--json`). */
export function redactConfig(config: Config): unknown {
  return walk(config, (key, value) => (SECRET_KEYS.has(key) && value !== undefined ? '***' : value));
}

function readable(config: Config): unknown {
  // A jail's name is its key under `jails:`; the parser adds it back.
  const jails = Object.fromEntries(Object.entries(config.jails).map(([key, { name: _name, ...jail }]) => [key, jail]));
  const listen = config.metrics.listen;
  const metrics = { ...config.metrics, listen: listen && `${listen.host.includes(':') ? `[${listen.host}]` : listen.host}:${listen.port}` };
  return walk(redactConfig({ ...config, metrics, jails } as Config), (key, value) => (DURATION_KEYS.has(key) ? durationText(value) : value));
}

/** ms as `10m`; -1 as fail2ban writes it; 0 (a stream kept for ever) as 0. */
function durationText(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(durationText);
  if (typeof value !== 'number' || value === 0) return value;
  return value === PERMANENT ? -1 : formatDuration(value);
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

import { readFileSync } from 'node:fs';
import { LuaScript } from '../../../shared/redis/index.ts';

function load(file: string, keys: number): LuaScript {
  return new LuaScript(file.replace(/\.lua$/, ''), readFileSync(new URL(file, import.meta.url), 'utf8'), keys);
}

/** One failure against one (jail, target): counts, bans. See failure.lua. */
export const FAILURE_SCRIPT = load('failure.lua', 5);
/** A manual ban or unban mirrored into one (jail, target). See decision.lua. */
export const DECISION_SCRIPT = load('decision.lua', 3);
/** A batch of per-jail status figures. See aggregate.lua. */
export const AGGREGATE_SCRIPT = load('aggregate.lua', 6);

export const SCRIPTS = [FAILURE_SCRIPT, DECISION_SCRIPT, AGGREGATE_SCRIPT] as const;

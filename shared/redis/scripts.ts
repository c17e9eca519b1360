import { createHash } from 'node:crypto';
import type { RedisClient } from './connect.ts';

/**
 * A Lua script run by its SHA1, loaded on first use and again after a Redis
 * restart or failover (NOSCRIPT). Works on standalone and cluster clients, since
 * the cluster client routes EVALSHA by the slot of its keys.
 */
export class LuaScript {
  readonly sha: string;

  constructor(
    readonly name: string,
    readonly lua: string,
    readonly numberOfKeys: number,
  ) {
    this.sha = createHash('sha1').update(lua).digest('hex');
  }

  async run(client: RedisClient, keys: readonly string[], args: readonly (string | number)[]): Promise<unknown> {
    if (keys.length !== this.numberOfKeys) throw new Error(`script ${this.name} takes ${this.numberOfKeys} keys, got ${keys.length}`);
    try {
      return await client.evalsha(this.sha, this.numberOfKeys, ...keys, ...args);
    } catch (err) {
      if (!String((err as Error).message).startsWith('NOSCRIPT')) throw err;
      return client.eval(this.lua, this.numberOfKeys, ...keys, ...args);
    }
  }

  /** Loads the script on a standalone server ahead of use (cluster nodes load on first NOSCRIPT). */
  async load(client: RedisClient): Promise<void> {
    if ('nodes' in client) {
      await Promise.all(client.nodes('master').map((node) => node.script('LOAD', this.lua)));
    } else {
      await client.script('LOAD', this.lua);
    }
  }
}

/**
 * A Redis Cluster hash tag: every key built with the same tag lands in one
 * slot, so one script can touch all of them.
 */
export function hashTag(value: string): string {
  return `{${value}}`;
}

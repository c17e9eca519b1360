import { z } from 'zod';
import { name, stringList, validPort } from './fields.ts';

const ENDPOINT = /^(?:\[[0-9a-fA-F:.]+\]|[A-Za-z0-9._-]+):(\d{1,5})$/;
const endpoint = z.string().superRefine((text, ctx) => {
  const m = ENDPOINT.exec(text);
  if (!m) ctx.addIssue({ code: 'custom', message: 'expected host:port' });
  else if (!validPort(m[1]!)) ctx.addIssue({ code: 'custom', message: `port ${m[1]} is not 1-65535` });
});

/** How to reach Redis: one server, a Sentinel group, or a Cluster. */
export const redisSchema = z
  .strictObject({
    mode: z.enum(['standalone', 'sentinel', 'cluster']).default('standalone'),
    /** The server (standalone), the sentinels (sentinel), or seed nodes (cluster). */
    nodes: stringList.pipe(z.array(endpoint).min(1)).default(['127.0.0.1:6379']),
    /** The master group name that the sentinels watch. */
    sentinelName: name.optional(),
    sentinelPassword: z.string().optional(),
    user: name.optional(),
    password: z.string().optional(),
    db: z.int().min(0).max(15).default(0),
    tls: z
      .strictObject({ ca: name.optional(), cert: name.optional(), key: name.optional(), servername: name.optional() })
      .optional(),
    /** Prefix of every key fleetban writes, so one Redis can serve other users. */
    keyPrefix: z.string().regex(/^[A-Za-z0-9:_.-]{0,64}$/).default('fleetban:'),
  })
  .superRefine((r, ctx) => {
    if (r.mode === 'sentinel' && !r.sentinelName) ctx.addIssue({ code: 'custom', path: ['sentinelName'], message: 'sentinel mode needs sentinelName' });
    if (r.mode === 'cluster' && r.db !== 0) ctx.addIssue({ code: 'custom', path: ['db'], message: 'Redis Cluster has only db 0' });
    if (r.mode === 'standalone' && r.nodes.length > 1) ctx.addIssue({ code: 'custom', path: ['nodes'], message: 'standalone mode takes one node' });
  });

export type RedisConfig = z.output<typeof redisSchema>;

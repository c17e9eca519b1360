import { z } from 'zod';
import { boolish, duration, name, stringList, validPort } from './fields.ts';

/**
 * A server as nats.js takes it: `host`, `host:port`, `[v6]:port`, optionally
 * `nats://` or `tls://` and `user:pass@`. nats.js drops any scheme and guesses
 * at the rest, so a typo such as `http://x:y:z` would only show as a
 * connection that never succeeds.
 */
const NATS_SERVER = /^(?:([A-Za-z][A-Za-z0-9+.-]*):\/\/)?(?:[^@/\s]+@)?(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9._-]+)(?::([^/]*))?\/?$/;
const natsServer = z.string().superRefine((text, ctx) => {
  const m = NATS_SERVER.exec(text);
  const problem = !m
    ? 'expected nats://host:port (or tls://, or host:port)'
    : m[1] !== undefined && !/^(?:nats|tls)$/i.test(m[1])
      ? `scheme "${m[1]}://" is not supported (use nats:// or tls://)`
      : m[3] !== undefined && !validPort(m[3])
        ? `port "${m[3]}" is not 1-65535`
        : undefined;
  if (problem) ctx.addIssue({ code: 'custom', message: `${problem}: "${text}"` });
});

const tlsSchema = z.strictObject({
  /** CA bundle that signs the server's certificate. */
  ca: name.optional(),
  /** Client certificate and key, for servers that verify clients. */
  cert: name.optional(),
  key: name.optional(),
  handshakeFirst: boolish.default(false),
}).refine((t) => (t.cert === undefined) === (t.key === undefined), { message: 'cert and key go together', path: ['cert'] });

const streamSchema = z.strictObject({
  /** `auto` keeps messages as long as the jails need them (see streams.ts); or a duration; 0 keeps forever. */
  maxAge: z.union([z.literal('auto'), z.literal(0), duration]).default('auto'),
  /** JetStream deduplication window for `Nats-Msg-Id`. */
  duplicateWindow: duration.prefault('10m'),
  replicas: z.int().min(1).max(5).default(1),
  /** -1: no limit. */
  maxBytes: z.int().min(-1).default(-1),
});

/** How to reach NATS, with one of its auth forms. */
export const natsSchema = z
  .strictObject({
    servers: stringList.pipe(z.array(natsServer).min(1)).default(['nats://127.0.0.1:4222']),
    user: name.optional(),
    password: z.string().optional(),
    token: z.string().optional(),
    /** An nkey seed (`SU...`) given inline, or a file holding one. */
    nkeySeed: z.string().regex(/^S[A-Z2-7]{57}$/, 'an nkey seed starts with S and has 58 characters').optional(),
    nkeySeedFile: name.optional(),
    /** A `.creds` file (JWT and seed) for decentralised auth. */
    credsFile: name.optional(),
    tls: tlsSchema.optional(),
    /**
     * Subject prefix of this process's reply inboxes (nats.js `inboxPrefix`;
     * `_INBOX` when unset). A server that gives each role its own inbox
     * prefix (infra/nats) keeps one role from reading another's replies.
     */
    inboxPrefix: z.string().regex(/^[A-Za-z0-9_$-]{1,64}(?:\.[A-Za-z0-9_$-]{1,64}){0,7}$/, 'dot-separated tokens of A-Z a-z 0-9 _ $ -').optional(),
    /** First wait between reconnect attempts; it grows to half the outage, at most 10 s (shared/nats/backoff.ts). Reconnection never gives up. */
    reconnectWait: duration.prefault('1s'),
    streams: z
      .strictObject({ failures: streamSchema.prefault({}), decisions: streamSchema.prefault({}) })
      .prefault({}),
  })
  .superRefine((n, ctx) => {
    if ((n.user === undefined) !== (n.password === undefined)) ctx.addIssue({ code: 'custom', path: [n.user ? 'password' : 'user'], message: 'user and password go together' });
    const forms = [n.user !== undefined && 'user/password', n.token !== undefined && 'token', n.nkeySeed !== undefined && 'nkeySeed', n.nkeySeedFile !== undefined && 'nkeySeedFile', n.credsFile !== undefined && 'credsFile'].filter(Boolean);
    if (forms.length > 1) ctx.addIssue({ code: 'custom', path: [], message: `choose one auth form, not ${forms.join(' and ')}` });
  });

export type NatsConfig = z.output<typeof natsSchema>;
export type StreamConfig = z.output<typeof streamSchema>;

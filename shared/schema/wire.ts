import { z } from 'zod';
import { tryCanonicalIp, tryParseTarget } from '../ip/index.ts';
import { PERMANENT } from '../time/index.ts';
import { DECISION_ACTIONS, JAIL_NAME } from './subjects.ts';

/**
 * Wire contracts, version 1. Every message is JSON with `"v": 1`, declared
 * here once and validated on every publish and every receive.
 */
export const WIRE_VERSION = 1;

/** Field limits: a log line is attacker-controlled, so every string is bounded. */
export const LIMITS = {
  id: 200,
  host: 255,
  source: 1024,
  user: 256,
  line: 2048,
  reason: 512,
  by: 255,
} as const;

const epochMs = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);

/**
 * Addresses on the wire are read with shared/ip's one parser and carried on
 * in its canonical form: any spelling it takes (`::ffff:cb00:7108`,
 * `2001:DB8::0001`) is accepted and rewritten (203.0.113.8, 2001:db8::1), so
 * a message from an older or foreign publisher is enforced where the CLI and
 * the filters would put it, never in the other family's set. What the parser
 * refuses (zones, leading zeros in IPv4, host names) is refused here too.
 */
const address = z.string().max(64).transform((value, ctx) => {
  const canonical = tryCanonicalIp(value);
  if (canonical !== undefined) return canonical;
  ctx.addIssue({ code: 'custom', message: `not an IP address: "${value.slice(0, 64)}"` });
  return z.NEVER;
});

const target = z.string().max(64).transform((value, ctx) => {
  const canonical = tryParseTarget(value);
  if (canonical !== undefined) return canonical.text;
  ctx.addIssue({ code: 'custom', message: `not an IP address or CIDR: "${value.slice(0, 64)}"` });
  return z.NEVER;
});

const text = (max: number) => z.string().min(1).max(max);
const id = z.string().regex(/^[A-Za-z0-9._:@/+=-]{1,200}$/, 'id: 1-200 characters from A-Z a-z 0-9 . _ : @ / + = -');
const jail = z.string().regex(JAIL_NAME, 'jail: 1-64 characters from A-Z a-z 0-9 _ -');

/** A failure seen by a shipper, published on `<prefix>.fail.<jail>`. */
export const failureEventSchema = z.strictObject({
  v: z.literal(WIRE_VERSION),
  /** Unique; also the JetStream `Nats-Msg-Id`. */
  id,
  jail,
  /** Canonical text form of the offending address. */
  ip: address,
  /** The log line's own timestamp, epoch ms. */
  time: epochMs,
  /** The shipper's host name. */
  host: text(LIMITS.host),
  /** File path, or `journal`, or `stdin`. */
  source: text(LIMITS.source),
  user: z.string().max(LIMITS.user).optional(),
  /** The matched line, cut to {@link LIMITS.line}. */
  line: z.string().max(LIMITS.line).optional(),
});
export type FailureEvent = z.infer<typeof failureEventSchema>;

const decisionCommon = {
  v: z.literal(WIRE_VERSION),
  id,
  jail,
  /** An address or a CIDR, canonical. */
  target,
  /** When the decision was taken, epoch ms. */
  time: epochMs,
  origin: z.enum(['scorer', 'manual']),
  reason: z.string().max(LIMITS.reason).optional(),
  /** Failures in the window that caused the ban. */
  failures: z.number().int().min(0).optional(),
  /** How many times this address has been banned (bantime.increment). */
  banCount: z.number().int().min(0).optional(),
  /** Host or operator that decided. */
  by: z.string().max(LIMITS.by).optional(),
};

const banDecisionSchema = z.strictObject({
  ...decisionCommon,
  action: z.literal('ban'),
  /** Length of the ban in ms, or -1 ({@link PERMANENT}) for a permanent ban. */
  duration: z.union([z.literal(PERMANENT), z.number().int().min(1).max(Number.MAX_SAFE_INTEGER)]),
});

const unbanDecisionSchema = z.strictObject({
  ...decisionCommon,
  action: z.literal('unban'),
});

/** A ban or unban, published on `<prefix>.ban.<jail>` or `<prefix>.unban.<jail>`. */
export const decisionSchema = z.discriminatedUnion('action', [banDecisionSchema, unbanDecisionSchema]);
export type Decision = z.infer<typeof decisionSchema>;
export type BanDecision = z.infer<typeof banDecisionSchema>;
export type UnbanDecision = z.infer<typeof unbanDecisionSchema>;

// A compile-time check that the action names here and in subjects agree.
const _actions: readonly Decision['action'][] = DECISION_ACTIONS;
void _actions;

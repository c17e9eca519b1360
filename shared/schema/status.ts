import { z } from 'zod';
import { parseTarget } from '../ip/index.ts';
import { PERMANENT } from '../time/index.ts';
import type { Decoded } from './codec.ts';
import { JAIL_NAME } from './subjects.ts';
import { LIMITS, WIRE_VERSION } from './wire.ts';

/**
 * The scorer's `status` service endpoint (`<prefix>.svc.scorer.status`): the
 * figures `fail2ban-client status <jail>` shows, fleet-wide (every scorer
 * reads the same Redis, so any replica answers for all). Request and reply are
 * JSON, validated on both sides by the schemas here.
 */

/** Most banned entries a reply lists per jail; the counts are always complete. */
export const STATUS_MAX_LIST = 1000;
export const STATUS_DEFAULT_LIST = 100;

const jail = z.string().regex(JAIL_NAME, 'jail: 1-64 characters from A-Z a-z 0-9 _ -');
const epochMs = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);
const count = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);
const target = z.string().max(64).refine((value) => {
  try {
    return parseTarget(value).text === value;
  } catch {
    return false;
  }
}, 'not a canonical IP address or CIDR');

/** The request; an empty body asks for every jail. */
export const statusRequestSchema = z.strictObject({
  /** Only this jail. */
  jail: jail.optional(),
  /** How many banned entries to list per jail, those that end soonest first (see `truncated`). */
  limit: z.number().int().min(0).max(STATUS_MAX_LIST).default(STATUS_DEFAULT_LIST),
});
export type StatusRequest = z.output<typeof statusRequestSchema>;

/** One banned target. */
export const bannedEntrySchema = z.strictObject({
  /** The banned address or network. */
  target,
  /** When the ban started, epoch ms (for a scorer ban: the log time of the failure that reached maxretry). */
  start: epochMs,
  /** Length in ms, or -1 ({@link PERMANENT}). */
  duration: z.union([z.literal(PERMANENT), z.number().int().min(1).max(Number.MAX_SAFE_INTEGER)]),
  /** ms left at the reply's `time`, or -1 for a permanent ban. */
  remaining: z.union([z.literal(PERMANENT), count]),
  origin: z.enum(['scorer', 'manual']),
  reason: z.string().max(LIMITS.reason).optional(),
  /** Failures in the window that caused a scorer ban. */
  failures: count.optional(),
  /** How many times the target has been banned, this ban included (bantime.increment). */
  banCount: count.optional(),
  /** Operator of a manual ban. */
  by: z.string().max(LIMITS.by).optional(),
});
export type BannedEntry = z.infer<typeof bannedEntrySchema>;

/** One jail, in fail2ban-client's terms. */
export const jailStatusSchema = z.strictObject({
  jail,
  /** Targets with failures in their window that are not banned. */
  currentlyFailed: count,
  /** Failures counted in a window since the jail's figures began (each event once). */
  totalFailed: count,
  currentlyBanned: count,
  /** Bans since the jail's figures began, scorer and manual. */
  totalBanned: count,
  /** Up to the request's `limit` of the current bans. */
  banned: z.array(bannedEntrySchema).max(STATUS_MAX_LIST),
  /** True when `banned` lists fewer entries than `currentlyBanned`. */
  truncated: z.boolean(),
});
export type JailStatus = z.infer<typeof jailStatusSchema>;

export const statusResponseSchema = z.strictObject({
  v: z.literal(WIRE_VERSION),
  /** The scorer replica that answered. */
  host: z.string().min(1).max(LIMITS.host),
  /** When the figures were read, epoch ms; `remaining` counts from here. */
  time: epochMs,
  jails: z.array(jailStatusSchema),
});
export type StatusResponse = z.infer<typeof statusResponseSchema>;

function check<T>(schema: z.ZodType<T>, value: unknown): Decoded<T> {
  const result = schema.safeParse(value);
  if (result.success) return { ok: true, value: result.data };
  const reason = result.error.issues
    .slice(0, 3)
    .map((i) => (i.path.length ? `${i.path.join('.')}: ${i.message}` : i.message))
    .join('; ');
  return { ok: false, reason };
}

/** Validates a status request (undefined or null: the defaults). Never throws. */
export function parseStatusRequest(value: unknown): Decoded<StatusRequest> {
  return check(statusRequestSchema, value ?? {});
}

/** Validates a status reply, given as bytes, text or parsed JSON. Never throws. */
export function parseStatusResponse(data: Uint8Array | string | unknown): Decoded<StatusResponse> {
  let value = data;
  if (typeof data === 'string' || data instanceof Uint8Array) {
    try {
      value = JSON.parse(typeof data === 'string' ? data : new TextDecoder().decode(data));
    } catch (err) {
      return { ok: false, reason: `not JSON: ${(err as Error).message}` };
    }
  }
  return check(statusResponseSchema, value);
}

import type { z } from 'zod';
import { MessageValidationError } from '../errors.ts';
import { decisionSchema, failureEventSchema, LIMITS, type Decision, type FailureEvent } from './wire.ts';

/** Largest message accepted on receive; anything bigger is rejected before JSON parsing. */
export const MAX_MESSAGE_BYTES = 8192;

export type Decoded<T> = { ok: true; value: T } | { ok: false; reason: string };

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });

function describe(error: z.ZodError): string {
  return error.issues
    .slice(0, 3)
    .map((issue) => {
      const path = issue.path.join('.');
      if (issue.code === 'unrecognized_keys') return `unknown field ${issue.keys.map((k) => `"${k}"`).join(', ')}`;
      return path ? `${path}: ${issue.message}` : issue.message;
    })
    .join('; ');
}

function codec<T>(kind: string, schema: z.ZodType<T>) {
  return {
    /** Validates and serialises; throws {@link MessageValidationError} so a bad message is never published. */
    encode(value: T): Uint8Array {
      const result = schema.safeParse(value);
      if (!result.success) throw new MessageValidationError(kind, describe(result.error));
      return encoder.encode(JSON.stringify(result.data));
    },
    /** Parses and validates received bytes; never throws. */
    decode(data: Uint8Array): Decoded<T> {
      if (data.byteLength > MAX_MESSAGE_BYTES) return { ok: false, reason: `message of ${data.byteLength} bytes exceeds ${MAX_MESSAGE_BYTES}` };
      let json: unknown;
      try {
        json = JSON.parse(decoder.decode(data));
      } catch (err) {
        return { ok: false, reason: `not JSON: ${(err as Error).message}` };
      }
      return this.check(json);
    },
    /** Validates an already-parsed value. */
    check(value: unknown): Decoded<T> {
      if (typeof value === 'object' && value !== null && 'v' in value && (value as { v: unknown }).v !== 1) {
        return { ok: false, reason: `unsupported version ${JSON.stringify((value as { v: unknown }).v)} (this build speaks v1)` };
      }
      const result = schema.safeParse(value);
      return result.success ? { ok: true, value: result.data } : { ok: false, reason: describe(result.error) };
    },
  };
}

export const failureCodec = codec<FailureEvent>('failure event', failureEventSchema);
export const decisionCodec = codec<Decision>('decision', decisionSchema);

/** Cuts a log line to the wire limit, marking the cut. */
export function truncateLine(line: string, max: number = LIMITS.line): string {
  return line.length <= max ? line : `${line.slice(0, max - 1)}…`;
}

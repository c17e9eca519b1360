import { createHash } from 'node:crypto';
import { LIMITS } from '../../shared/schema/index.ts';

const SAFE = /^[A-Za-z0-9._-]+$/;

/** A short, id-safe digest of any text. */
export function digest(text: string, length = 22): string {
  return createHash('sha256').update(text).digest('base64url').slice(0, length).replaceAll('_', '.');
}

/**
 * The message id of a failure: `<jail>@<host>:<where>`, where `where` says
 * where the line was read (file identity, generation and offset; a journal
 * cursor's digest) and which failure of the line it is. Reading the same
 * bytes again gives the same id, so JetStream drops the copy (`Nats-Msg-Id`).
 * A host name that is unusual or long is replaced by its digest.
 */
export function failureId(jail: string, host: string, where: string, index: number): string {
  const suffix = index > 0 ? `.${index}` : '';
  const id = `${jail}@${host}:${where}${suffix}`;
  if (SAFE.test(host) && id.length <= LIMITS.id) return id;
  return `${jail}@h${digest(host)}:${where}${suffix}`;
}

/** `f<dev>.<ino>.<generation>.<offset>`: a line in one generation of one file. */
export function fileWhere(identity: string, generation: string, offset: number): string {
  return `f${identity}.${generation}.${offset}`;
}

/** `j<digest of the cursor>`: a journal entry. */
export function journalWhere(cursor: string): string {
  return `j${digest(cursor)}`;
}

/** `s<run>.<offset>`: a line of stdin in one run. */
export function stdinWhere(run: string, offset: number): string {
  return `s${run}.${offset}`;
}

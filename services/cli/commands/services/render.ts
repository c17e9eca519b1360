import { formatDuration } from '../../../../shared/time/index.ts';
import { cell, table } from '../../format.ts';

export const LISTED_PARTS = ['shipper', 'scorer', 'enforcer'] as const;
export type ListedPart = (typeof LISTED_PARTS)[number];

/** One running part, as `$SRV.STATS` describes it. */
export interface ServiceEntry {
  part: ListedPart;
  /** The NATS service name, e.g. `fleetban-scorer`. */
  name: string;
  /** The service instance id (one per process). */
  id: string;
  host: string;
  version: string;
  /** When the instance started (ISO time). */
  started: string;
  uptimeMs: number;
  /** The part's own key figures (its `stats` endpoint's data). */
  stats: unknown;
}

/** The fields of a `$SRV.STATS` reply this command reads. */
export interface StatsReply {
  name?: unknown;
  id?: unknown;
  version?: unknown;
  started?: unknown;
  metadata?: Record<string, unknown> | null;
  endpoints?: Array<{ name?: unknown; data?: unknown }> | null;
}

/** A reply to `$SRV.STATS.<name>` as an entry; undefined when it is not one of ours. */
export function serviceEntry(part: ListedPart, reply: StatsReply, now: number): ServiceEntry | undefined {
  if (typeof reply.id !== 'string' || typeof reply.name !== 'string') return undefined;
  const started = typeof reply.started === 'string' ? reply.started : '';
  const startMs = Date.parse(started);
  return {
    part,
    name: reply.name,
    id: reply.id,
    host: typeof reply.metadata?.host === 'string' ? reply.metadata.host : '?',
    version: typeof reply.version === 'string' ? reply.version : '?',
    started,
    uptimeMs: Number.isFinite(startMs) ? Math.max(0, now - startMs) : 0,
    stats: reply.endpoints?.find((e) => e.name === 'stats')?.data ?? null,
  };
}

const num = (v: unknown): number => (typeof v === 'number' && Number.isFinite(v) ? v : 0);
const obj = (v: unknown): Record<string, unknown> => (v && typeof v === 'object' ? (v as Record<string, unknown>) : {});
const sum = (values: Iterable<unknown>, key?: string): number => {
  let total = 0;
  for (const v of values) total += num(key === undefined ? v : obj(v)[key]);
  return total;
};

/** A part's key figures in a few words; tolerant of fields a part does not send. */
export function keyStats(part: ListedPart, stats: unknown): string {
  const s = obj(stats);
  const own = partStats(part, s);
  const short = Array.isArray(s.streamsShort) ? s.streamsShort.filter((n): n is string => typeof n === 'string') : [];
  if (short.length === 0) return own;
  return `${own}, STREAM RETENTION SHORT: ${short.join(' ')} keeps less than this config needs (fleetban streams --apply)`;
}

function partStats(part: ListedPart, s: Record<string, unknown>): string {
  if (s.starting === true) return 'starting';
  switch (part) {
    case 'shipper': {
      const jails = Object.values(obj(s.jails));
      const failed = Object.keys(obj(s.failed)).length;
      return [`jails ${jails.length}`, `lines ${sum(jails, 'linesRead')}`, `published ${sum(jails, 'published')}`, `in flight ${num(s.inFlight)}`, ...(failed ? [`failed jails ${failed}`] : [])].join(', ');
    }
    case 'scorer':
      return [`redis ${typeof s.redis === 'string' ? s.redis : '?'}`, `jails ${num(s.jails)}`, `failures ${num(s.failures)}`, `bans ${num(s.bans)}`, `in flight ${num(s.inFlight)}`].join(', ');
    case 'enforcer': {
      const refused = sum(Object.values(obj(s.refused)));
      const phase = typeof s.phase === 'string' ? s.phase : '?';
      return [
        ...enforcerHealth(phase, s),
        `active bans ${num(s.activeBans)}`,
        `kernel entries ${sum(Object.values(obj(s.kernel)))}`,
        `stream seq ${num(s.streamSequence)}`,
        ...(refused ? [`refused ${refused}`] : []),
        ...fullSets(s.backends),
      ].join(', ');
    }
  }
}

/**
 * The enforcer's phase, and why it is not simply `live`: bans in force that
 * the kernel does not hold (`DEGRADED: 3 bans not applied (2 failed, 1
 * refused)`), batches the firewall refused with the last error, and a feed
 * that lost its server.
 */
function enforcerHealth(phase: string, s: Record<string, unknown>): string[] {
  const missing = obj(s.notApplied);
  const [failed, refused] = [num(missing.failed), num(missing.refused)];
  const errors = num(s.commitErrors);
  const last = obj(s.lastCommitError);
  const out: string[] = [];
  if (failed + refused > 0) {
    const parts = [...(failed ? [`${failed} failed`] : []), ...(refused ? [`${refused} refused`] : [])];
    const total = failed + refused;
    out.push(`${phase} DEGRADED: ${total} ban${total === 1 ? '' : 's'} not applied (${parts.join(', ')})`);
  } else {
    out.push(phase);
  }
  if (s.feed === 'reconnecting') out.push('decisions feed reconnecting');
  const lastError = typeof last.error === 'string' ? ` (last: ${cell(last.error, 80)})` : '';
  if (errors > 0) out.push(`commit errors ${errors}${lastError}`);
  return out;
}

/**
 * `xt_recent list fleetban-sshd-v4-600s full 100/100 (3 adds refused)`: each
 * kernel list or set an enforcer's backend reports as full, where bans wait.
 */
function fullSets(backends: unknown): string[] {
  const out: string[] = [];
  for (const [backend, status] of Object.entries(obj(backends))) {
    const full = obj(status).full;
    if (!Array.isArray(full)) continue;
    for (const f of full.map(obj)) {
      const refused = num(f.refused);
      out.push(`${backend} ${backend === 'xt_recent' ? 'list' : 'set'} ${typeof f.name === 'string' ? f.name : '?'} full ${num(f.entries)}/${num(f.capacity)}${refused ? ` (${refused} add${refused === 1 ? '' : 's'} refused)` : ''}`);
    }
  }
  return out;
}

export function sortEntries(entries: ServiceEntry[]): ServiceEntry[] {
  return entries.sort((a, b) => LISTED_PARTS.indexOf(a.part) - LISTED_PARTS.indexOf(b.part) || a.host.localeCompare(b.host) || a.id.localeCompare(b.id));
}

export function renderServices(entries: readonly ServiceEntry[]): string {
  return table(
    ['PART', 'HOST', 'VERSION', 'UPTIME', 'ID', 'STATS'],
    entries.map((e) => [e.part, cell(e.host, 40), cell(e.version, 20), formatDuration(Math.floor(e.uptimeMs / 1000) * 1000) || '0s', e.id, keyStats(e.part, e.stats)]),
  );
}

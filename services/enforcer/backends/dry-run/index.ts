import type { EnforcedSet } from '../../sets.ts';
import type { AddEntry, Backend, BackendModule, BackendOptions, DeleteEntry, KernelEntry } from '../contract.ts';

/** One thing the dry-run backend was asked to do. */
export type DryRunRecord =
  | { op: 'prepare'; sets: string[] }
  | { op: 'add'; set: string; target: string; timeoutMs: number | null; replace: boolean }
  | { op: 'delete'; set: string; target: string }
  | { op: 'commit'; added: number; deleted: number }
  | { op: 'close' };

/**
 * Touches no firewall: records every call, logs each committed change, and
 * keeps the entries it would hold (with their timeouts) so `list` answers
 * like a kernel would. The tests of everything above the backends use it.
 */
export class DryRunBackend implements Backend {
  readonly name = 'dry-run' as const;
  readonly traits = { maxTimeoutMs: Infinity, permanent: true, expiresOnItsOwn: true, networks: 'overlapping' as const, granularityMs: 1 };
  readonly records: DryRunRecord[] = [];
  private readonly held = new Map<string, { set: string; target: AddEntry['target']; until: number }>();
  private pending: Array<{ add?: AddEntry; del?: DeleteEntry }> = [];

  constructor(private readonly options?: Pick<BackendOptions, 'log'>) {}

  async prepare(sets: readonly EnforcedSet[]): Promise<void> {
    this.records.push({ op: 'prepare', sets: sets.map((s) => s.key) });
  }

  add(entry: AddEntry): undefined {
    this.records.push({ op: 'add', set: entry.set, target: entry.target.text, timeoutMs: entry.timeoutMs, replace: entry.replace });
    this.pending.push({ add: entry });
    return undefined;
  }

  delete(entry: DeleteEntry): void {
    this.records.push({ op: 'delete', set: entry.set, target: entry.target.text });
    this.pending.push({ del: entry });
  }

  async commit() {
    const pending = this.pending;
    this.pending = [];
    const now = Date.now();
    let added = 0;
    let deleted = 0;
    for (const { add, del } of pending) {
      if (add) {
        added++;
        this.held.set(`${add.set} ${add.target.text}`, { set: add.set, target: add.target, until: add.timeoutMs === null ? Infinity : now + add.timeoutMs });
        this.options?.log.info({ set: add.set, target: add.target.text, timeoutMs: add.timeoutMs }, 'dry-run: would add');
      } else if (del) {
        deleted++;
        this.held.delete(`${del.set} ${del.target.text}`);
        this.options?.log.info({ set: del.set, target: del.target.text }, 'dry-run: would delete');
      }
    }
    this.records.push({ op: 'commit', added, deleted });
    return { added, deleted };
  }

  async list(): Promise<KernelEntry[]> {
    const now = Date.now();
    const out: KernelEntry[] = [];
    for (const [key, e] of this.held) {
      if (e.until <= now) {
        this.held.delete(key);
        continue;
      }
      out.push({ set: e.set, target: e.target, expiresInMs: e.until === Infinity ? null : e.until - now });
    }
    return out;
  }

  async close(): Promise<void> {
    this.records.push({ op: 'close' });
  }
}

/** dry-run: records what it would do; for tests and for trying a config out. */
export const dryRunBackend = {
  name: 'dry-run',
  description: 'touches no firewall: logs and records what it would do',
  create: (options: BackendOptions) => new DryRunBackend(options),
  async setup() {
    return [];
  },
  async teardown() {
    return [];
  },
} satisfies BackendModule;

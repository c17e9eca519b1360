import { constants } from 'node:fs';
import { access, readFile } from 'node:fs/promises';
import { errorMessage, FleetbanError } from '../../../../shared/errors.ts';
import { parseTarget, type IpFamily, type Target } from '../../../../shared/ip/index.ts';
import type { EnforcedSet } from '../../sets.ts';
import type { AddEntry, Backend, BackendModule, BackendOptions, BackendStatus, BackendTraits, DeleteEntry, KernelEntry, Refusal } from '../contract.ts';
import { runSteps } from '../steps.ts';
import { UndoLog } from '../undo.ts';
import { FAMILIES } from '../xtables.ts';
import { listFor, listsOf, setupSteps, teardownSteps, type XtList } from './plan.ts';
import { procLists, XT_RECENT_DIR, type ListWrite, type ProcLists } from './proc.ts';

const IP_LIST_TOT = '/sys/module/xt_recent/parameters/ip_list_tot';

export class XtRecentSetupError extends FleetbanError {}

/** The xt_recent part of the enforcer's `$SRV.STATS`. */
export interface XtRecentStatus extends BackendStatus {
  /** How many addresses one list holds (the module's ip_list_tot, or enforcer.xtRecent.listSize when it cannot be read). */
  ipListTot: number;
  entriesPerList: Record<string, number>;
  /** Adds refused per list since the start, because the list was full. */
  refusedPerList: Record<string, number>;
}

class XtRecentBackend implements Backend {
  readonly name = 'xt_recent' as const;
  readonly traits: BackendTraits;
  private readonly table: string;
  private readonly lengths: readonly number[];
  private readonly proc: ProcLists;
  private sets = new Map<string, { set: EnforcedSet; lists: Record<IpFamily, XtList[]> }>();
  /** set key → address → lists holding it (normally one). */
  private where = new Map<string, Map<string, Set<string>>>();
  /** list → entries in it: a full list would silently evict its oldest entry, so adds past `capacity` are refused. */
  private sizes = new Map<string, number>();
  private capacity = 100;
  /** list → adds refused because it was full. */
  private refusals = new Map<string, number>();
  private writes: ListWrite[] = [];
  private readonly undo = new UndoLog();
  private counts = { added: 0, deleted: 0 };

  constructor(private readonly options: BackendOptions) {
    const e = options.config.enforcer;
    this.table = e.table;
    this.lengths = e.xtRecent.lists;
    this.proc = procLists(options.exec);
    this.traits = {
      maxTimeoutMs: this.lengths[this.lengths.length - 1]!,
      permanent: true,
      // An entry past its list's length stops matching but stays, taking room: the enforcer removes it.
      expiresOnItsOwn: false,
      networks: 'jail-prefix',
      granularityMs: 1000,
    };
  }

  async prepare(sets: readonly EnforcedSet[]): Promise<void> {
    this.sets = new Map(sets.map((set) => [set.key, { set, lists: { 4: listsOf(this.table, set.key, this.lengths, 4), 6: listsOf(this.table, set.key, this.lengths, 6) } }]));
    this.capacity = await this.readCapacity();
    if (process.getuid?.() === 0) {
      await runSteps(this.options.exec, await xtRecentBackend.setup(sets, this.options));
      return;
    }
    // Unprivileged: the rules are root's job (`fleetban enforcer setup --backend xt_recent --user NAME`); check the files.
    for (const { lists } of this.sets.values()) {
      for (const list of [...lists[4], ...lists[6]]) {
        await access(`${XT_RECENT_DIR}/${list.name}`, constants.W_OK).catch((err: unknown) => {
          throw new XtRecentSetupError(`cannot write ${XT_RECENT_DIR}/${list.name} (${errorMessage(err)}); run \`fleetban enforcer setup --backend xt_recent --user <this user>\` as root`, { cause: err });
        });
      }
    }
  }

  add(entry: AddEntry): Refusal | undefined {
    const lists = this.setOf(entry.set).lists[entry.target.family];
    const list = listFor(lists, entry.timeoutMs);
    const address = entry.target.address;
    const held = this.holders(entry.set, address);
    if (!held.has(list.name) && (this.sizes.get(list.name) ?? 0) >= this.capacity) {
      this.refusals.set(list.name, (this.refusals.get(list.name) ?? 0) + 1);
      return { reason: 'set_full', detail: `xt_recent list ${list.name} holds ip_list_tot=${this.capacity} addresses; one more would silently evict the oldest` };
    }
    this.remember(entry.set, address);
    // Into the new list first, out of the old ones after: never a moment without a match.
    this.writes.push({ list: list.name, line: `+${address}` });
    if (!held.has(list.name)) this.sizes.set(list.name, (this.sizes.get(list.name) ?? 0) + 1);
    for (const old of held) {
      if (old === list.name) continue;
      this.writes.push({ list: old, line: `-${address}` });
      this.sizes.set(old, Math.max(0, (this.sizes.get(old) ?? 1) - 1));
    }
    this.where.get(entry.set)!.set(address, new Set([list.name]));
    this.counts.added++;
    return undefined;
  }

  delete(entry: DeleteEntry): void {
    const lists = this.setOf(entry.set).lists[entry.target.family];
    const address = entry.target.address;
    const held = this.holders(entry.set, address);
    this.remember(entry.set, address);
    // Where it is not known (never listed), removing it from every list of the set is harmless.
    for (const list of held.size > 0 ? held : new Set(lists.map((l) => l.name))) {
      this.writes.push({ list, line: `-${address}` });
      if (held.has(list)) this.sizes.set(list, Math.max(0, (this.sizes.get(list) ?? 1) - 1));
    }
    this.where.get(entry.set)!.delete(address);
    this.counts.deleted++;
  }

  async commit() {
    const [writes, counts] = [this.writes, this.counts];
    this.writes = [];
    this.counts = { added: 0, deleted: 0 };
    try {
      await this.proc.write(writes);
    } catch (err) {
      // Every other write landed; writing them again on a retry changes nothing but their time.
      this.undo.rollback();
      throw err;
    }
    this.undo.keep();
    return counts;
  }

  async list(): Promise<KernelEntry[]> {
    this.where = new Map();
    this.sizes = new Map();
    const out: KernelEntry[] = [];
    for (const { set, lists } of this.sets.values()) {
      for (const list of FAMILIES.flatMap((family) => lists[family])) {
        const addresses = (await this.proc.read(list.name)) ?? [];
        this.sizes.set(list.name, addresses.length);
        for (const address of addresses) {
          this.holders(set.key, address).add(list.name);
          // The kernel shows when an address was written, not when it stops matching: the enforcer writes it again.
          out.push({ set: set.key, target: targetOf(address, set), expiresInMs: list.seconds === null ? null : undefined });
        }
      }
    }
    return out;
  }

  async close(): Promise<void> {
    this.writes = [];
  }

  status(): XtRecentStatus {
    const names = [...this.sets.values()].flatMap(({ lists }) => FAMILIES.flatMap((family) => lists[family].map((l) => l.name)));
    const entries = (name: string) => this.sizes.get(name) ?? 0;
    return {
      ipListTot: this.capacity,
      entriesPerList: Object.fromEntries(names.map((name) => [name, entries(name)])),
      refusedPerList: Object.fromEntries([...this.refusals]),
      full: names.filter((name) => entries(name) >= this.capacity).map((name) => ({ name, entries: entries(name), capacity: this.capacity, refused: this.refusals.get(name) ?? 0 })),
    };
  }

  private async readCapacity(): Promise<number> {
    try {
      const n = Number((await readFile(IP_LIST_TOT, 'utf8')).trim());
      if (Number.isInteger(n) && n > 0) return n;
    } catch (err) {
      this.options.log.warn({ err: errorMessage(err), listSize: this.options.config.enforcer.xtRecent.listSize }, `cannot read ${IP_LIST_TOT}; using enforcer.xtRecent.listSize`);
    }
    return this.options.config.enforcer.xtRecent.listSize;
  }

  /** Keeps where an address is and how full its lists are, to restore them if the batch fails. */
  private remember(key: string, address: string): void {
    const bySet = this.where.get(key);
    const held = bySet?.get(address);
    const before = held ? new Set(held) : undefined;
    const sizes = new Map(this.sizes);
    this.undo.record(() => {
      this.sizes = sizes;
      if (!bySet) return;
      if (before) bySet.set(address, before);
      else bySet.delete(address);
    });
  }

  private setOf(key: string): { set: EnforcedSet; lists: Record<IpFamily, XtList[]> } {
    const found = this.sets.get(key);
    if (!found) throw new XtRecentSetupError(`set ${key} was not prepared`);
    return found;
  }

  private holders(key: string, address: string): Set<string> {
    let bySet = this.where.get(key);
    if (!bySet) this.where.set(key, (bySet = new Map()));
    let held = bySet.get(address);
    if (!held) bySet.set(address, (held = new Set()));
    return held;
  }
}

/** An IPv6 entry of a set with an ipv6prefix below 128 stands for its network. */
function targetOf(address: string, set: EnforcedSet): Target {
  const t = parseTarget(address);
  return t.family === 6 && set.ipv6prefix < 128 ? parseTarget(`${address}/${set.ipv6prefix}`) : t;
}

/** xt_recent: `+addr`/`-addr` in /proc/net/xt_recent lists; can run unprivileged once `setup --user` handed it the lists. */
export const xtRecentBackend = {
  name: 'xt_recent',
  description: 'xt_recent lists of growing length (/proc/net/xt_recent), writable by an unprivileged enforcer',
  create: (options: BackendOptions) => new XtRecentBackend(options),
  async setup(sets: readonly EnforcedSet[], options: BackendOptions & { user?: string }) {
    const e = options.config.enforcer;
    return setupSteps(e.table, sets, e.forward, e.xtRecent.lists, options.user);
  },
  async teardown(sets: readonly EnforcedSet[], options: BackendOptions) {
    return teardownSteps(options.config.enforcer.table, sets);
  },
} satisfies BackendModule;

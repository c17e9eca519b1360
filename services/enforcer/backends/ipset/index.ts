import type { EnforcedSet } from '../../sets.ts';
import type { AddEntry, Backend, BackendModule, BackendOptions, BackendStatus, DeleteEntry, KernelEntry, Refusal } from '../contract.ts';
import { kindOf, SET_KINDS } from '../names.ts';
import { runSteps } from '../steps.ts';
import { UndoLog } from '../undo.ts';
import { parseSave } from './parse.ts';
import { batchLines, ipsetName, setupSteps, teardownSteps } from './plan.ts';

/** The kernel's limit on an ipset timeout, in seconds. */
const IPSET_MAX_TIMEOUT_S = 2_147_483;

class IpsetBackend implements Backend {
  readonly name = 'ipset' as const;
  readonly traits = {
    maxTimeoutMs: IPSET_MAX_TIMEOUT_S * 1000,
    permanent: true,
    expiresOnItsOwn: true,
    networks: 'overlapping' as const,
    granularityMs: 1000,
  };
  private adds: AddEntry[] = [];
  private deletes: DeleteEntry[] = [];
  private names = new Map<string, string>();
  /** Kernel set name → entry → when the kernel drops it: to refuse an add before a full set would refuse the batch. */
  private members = new Map<string, Map<string, number>>();
  /** Kernel set name → adds refused because it held maxelem entries. */
  private refusals = new Map<string, number>();
  private readonly table: string;
  private readonly maxelem: number;
  private readonly undo = new UndoLog();

  constructor(private readonly options: BackendOptions) {
    this.table = options.config.enforcer.table;
    this.maxelem = options.config.enforcer.ipset.maxelem;
  }

  async prepare(sets: readonly EnforcedSet[]): Promise<void> {
    this.names = new Map();
    for (const set of sets) for (const kind of SET_KINDS) this.names.set(ipsetName(this.table, set.key, kind), set.key);
    await runSteps(this.options.exec, await ipsetBackend.setup(sets, this.options));
  }

  add(entry: AddEntry): Refusal | undefined {
    const name = ipsetName(this.table, entry.set, kindOf(entry.target));
    const members = this.membersOf(name);
    if (!members.has(entry.target.text) && this.isFull(name)) {
      this.refusals.set(name, (this.refusals.get(name) ?? 0) + 1);
      return { reason: 'set_full', detail: `ipset ${name} holds its maxelem of ${this.maxelem} entries` };
    }
    this.remember(members, entry.target.text);
    members.set(entry.target.text, entry.timeoutMs === null ? Infinity : Date.now() + entry.timeoutMs);
    this.adds.push(entry);
    return undefined;
  }

  delete(entry: DeleteEntry): void {
    const members = this.membersOf(ipsetName(this.table, entry.set, kindOf(entry.target)));
    this.remember(members, entry.target.text);
    members.delete(entry.target.text);
    this.deletes.push(entry);
  }

  async commit() {
    const [adds, deletes] = [this.adds, this.deletes];
    this.adds = [];
    this.deletes = [];
    const input = batchLines(this.table, adds, deletes);
    try {
      if (input !== '') await this.options.exec.run({ tool: 'ipset', args: ['-exist', 'restore'], stdin: input });
    } catch (err) {
      // restore stops at the failing line: the entries before it landed, and are simply written again on a retry.
      this.undo.rollback();
      throw err;
    }
    this.undo.keep();
    return { added: adds.length, deleted: deletes.length };
  }

  async list(): Promise<KernelEntry[]> {
    const listed = parseSave(await this.options.exec.run({ tool: 'ipset', args: ['save'] }), this.names);
    const now = Date.now();
    this.members = new Map();
    for (const entry of listed) this.membersOf(entry.name).set(entry.target.text, entry.expiresInMs == null ? Infinity : now + entry.expiresInMs);
    return listed.map(({ set, target, expiresInMs }) => ({ set, target, expiresInMs }));
  }

  async close(): Promise<void> {
    this.adds = [];
    this.deletes = [];
  }

  status(): BackendStatus {
    const full = [...this.names.keys()].filter((name) => this.isFull(name));
    return { maxelem: this.maxelem, full: full.map((name) => ({ name, entries: this.membersOf(name).size, capacity: this.maxelem, refused: this.refusals.get(name) ?? 0 })) };
  }

  /** Whether a kernel set holds maxelem entries that have not expired yet (expired ones are forgotten on the way). */
  private isFull(name: string): boolean {
    const members = this.membersOf(name);
    if (members.size < this.maxelem) return false;
    const now = Date.now();
    for (const [target, until] of members) if (until <= now) members.delete(target);
    return members.size >= this.maxelem;
  }

  private remember(members: Map<string, number>, target: string): void {
    const before = members.get(target);
    this.undo.record(() => (before === undefined ? members.delete(target) : members.set(target, before)));
  }

  private membersOf(name: string): Map<string, number> {
    let members = this.members.get(name);
    if (!members) this.members.set(name, (members = new Map()));
    return members;
  }
}

/** ipset: hash:ip / hash:net sets with per-entry timeouts, matched by iptables/ip6tables rules; batches through `ipset restore`. */
export const ipsetBackend = {
  name: 'ipset',
  description: 'ipset hash:ip/hash:net sets with per-entry timeouts, matched by iptables rules',
  create: (options: BackendOptions) => new IpsetBackend(options),
  async setup(sets: readonly EnforcedSet[], options: BackendOptions) {
    const e = options.config.enforcer;
    return setupSteps(e.table, sets, e.forward, e.ipset.maxelem);
  },
  async teardown(sets: readonly EnforcedSet[], options: BackendOptions) {
    return teardownSteps(options.config.enforcer.table, sets);
  },
} satisfies BackendModule;

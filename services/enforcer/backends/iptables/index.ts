import type { IpFamily } from '../../../../shared/ip/index.ts';
import type { EnforcedSet } from '../../sets.ts';
import type { AddEntry, Backend, BackendModule, BackendOptions, DeleteEntry, KernelEntry } from '../contract.ts';
import { runSteps } from '../steps.ts';
import { UndoLog } from '../undo.ts';
import { FAMILIES, setChain, xtTool } from '../xtables.ts';
import { parseRules } from './parse.ts';
import { ruleSpec, setupSteps, teardownSteps } from './plan.ts';

class IptablesBackend implements Backend {
  readonly name = 'iptables' as const;
  readonly traits = {
    maxTimeoutMs: Infinity,
    permanent: true,
    // A rule past its datestop no longer matches but stays in the chain: the enforcer deletes it.
    expiresOnItsOwn: false,
    networks: 'overlapping' as const,
    granularityMs: 1000,
  };
  private readonly table: string;
  private sets = new Map<string, EnforcedSet>();
  /** chain → target → rule specs in the kernel (normally one). */
  private rules = new Map<string, Map<string, string[][]>>();
  private batch: Record<IpFamily, string[]> = { 4: [], 6: [] };
  private counts = { added: 0, deleted: 0 };
  /** Per family: each restore is its own transaction, so one family's batch can land while the other fails. */
  private undo: Record<IpFamily, UndoLog> = { 4: new UndoLog(), 6: new UndoLog() };

  constructor(private readonly options: BackendOptions) {
    this.table = options.config.enforcer.table;
  }

  async prepare(sets: readonly EnforcedSet[]): Promise<void> {
    this.sets = new Map(sets.map((s) => [s.key, s]));
    await runSteps(this.options.exec, await iptablesBackend.setup(sets, this.options));
  }

  add(entry: AddEntry): undefined {
    const set = this.sets.get(entry.set);
    if (!set) throw new Error(`set ${entry.set} was not prepared`);
    const chain = setChain(this.table, entry.set);
    this.removeRules(chain, entry.target.text, entry.target.family);
    const spec = ruleSpec(set, entry.target, entry.timeoutMs === null ? null : Date.now() + entry.timeoutMs);
    this.batch[entry.target.family].push(['-A', chain, ...spec].join(' '));
    this.remember(chain, entry.target.text, entry.target.family);
    this.rulesOf(chain).set(entry.target.text, [spec]);
    this.counts.added++;
    return undefined;
  }

  delete(entry: DeleteEntry): void {
    this.removeRules(setChain(this.table, entry.set), entry.target.text, entry.target.family);
    this.counts.deleted++;
  }

  async commit() {
    const [batch, counts] = [this.batch, this.counts];
    this.batch = { 4: [], 6: [] };
    this.counts = { added: 0, deleted: 0 };
    let failure: unknown;
    for (const family of FAMILIES) {
      if (batch[family].length === 0) continue;
      try {
        await this.options.exec.run({ tool: xtTool(family, true), args: ['--noflush'], stdin: `*filter\n${batch[family].join('\n')}\nCOMMIT\n` });
        this.undo[family].keep();
      } catch (err) {
        this.undo[family].rollback();
        failure ??= err;
      }
    }
    if (failure !== undefined) throw failure;
    return counts;
  }

  async list(): Promise<KernelEntry[]> {
    const chains = new Set([...this.sets.keys()].map((key) => setChain(this.table, key)));
    const keyOf = new Map([...this.sets.keys()].map((key) => [setChain(this.table, key), key]));
    this.rules = new Map();
    const out: KernelEntry[] = [];
    const now = Date.now();
    for (const family of FAMILIES) {
      for (const rule of parseRules(await this.options.exec.run({ tool: xtTool(family), args: ['-S'] }), chains)) {
        const byTarget = this.rulesOf(rule.chain);
        byTarget.set(rule.target.text, [...(byTarget.get(rule.target.text) ?? []), rule.spec]);
        out.push({ set: keyOf.get(rule.chain)!, target: rule.target, expiresInMs: rule.until === null ? null : Math.max(0, rule.until - now) });
      }
    }
    return out;
  }

  async close(): Promise<void> {
    this.batch = { 4: [], 6: [] };
  }

  private removeRules(chain: string, target: string, family: IpFamily): void {
    const byTarget = this.rulesOf(chain);
    for (const spec of byTarget.get(target) ?? []) this.batch[family].push(['-D', chain, ...spec].join(' '));
    this.remember(chain, target, family);
    byTarget.delete(target);
  }

  /** Keeps what the model says of a target now, to restore it if the batch fails. */
  private remember(chain: string, target: string, family: IpFamily): void {
    const byTarget = this.rulesOf(chain);
    const before = byTarget.get(target);
    this.undo[family].record(() => (before ? byTarget.set(target, before) : byTarget.delete(target)));
  }

  private rulesOf(chain: string): Map<string, string[][]> {
    let byTarget = this.rules.get(chain);
    if (!byTarget) this.rules.set(chain, (byTarget = new Map()));
    return byTarget;
  }
}

/** iptables: one rule per banned address in a chain per jail (fail2ban's way), for compatibility. */
export const iptablesBackend = {
  name: 'iptables',
  description: "one iptables rule per banned address in a chain per jail (fail2ban's way)",
  create: (options: BackendOptions) => new IptablesBackend(options),
  async setup(sets: readonly EnforcedSet[], options: BackendOptions) {
    return setupSteps(options.config.enforcer.table, sets, options.config.enforcer.forward);
  },
  async teardown(sets: readonly EnforcedSet[], options: BackendOptions) {
    return teardownSteps(options.config.enforcer.table, sets);
  },
} satisfies BackendModule;

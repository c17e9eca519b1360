import type { EnforcedSet } from '../../sets.ts';
import type { AddEntry, Backend, BackendModule, BackendOptions, DeleteEntry, KernelEntry } from '../contract.ts';
import { SET_KINDS, type SetKind } from '../names.ts';
import { runSteps } from '../steps.ts';
import { parseTableJson } from './parse.ts';
import { batchScript, nftSetName, setupScript, teardownScript } from './plan.ts';

/**
 * The longest timeout fleetban writes. nft 1.0.6 refuses `timeout <N>ms` from
 * N = 100,000,000 (about 27h46m) with "value too large", and one such element
 * fails its whole batch. One day stays well below that in every unit form;
 * longer bans are refreshed before it runs out.
 */
export const NFT_MAX_TIMEOUT_MS = 86_400_000;

class NftablesBackend implements Backend {
  readonly name = 'nftables' as const;
  readonly traits = {
    maxTimeoutMs: NFT_MAX_TIMEOUT_MS,
    permanent: true,
    expiresOnItsOwn: true,
    networks: 'disjoint' as const,
    granularityMs: 1,
  };
  private adds: AddEntry[] = [];
  private deletes: DeleteEntry[] = [];
  private names = new Map<string, { key: string; kind: SetKind }>();
  private readonly table: string;

  constructor(private readonly options: BackendOptions) {
    this.table = options.config.enforcer.table;
  }

  async prepare(sets: readonly EnforcedSet[]): Promise<void> {
    this.names = namesOf(sets);
    await runSteps(this.options.exec, await nftablesBackend.setup(sets, this.options));
  }

  add(entry: AddEntry): undefined {
    this.adds.push(entry);
    return undefined;
  }

  delete(entry: DeleteEntry): void {
    this.deletes.push(entry);
  }

  async commit() {
    const [adds, deletes] = [this.adds, this.deletes];
    this.adds = [];
    this.deletes = [];
    const script = batchScript(this.table, adds, deletes);
    if (script !== '') await this.options.exec.run({ tool: 'nft', args: ['-f', '-'], stdin: script });
    return { added: adds.length, deleted: deletes.length };
  }

  async list(): Promise<KernelEntry[]> {
    const result = await this.options.exec.attempt({ tool: 'nft', args: ['-j', 'list', 'table', 'inet', this.table] });
    if (result.code !== 0) {
      if (/No such file or directory/.test(result.stderr)) return [];
      await this.options.exec.run({ tool: 'nft', args: ['-j', 'list', 'table', 'inet', this.table] });
    }
    return parseTableJson(result.stdout, this.names);
  }

  async close(): Promise<void> {
    this.adds = [];
    this.deletes = [];
  }
}

function namesOf(sets: readonly EnforcedSet[]): Map<string, { key: string; kind: SetKind }> {
  const names = new Map<string, { key: string; kind: SetKind }>();
  for (const set of sets) for (const kind of SET_KINDS) names.set(nftSetName(set.key, kind), { key: set.key, kind });
  return names;
}

/** nftables (the default): fleetban's own `inet` table, timeout sets, one batch per commit through `nft -f -`. */
export const nftablesBackend = {
  name: 'nftables',
  description: "sets with per-entry timeouts in fleetban's own nftables table",
  create: (options: BackendOptions) => new NftablesBackend(options),
  async setup(sets: readonly EnforcedSet[], options: BackendOptions) {
    return [{ command: { tool: 'nft', args: ['-f', '-'], stdin: setupScript(options.config.enforcer.table, sets, options.config.enforcer.forward) } }];
  },
  async teardown(_sets: readonly EnforcedSet[], options: BackendOptions) {
    const table = options.config.enforcer.table;
    return [{ onlyIf: { tool: 'nft', args: ['list', 'table', 'inet', table] }, command: { tool: 'nft', args: ['-f', '-'], stdin: teardownScript(table) } }];
  },
} satisfies BackendModule;

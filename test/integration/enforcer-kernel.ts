import type { EnforcerBackendName } from '../../shared/config/index.ts';
import { PartMetrics } from '../../shared/telemetry/index.ts';
import { parseList } from '../../services/enforcer/backends/xt_recent/proc.ts';
import { listsOf } from '../../services/enforcer/backends/xt_recent/plan.ts';
import { Applier } from '../../services/enforcer/applier.ts';
import { BACKENDS, createExec, runSteps, type Backend } from '../../services/enforcer/backends/index.ts';
import { EnforcementState } from '../../services/enforcer/core/state.ts';
import { enforcedSets, router, type EnforcedSet } from '../../services/enforcer/sets.ts';
import { EnforcerTelemetry } from '../../services/enforcer/telemetry.ts';
import { Netns, quietLogger, testConfig } from '../harness/index.ts';

export const REAL_BACKENDS = ['nftables', 'ipset', 'xt_recent', 'iptables'] as const;
export const TABLE = 'fbk';
export const XT_LISTS = ['1m', '10m', '1h', '6h', '1d', '1w'];

/**
 * The enforcer's core, applier and one real backend inside a namespace of
 * its own, with a clock the test moves: what `startEnforcer` wires, minus
 * NATS. The kernel timeouts are real, so a clock moved ahead only changes
 * what the enforcer plans, never what the kernel counts.
 */
export interface KernelRig {
  ns: Netns;
  backend: Backend;
  state: EnforcementState;
  applier: Applier;
  telemetry: EnforcerTelemetry;
  sets: EnforcedSet[];
  now(): number;
  advance(ms: number): void;
  /** What the kernel holds now, read by a fresh backend (nothing the enforcer remembers). */
  kernel(): Promise<Map<string, number | null | undefined>>;
  /** xt_recent: the `--seconds` of the list holding each address (null: the permanent list). */
  xtLists(): Promise<Map<string, number | null>>;
  close(): Promise<void>;
}

/** `realClock`: the applier follows the wall clock (and its own timers), for tests that wait. */
export async function kernelRig(name: (typeof REAL_BACKENDS)[number], enforcer: Record<string, unknown> = {}, realClock = false): Promise<KernelRig> {
  const ns = await Netns.create(`k${name.slice(0, 3)}`);
  try {
    const config = testConfig({
      jails: { sshd: { port: 'ssh', ipv6prefix: 128 } },
      enforcer: { backend: name, netns: ns.name, table: TABLE, otherJails: 'ignore', xtRecent: { lists: XT_LISTS }, ...enforcer },
    });
    const sets = enforcedSets(config, []);
    const options = { config, exec: createExec({ netns: ns.name }), log: quietLogger() };
    const backend = BACKENDS[name].create(options);
    await backend.prepare(sets);
    let now = Date.now();
    const state = new EnforcementState({ route: router(config, sets), traits: () => backend.traits, maxTimeoutMs: config.enforcer.maxTimeout });
    const telemetry = new EnforcerTelemetry(quietLogger(), new PartMetrics('enforcer', { processMetrics: false }), () => state.counts());
    const backends = new Map<EnforcerBackendName, { backend: Backend; sets: EnforcedSet[] }>([[name, { backend, sets }]]);
    const applier = new Applier({ state, backends, telemetry, batchDelayMs: 5, clock: () => (realClock ? Date.now() : now) });
    const reader = async () => {
      const fresh = BACKENDS[name].create(options);
      await fresh.prepare(sets);
      return fresh;
    };
    return {
      ns, backend, state, applier, telemetry, sets,
      now: () => (realClock ? Date.now() : now),
      advance: (ms) => (now += ms),
      async kernel() {
        const listed = await (await reader()).list();
        return new Map(listed.map((e) => [e.target.text, e.expiresInMs]));
      },
      async xtLists() {
        const out = new Map<string, number | null>();
        for (const list of [4, 6].flatMap((family) => listsOf(TABLE, 'sshd', config.enforcer.xtRecent.lists, family as 4 | 6))) {
          const text = await ns.ok('cat', [`/proc/net/xt_recent/${list.name}`]);
          for (const address of parseList(text)) out.set(address, list.seconds);
        }
        return out;
      },
      async close() {
        await applier.stop();
        await runSteps(options.exec, await BACKENDS[name].teardown(sets, options)).catch(() => undefined);
        await ns.remove();
      },
    };
  } catch (err) {
    await ns.remove();
    throw err;
  }
}

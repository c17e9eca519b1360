import type { Config, EnforcerBackendName } from '../../shared/config/index.ts';
import type { PartContext, RunningPart } from '../../shared/runtime/index.ts';
import type { Logger } from '../../shared/telemetry/index.ts';
import { Applier } from './applier.ts';
import { BACKENDS, createExec, type Backend, type Exec } from './backends/index.ts';
import { EnforcementState } from './core/state.ts';
import { protectedAddresses } from './host.ts';
import { enforcedSets, router, type EnforcedSet } from './sets.ts';
import { followDecisions } from './subscription.ts';
import { EnforcerTelemetry } from './telemetry.ts';

export interface EnforcerOverrides {
  /** Backend instances to use instead of building them (tests pass a DryRunBackend). */
  backends?: Partial<Record<EnforcerBackendName, Backend>>;
  /** Called with each live change's decision-to-kernel latency in ms (the benchmark reads it). */
  onLatency?: (ms: number) => void;
}

/** At most this many entries in one `entries` answer (a NATS message has a size limit). */
const ENTRIES_SHOWN = 5000;

export type Slots = Map<EnforcerBackendName, { backend: Backend; sets: EnforcedSet[] }>;

/** The sets this host enforces, grouped by backend, with each backend built (not yet prepared). */
export async function buildBackends(config: Config, log: Logger, exec: Exec, overrides: EnforcerOverrides = {}): Promise<{ sets: EnforcedSet[]; slots: Slots }> {
  const sets = enforcedSets(config, await protectedAddresses(exec));
  const slots: Slots = new Map();
  for (const set of sets) {
    let slot = slots.get(set.backend);
    if (!slot) {
      const backend = overrides.backends?.[set.backend] ?? BACKENDS[set.backend].create({ config, exec, log });
      slots.set(set.backend, (slot = { backend, sets: [] }));
    }
    slot.sets.push(set);
  }
  return { sets, slots };
}

/**
 * The enforcer: prepares its backends, reads what the kernel holds, replays
 * the decisions stream into the ban set, applies the difference as one batch
 * per backend, then follows live decisions in small batches. Stopping leaves
 * every kernel entry in place: each expires on its own.
 */
export async function startEnforcer(ctx: PartContext, overrides: EnforcerOverrides = {}): Promise<RunningPart> {
  const { config, log, metrics, nc, subjects, service, stopping } = ctx;
  const exec = createExec({ netns: config.enforcer.netns });
  const { sets, slots } = await buildBackends(config, log, exec, overrides);
  for (const [, { backend, sets: own }] of slots) await backend.prepare(own);

  const state = new EnforcementState({
    route: router(config, sets),
    traits: (name) => slots.get(name)!.backend.traits,
    maxTimeoutMs: config.enforcer.maxTimeout,
  });
  const telemetry = new EnforcerTelemetry(log, metrics, () => state.counts());
  for (const [name, { backend, sets: own }] of slots) {
    const listed = await backend.list();
    state.loadKernel(name, listed, own, Date.now());
    telemetry.kernelLoaded(name, listed.length);
  }
  const applier = new Applier({
    state,
    backends: slots,
    telemetry,
    batchDelayMs: config.enforcer.batchDelayMs,
    ...(overrides.onLatency && { onLatency: overrides.onLatency }),
  });

  const started = Date.now();
  let live = false;
  let caughtUp!: () => void;
  const replayed = new Promise<void>((resolve) => (caughtUp = resolve));
  const feed = await followDecisions(nc, subjects, log, {
    decision(decision, seq) {
      telemetry.decisionReceived(decision.action, seq);
      const outcome = state.decide(decision, live ? decision.time : undefined);
      if (outcome.kind === 'refused') telemetry.refused(outcome.reason, outcome.set, decision.target, outcome.detail);
      else if (outcome.kind === 'ignored') telemetry.decisionIgnored(outcome.why);
      if (live && outcome.kind === 'accepted' && outcome.changed) applier.request();
    },
    invalid: (subject, reason, seq) => telemetry.decisionInvalid(subject, reason, seq),
    caughtUp(decisions) {
      telemetry.replayed(decisions, Date.now() - started);
      caughtUp();
    },
  });
  await Promise.race([replayed, new Promise((resolve) => stopping.addEventListener('abort', resolve, { once: true }))]);
  if (!stopping.aborted) {
    await applier.flush('start');
    live = true;
  }
  service.endpoint('entries', () => {
    const entries = state.appliedEntries();
    return { total: entries.length, entries: entries.slice(0, ENTRIES_SHOWN) };
  });

  return {
    stats: () => ({
      phase: live ? 'live' : 'replaying',
      // Bans in force that the kernel does not hold now: refused (a full set) or failed (the firewall refused them).
      notApplied: state.problemCounts(),
      feed: feed.following ? 'following' : 'reconnecting',
      streamSequence: feed.lastSeq,
      activeBans: state.activeBans(Date.now()),
      kernel: Object.fromEntries([...state.counts().values()].map((r) => [`${r.backend}/${r.set}`, r.entries])),
      backends: Object.fromEntries([...slots].filter(([, s]) => s.backend.status).map(([name, s]) => [name, s.backend.status!()])),
      ...telemetry.tally,
    }),
    async stop() {
      await feed.stop();
      await applier.stop();
      for (const { backend } of slots.values()) await backend.close();
    },
  };
}

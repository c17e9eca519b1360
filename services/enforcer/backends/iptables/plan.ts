import type { IpFamily, Target } from '../../../../shared/ip/index.ts';
import type { EnforcedSet } from '../../sets.ts';
import type { SetupStep } from '../contract.ts';
import { createChainStep, dispatchRestore, FAMILIES, jumpSteps, removeChainSteps, setChain, verdict, xtTool } from '../xtables.ts';

/**
 * The classic way (fail2ban's iptables-multiport): one chain per enforced
 * set, reached through the set's port match, with one rule per banned
 * address. iptables rules have no timeout of their own, so each rule carries
 * `-m time --datestop` (UTC): it stops matching when its ban ends even if the
 * enforcer is dead, and the enforcer deletes it when it ends. Kept for
 * compatibility: every packet walks the rules one by one.
 */

/** xt_time takes dates up to here; a ban ending later gets no datestop and is removed by the enforcer. */
export const DATESTOP_LIMIT_MS = Date.UTC(2038, 0, 19, 4, 14, 7);

/** `--datestop` text for an end time, rounded up to the second so a ban never ends early. */
export function datestop(untilMs: number): string {
  return new Date(Math.ceil(untilMs / 1000) * 1000).toISOString().slice(0, 19);
}

export function ruleSpec(set: Pick<EnforcedSet, 'blocktype'>, target: Target, untilMs: number | null): string[] {
  const time = untilMs === null || untilMs > DATESTOP_LIMIT_MS ? [] : ['-m', 'time', '--datestop', datestop(untilMs)];
  return ['-s', target.text, ...time, ...verdict(set.blocktype, target.family)];
}

export function setupSteps(table: string, sets: readonly EnforcedSet[], forward: boolean): SetupStep[] {
  const steps: SetupStep[] = [];
  for (const family of FAMILIES) {
    // The ban chains keep their rules across a set-up; only the dispatch chains are rebuilt.
    for (const set of sets) steps.push(createChainStep(setChain(table, set.key), family));
    steps.push({ command: { tool: xtTool(family, true), args: ['--noflush'], stdin: dispatchRestore(table, forward, sets, [], []) } });
    steps.push(...jumpSteps(table, forward, family));
  }
  return steps;
}

export function teardownSteps(table: string, sets: readonly EnforcedSet[]): SetupStep[] {
  return FAMILIES.flatMap((family: IpFamily) => removeChainSteps(table, sets.map((s) => setChain(table, s.key)), family));
}

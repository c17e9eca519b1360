import type { IpFamily } from '../../../../shared/ip/index.ts';
import type { EnforcedSet } from '../../sets.ts';
import type { AddEntry, DeleteEntry, SetupStep } from '../contract.ts';
import { familyOfKind, fit, kindOf, SET_KINDS, setPart, type SetKind } from '../names.ts';
import { dispatchRestore, FAMILIES, jumpSteps, removeChainSteps, restoreCommand, setChain, verdict } from '../xtables.ts';

/**
 * ipset: per enforced set, `hash:ip` sets for addresses and `hash:net` sets
 * for networks (which may overlap), per family, created with `timeout 0` so
 * each entry carries its own timeout and 0 means none. iptables/ip6tables
 * rules in fleetban's chains match them. Entries go in through one
 * `ipset -exist restore` per commit: with -exist, an add of an existing
 * entry sets its timeout and a del of a missing one is no error.
 */

/** ipset refuses set names longer than 31 characters. */
export function ipsetName(table: string, key: string, kind: SetKind): string {
  return fit(`${table}-${setPart(key)}`, `-${kind}`, 31);
}

export function createLines(table: string, sets: readonly EnforcedSet[], maxelem: number): string {
  const lines: string[] = [];
  for (const set of sets) {
    for (const kind of SET_KINDS) {
      const type = kind.startsWith('n') ? 'hash:net' : 'hash:ip';
      lines.push(`create ${ipsetName(table, set.key, kind)} ${type} family ${familyOfKind(kind) === 4 ? 'inet' : 'inet6'} timeout 0 maxelem ${maxelem}`);
    }
  }
  return `${lines.join('\n')}\n`;
}

function ruleLines(table: string, sets: readonly EnforcedSet[], family: IpFamily): string[] {
  const lines: string[] = [];
  for (const set of sets) {
    const chain = setChain(table, set.key);
    for (const kind of SET_KINDS.filter((k) => familyOfKind(k) === family)) {
      lines.push(['-A', chain, '-m', 'set', '--match-set', ipsetName(table, set.key, kind), 'src', ...verdict(set.blocktype, family)].join(' '));
    }
  }
  return lines;
}

export function setupSteps(table: string, sets: readonly EnforcedSet[], forward: boolean, maxelem: number): SetupStep[] {
  const steps: SetupStep[] = [{ command: { tool: 'ipset', args: ['-exist', 'restore'], stdin: createLines(table, sets, maxelem) } }];
  for (const family of FAMILIES) {
    const chains = sets.map((s) => setChain(table, s.key));
    steps.push({ command: restoreCommand(family, dispatchRestore(table, forward, sets, chains, ruleLines(table, sets, family))) });
    steps.push(...jumpSteps(table, forward, family));
  }
  return steps;
}

export function teardownSteps(table: string, sets: readonly EnforcedSet[]): SetupStep[] {
  const steps: SetupStep[] = [];
  for (const family of FAMILIES) steps.push(...removeChainSteps(table, sets.map((s) => setChain(table, s.key)), family));
  for (const set of sets) {
    for (const kind of SET_KINDS) {
      const name = ipsetName(table, set.key, kind);
      steps.push({ onlyIf: { tool: 'ipset', args: ['list', '-n', name] }, command: { tool: 'ipset', args: ['destroy', name] } });
    }
  }
  return steps;
}

/** ipset timeouts are whole seconds; `timeout 0` is no timeout. */
export function batchLines(table: string, adds: readonly AddEntry[], deletes: readonly DeleteEntry[]): string {
  const names = new Map<string, string>();
  const name = (set: string, kind: SetKind) => {
    const key = `${set} ${kind}`;
    let n = names.get(key);
    if (n === undefined) names.set(key, (n = ipsetName(table, set, kind)));
    return n;
  };
  const lines: string[] = [];
  for (const d of deletes) lines.push(`del ${name(d.set, kindOf(d.target))} ${d.target.text}`);
  for (const a of adds) {
    const seconds = a.timeoutMs === null ? 0 : Math.max(1, Math.ceil(a.timeoutMs / 1000));
    lines.push(`add ${name(a.set, kindOf(a.target))} ${a.target.text} timeout ${seconds}`);
  }
  return lines.length > 0 ? `${lines.join('\n')}\n` : '';
}

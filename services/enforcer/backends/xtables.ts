import type { IpFamily } from '../../../shared/ip/index.ts';
import type { EnforcedSet } from '../sets.ts';
import type { SetupStep } from './contract.ts';
import type { ToolCommand } from './exec.ts';
import { fit, setPart } from './names.ts';

/**
 * iptables/ip6tables pieces shared by the ipset, xt_recent and iptables
 * backends: a dispatch chain of fleetban's own (`<table>.in`, and
 * `<table>.fwd` for the forward hook) jumped to from INPUT/FORWARD, and one
 * chain per enforced set reached through the set's port and protocol match.
 * Rules go in through `iptables-restore --noflush`, so the host's own rules
 * are never touched.
 */

/** iptables refuses chain names longer than 28 characters. */
const CHAIN_MAX = 28;

export const FAMILIES: readonly IpFamily[] = [4, 6];

export function xtTool(family: IpFamily, restore = false): string {
  return `${family === 4 ? 'iptables' : 'ip6tables'}${restore ? '-restore' : ''}`;
}

export function dispatchChains(table: string, forward: boolean): Array<{ chain: string; hook: 'INPUT' | 'FORWARD' }> {
  const chains: Array<{ chain: string; hook: 'INPUT' | 'FORWARD' }> = [{ chain: fit(table, '.in', CHAIN_MAX), hook: 'INPUT' }];
  if (forward) chains.push({ chain: fit(table, '.fwd', CHAIN_MAX), hook: 'FORWARD' });
  return chains;
}

/** The chain of one enforced set (a dot never appears in a jail's name, so `.in` cannot clash). */
export function setChain(table: string, key: string): string {
  return fit(`${table}-${setPart(key)}`, '', CHAIN_MAX);
}

/** Port and protocol matches of a set: one per rule (multiport takes 15 ports, a range counts twice). */
export function portMatches(set: Pick<EnforcedSet, 'ports' | 'protocol'>): string[][] {
  const protocols = set.protocol === 'all' ? (set.ports.length > 0 ? ['tcp', 'udp', 'sctp'] : []) : [set.protocol];
  if (protocols.length === 0) return [[]];
  const groups: string[][] = [];
  let current: string[] = [];
  let weight = 0;
  for (const port of set.ports.map((p) => (/^\d+[-:]\d+$/.test(p) ? p.replace('-', ':') : p))) {
    const w = port.includes(':') ? 2 : 1;
    if (weight + w > 15) {
      groups.push(current);
      current = [];
      weight = 0;
    }
    current.push(port);
    weight += w;
  }
  if (current.length > 0) groups.push(current);
  const out: string[][] = [];
  for (const protocol of protocols) {
    if (groups.length === 0) out.push(['-p', protocol]);
    for (const group of groups) out.push(['-p', protocol, '-m', 'multiport', '--dports', group.join(',')]);
  }
  return out;
}

export function verdict(blocktype: EnforcedSet['blocktype'], family: IpFamily): string[] {
  if (blocktype === 'drop') return ['-j', 'DROP'];
  return ['-j', 'REJECT', '--reject-with', family === 4 ? 'icmp-port-unreachable' : 'icmp6-port-unreachable'];
}

/**
 * The restore input that (re)builds the dispatch chains: each set's port
 * match jumps to `target(set)`. Declaring a chain in restore input creates it
 * or empties it, in one transaction with the new rules.
 */
export function dispatchRestore(table: string, forward: boolean, sets: readonly EnforcedSet[], extraChains: readonly string[], extraRules: readonly string[]): string {
  const lines = ['*filter'];
  for (const { chain } of dispatchChains(table, forward)) lines.push(`:${chain} - [0:0]`);
  for (const chain of extraChains) lines.push(`:${chain} - [0:0]`);
  for (const { chain } of dispatchChains(table, forward)) {
    for (const set of sets) {
      for (const match of portMatches(set)) lines.push(['-A', chain, ...match, '-j', setChain(table, set.key)].join(' '));
    }
  }
  lines.push(...extraRules, 'COMMIT', '');
  return lines.join('\n');
}

/**
 * Steps that put the jumps from INPUT (and FORWARD) to the dispatch chains in
 * place when missing; with `forward` off, a FORWARD jump and chain left from
 * when it was on are removed, so routed packets are no longer matched.
 */
export function jumpSteps(table: string, forward: boolean, family: IpFamily): SetupStep[] {
  const tool = xtTool(family);
  const steps: SetupStep[] = dispatchChains(table, forward).map(({ chain, hook }) => ({
    unless: { tool, args: ['-C', hook, '-j', chain] },
    command: { tool, args: ['-I', hook, '1', '-j', chain] },
  }));
  if (!forward) {
    const { chain, hook } = dispatchChains(table, true).find((c) => c.hook === 'FORWARD')!;
    steps.push(
      { onlyIf: { tool, args: ['-C', hook, '-j', chain] }, command: { tool, args: ['-D', hook, '-j', chain] } },
      { onlyIf: { tool, args: ['-n', '-L', chain] }, command: { tool, args: ['-F', chain] } },
      { onlyIf: { tool, args: ['-n', '-L', chain] }, command: { tool, args: ['-X', chain] } },
    );
  }
  return steps;
}

/** Steps that create a chain only when it does not exist (a chain of ban rules must not be emptied). */
export function createChainStep(chain: string, family: IpFamily): SetupStep {
  const tool = xtTool(family);
  return { unless: { tool, args: ['-n', '-L', chain] }, command: { tool, args: ['-N', chain] } };
}

/** Steps that remove the jumps and the chains: each only when it exists. */
export function removeChainSteps(table: string, chains: readonly string[], family: IpFamily): SetupStep[] {
  const tool = xtTool(family);
  const steps: SetupStep[] = [];
  // Both hooks are cleaned whatever `forward` says now, in case it was on before.
  for (const { chain, hook } of dispatchChains(table, true)) {
    steps.push({ onlyIf: { tool, args: ['-C', hook, '-j', chain] }, command: { tool, args: ['-D', hook, '-j', chain] } });
  }
  const all = [...dispatchChains(table, true).map((c) => c.chain), ...chains];
  for (const chain of all) steps.push({ onlyIf: { tool, args: ['-n', '-L', chain] }, command: { tool, args: ['-F', chain] } });
  for (const chain of all) steps.push({ onlyIf: { tool, args: ['-n', '-L', chain] }, command: { tool, args: ['-X', chain] } });
  return steps;
}

export function restoreCommand(family: IpFamily, input: string): ToolCommand {
  return { tool: xtTool(family, true), args: ['--noflush'], stdin: input };
}

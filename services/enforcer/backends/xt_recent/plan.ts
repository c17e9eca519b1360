import ipaddr from 'ipaddr.js';
import type { IpFamily } from '../../../../shared/ip/index.ts';
import type { EnforcedSet } from '../../sets.ts';
import type { SetupStep } from '../contract.ts';
import { fit, setPart } from '../names.ts';
import { dispatchRestore, FAMILIES, jumpSteps, removeChainSteps, restoreCommand, setChain, verdict } from '../xtables.ts';

/**
 * xt_recent keeps addresses in lists under /proc/net/xt_recent/, written
 * with `+addr` / `-addr` by whoever may write the file, so the enforcer can
 * run unprivileged once root has put the rules in place and handed it the
 * files. A rule matches an address whose last write is younger than the
 * rule's `--seconds`, and that length is fixed per list.
 *
 * Bans of different lengths therefore use several lists of growing length
 * (`enforcer.xtRecent.lists`, 1m 10m 1h 6h 1d 1w by default) and one without
 * `--seconds` for permanent bans. A ban goes to the shortest list at least
 * as long as what is left of it, so when every fleetban process is dead it
 * still ends, at the latest when that list's length has passed; a live
 * enforcer removes it at its exact end. A ban longer than the longest list
 * sits there and is written again before the list's length runs out. When a
 * ban's end moves (a longer ban of the same address, an unban of one of two
 * jails sharing it), the address is written to its new list first and then
 * removed from the old one, so there is no moment without a match.
 *
 * Each family has its own lists: the kernel keeps one lookup mask per list
 * (the first rule's), so an IPv4 and an IPv6 rule cannot share one. IPv6
 * rules match with `--mask` of the jail's ipv6prefix, and the enforcer
 * writes the network's address.
 */

export interface XtList {
  name: string;
  /** `--seconds`; null for the permanent list. */
  seconds: number | null;
}

/** The lists of one enforced set and family, shortest first, the permanent one last. */
export function listsOf(table: string, key: string, lengthsMs: readonly number[], family: IpFamily): XtList[] {
  const base = `${table}-${setPart(key)}-v${family}`;
  const lists: XtList[] = lengthsMs.map((ms) => ({ name: fit(`${base}-${ms / 1000}s`, '', 200), seconds: ms / 1000 }));
  lists.push({ name: fit(`${base}-perm`, '', 200), seconds: null });
  return lists;
}

/** The list for a timeout: the shortest at least as long, or the permanent one for none. */
export function listFor(lists: readonly XtList[], timeoutMs: number | null): XtList {
  if (timeoutMs === null) return lists[lists.length - 1]!;
  return lists.find((l) => l.seconds !== null && l.seconds * 1000 >= timeoutMs) ?? lists[lists.length - 2]!;
}

export function maskFor(family: IpFamily, ipv6prefix: number): string {
  return family === 4 ? '255.255.255.255' : ipaddr.IPv6.subnetMaskFromPrefixLength(ipv6prefix).toString();
}

function ruleLines(table: string, sets: readonly EnforcedSet[], lengthsMs: readonly number[], family: IpFamily): string[] {
  const lines: string[] = [];
  for (const set of sets) {
    for (const list of listsOf(table, set.key, lengthsMs, family)) {
      const seconds = list.seconds === null ? [] : ['--seconds', String(list.seconds)];
      const mask = family === 6 && set.ipv6prefix < 128 ? ['--mask', maskFor(family, set.ipv6prefix)] : [];
      lines.push(['-A', setChain(table, set.key), '-m', 'recent', '--name', list.name, '--rcheck', ...seconds, ...mask, ...verdict(set.blocktype, family)].join(' '));
    }
  }
  return lines;
}

/** The chains and rules (their insertion creates the lists), then the lists handed to `user`. */
export function setupSteps(table: string, sets: readonly EnforcedSet[], forward: boolean, lengthsMs: readonly number[], user?: string): SetupStep[] {
  const steps: SetupStep[] = [];
  for (const family of FAMILIES) {
    const chains = sets.map((s) => setChain(table, s.key));
    // Rebuilding the rules in one restore keeps the lists and their entries: the new rules take them over.
    steps.push({ command: restoreCommand(family, dispatchRestore(table, forward, sets, chains, ruleLines(table, sets, lengthsMs, family))) });
    steps.push(...jumpSteps(table, forward, family));
  }
  if (user !== undefined) {
    for (const set of sets) {
      for (const family of FAMILIES) {
        for (const list of listsOf(table, set.key, lengthsMs, family)) steps.push({ command: { tool: 'chown', args: [user, `/proc/net/xt_recent/${list.name}`] } });
      }
    }
  }
  return steps;
}

/** Removing the rules removes the lists with their entries. */
export function teardownSteps(table: string, sets: readonly EnforcedSet[]): SetupStep[] {
  return FAMILIES.flatMap((family) => removeChainSteps(table, sets.map((s) => setChain(table, s.key)), family));
}

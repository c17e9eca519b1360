import type { JailStatus, StatusResponse } from '../../../../shared/schema/index.ts';

/** A fail2ban status tree: branches of `[label, value]` leaves; a list value prints space-separated. */
type Leaf = readonly [string, string | number | readonly string[]];
type Branch = readonly [string, readonly Leaf[]];

const value = (v: Leaf[1]): string => (Array.isArray(v) ? v.join(' ') : String(v));

/**
 * The layout of fail2ban-client's `status` (its Beautifier): `|-` before every
 * item but the last, which gets `` `- ``; children of a branch are indented
 * by `|  ` (or three spaces under the last branch); a tab after each colon.
 */
function tree(title: string, branches: readonly Branch[]): string {
  const lines = [title];
  branches.forEach(([label, leaves], n) => {
    const last = n === branches.length - 1;
    lines.push(`${last ? '`-' : '|-'} ${label}`);
    const indent = last ? '   ' : '|  ';
    leaves.forEach(([key, v], m) => lines.push(`${indent}${m === leaves.length - 1 ? '`-' : '|-'} ${key}:\t${value(v)}`));
  });
  return `${lines.join('\n')}\n`;
}

/** `fail2ban-client status`: the number of jails and their names. */
export function renderOverview(status: StatusResponse): string {
  // fail2ban sorts the jail names (Server.status).
  const names = status.jails.map((j) => j.jail).sort();
  const leaves: Leaf[] = [['Number of jail', names.length], ['Jail list', names.join(', ')]];
  const lines = ['Status', ...leaves.map(([key, v], n) => `${n === leaves.length - 1 ? '`-' : '|-'} ${key}:\t${value(v)}`)];
  return `${lines.join('\n')}\n`;
}

/** `fail2ban-client status <jail>`: the Filter and Actions branches, fleet-wide. */
export function renderJail(jail: JailStatus): string {
  return tree(`Status for the jail: ${jail.jail}`, [
    ['Filter', [['Currently failed', jail.currentlyFailed], ['Total failed', jail.totalFailed]]],
    ['Actions', [['Currently banned', jail.currentlyBanned], ['Total banned', jail.totalBanned], ['Banned IP list', jail.banned.map((b) => b.target)]]],
  ]);
}

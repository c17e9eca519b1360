import type { EnforcedSet } from '../../sets.ts';
import type { AddEntry, DeleteEntry } from '../contract.ts';
import { familyOfKind, kindOf, SET_KINDS, setPart, type SetKind } from '../names.ts';

/**
 * nftables text for `nft -f -`, built from validated targets only. fleetban
 * owns one table (`inet <table>`) and never names another. Each enforced set
 * has four kernel sets: addresses (hash, `flags timeout`) and networks
 * (`flags interval, timeout`) per family, so a CIDR ban never collides with
 * the addresses inside it.
 */

export function nftSetName(key: string, kind: SetKind): string {
  return `s_${setPart(key)}_${kind}`;
}

function setDeclaration(table: string, key: string, kind: SetKind): string {
  const type = familyOfKind(kind) === 4 ? 'ipv4_addr' : 'ipv6_addr';
  const flags = kind.startsWith('n') ? 'interval, timeout' : 'timeout';
  return `add set inet ${table} ${nftSetName(key, kind)} { type ${type}; flags ${flags}; }`;
}

/** `tcp dport { 22, 1000-2000 }`, `meta l4proto { tcp, udp, sctp } th dport { ... }`, `meta l4proto tcp`, or nothing. */
export function portMatch(set: Pick<EnforcedSet, 'ports' | 'protocol'>): string {
  const ports = set.ports.map((p) => (/^\d+[-:]\d+$/.test(p) ? p.replace(':', '-') : p));
  const list = `{ ${ports.join(', ')} }`;
  if (set.protocol === 'all') return ports.length > 0 ? `meta l4proto { tcp, udp, sctp } th dport ${list} ` : '';
  return ports.length > 0 ? `${set.protocol} dport ${list} ` : `meta l4proto ${set.protocol} `;
}

/** The table, the sets, and the chains with one rule per (set, kind); rebuilt in one transaction. */
export function setupScript(table: string, sets: readonly EnforcedSet[], forward: boolean): string {
  const lines = [`add table inet ${table}`];
  for (const set of sets) for (const kind of SET_KINDS) lines.push(setDeclaration(table, set.key, kind));
  const hooks = forward ? ['input', 'forward'] : ['input'];
  // Just before the usual filter priority, like fail2ban's own nftables action.
  const chain = (hook: string) => `add chain inet ${table} ${hook} { type filter hook ${hook} priority filter - 1; policy accept; }`;
  // A forward chain left from when `forward` was on goes: add (a no-op when it exists), flush and delete
  // in one transaction, since nft before 1.0.8 has no "delete if it exists".
  if (!forward) lines.push(chain('forward'), `flush chain inet ${table} forward`, `delete chain inet ${table} forward`);
  for (const hook of hooks) {
    lines.push(chain(hook), `flush chain inet ${table} ${hook}`);
    for (const set of sets) {
      for (const kind of SET_KINDS) {
        const family = familyOfKind(kind) === 4 ? 'ip' : 'ip6';
        lines.push(`add rule inet ${table} ${hook} ${portMatch(set)}${family} saddr @${nftSetName(set.key, kind)} ${set.blocktype === 'drop' ? 'drop' : 'reject'}`);
      }
    }
  }
  return `${lines.join('\n')}\n`;
}

export function teardownScript(table: string): string {
  return `delete table inet ${table}\n`;
}

function element(entry: Pick<AddEntry, 'target'>, timeoutMs?: number | null): string {
  return timeoutMs === undefined || timeoutMs === null ? entry.target.text : `${entry.target.text} timeout ${timeoutMs}ms`;
}

/** Elements per `add element` line: big enough to be fast, small enough for nft's parser. */
const CHUNK = 5000;

/**
 * One batch for `nft -f -`, applied by the kernel as one transaction.
 * A delete is preceded by an add of the same element, and a replacement is
 * add, delete, add: `delete` of an element that already expired would fail
 * the whole batch, and an `add` of an existing element changes its timeout
 * on some kernels and not on others. The transaction is atomic, so the
 * element is never seen without its timeout.
 */
export function batchScript(table: string, adds: readonly AddEntry[], deletes: readonly DeleteEntry[]): string {
  const bySet = new Map<string, { ensure: string[]; remove: string[]; add: string[] }>();
  const bucket = (key: string, kind: SetKind) => {
    const name = nftSetName(key, kind);
    let b = bySet.get(name);
    if (!b) bySet.set(name, (b = { ensure: [], remove: [], add: [] }));
    return b;
  };
  // In an interval set, nft checks a new network against the old one even when the batch deletes the old one
  // first and re-adds it to be sure; there the delete goes alone (an entry that expired meanwhile fails the
  // batch, and the enforcer re-reads the set and plans again).
  const growing = new Set(adds.filter((a) => kindOf(a.target).startsWith('n')).map((a) => nftSetName(a.set, kindOf(a.target))));
  for (const d of deletes) {
    const kind = kindOf(d.target);
    const b = bucket(d.set, kind);
    if (!growing.has(nftSetName(d.set, kind))) b.ensure.push(element(d));
    b.remove.push(element(d));
  }
  for (const a of adds) {
    const b = bucket(a.set, kindOf(a.target));
    if (a.replace) {
      b.ensure.push(element(a));
      b.remove.push(element(a));
    }
    b.add.push(element(a, a.timeoutMs));
  }
  const lines: string[] = [];
  const emit = (verb: string, name: string, items: string[]) => {
    for (let i = 0; i < items.length; i += CHUNK) lines.push(`${verb} element inet ${table} ${name} { ${items.slice(i, i + CHUNK).join(', ')} }`);
  };
  // Every removal before every addition: an interval set must lose a network before a wider one goes in.
  for (const [name, b] of bySet) emit('add', name, b.ensure);
  for (const [name, b] of bySet) emit('delete', name, b.remove);
  for (const [name, b] of bySet) emit('add', name, b.add);
  return lines.length > 0 ? `${lines.join('\n')}\n` : '';
}

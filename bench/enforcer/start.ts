/**
 * Time to apply a ban set on start, inside a network namespace made for the
 * run: 100,000 bans through the nftables and ipset backends (fold, plan and
 * one batch, as the enforcer does after replaying the stream), next to 1,000
 * bans the way fail2ban does it (one `iptables -I` or `ip6tables -I` process
 * per address, one rule per address) and 1,000 through fleetban's iptables
 * backend, all measured in the same run.
 *
 *   node --import tsx bench/enforcer/start.ts [bans]
 *
 * Needs root (namespaces). Addresses come from documentation ranges only:
 * the three IPv4 /24s hold 768, so every run past that is IPv6 from
 * 2001:db8::/32; every address in a run is a different one. The 1,000 of
 * the classic runs are 768 IPv4 and 232 IPv6, which fail2ban puts in with
 * ip6tables, as it does for any IPv6 address.
 */
import { loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import type { EnforcerBackendName } from '../../shared/config/index.ts';
import type { Decision } from '../../shared/schema/index.ts';
import { BACKENDS, createExec, type Backend } from '../../services/enforcer/backends/index.ts';
import { EnforcementState } from '../../services/enforcer/core/state.ts';
import { enforcedSets, router } from '../../services/enforcer/sets.ts';
import { Netns, netnsSkipReason, quietLogger, testConfig } from '../../test/harness/index.ts';
import { docAddress } from './docaddress.ts';

const BANS = Number(process.argv[2] ?? 100_000);
const CLASSIC = 1000;
const HOUR = 3_600_000;

function decisions(count: number): Decision[] {
  const now = Date.now();
  return Array.from({ length: count }, (_, i) => ({ v: 1, id: `b${i}`, action: 'ban', jail: 'sshd', target: docAddress(i), time: now, duration: HOUR, origin: 'scorer' }) as Decision);
}

interface StartTiming {
  foldMs: number;
  planMs: number;
  commitMs: number;
  totalMs: number;
  listed: number;
}

/** What the enforcer does on start, with the stream already read: fold, read the kernel, plan, one batch. */
async function applyOnStart(name: EnforcerBackendName, count: number): Promise<StartTiming> {
  const ns = await Netns.create('bench');
  try {
    const config = testConfig({ jails: { sshd: { port: 'ssh' } }, enforcer: { backend: name, netns: ns.name, table: 'fbbench', ipset: { maxelem: count * 2 } } });
    const sets = enforcedSets(config, []);
    const backend: Backend = BACKENDS[name].create({ config, exec: createExec({ netns: ns.name }), log: quietLogger() });
    await backend.prepare(sets);
    const input = decisions(count);
    const t0 = performance.now();
    const state = new EnforcementState({ route: router(config, sets), traits: () => backend.traits });
    for (const d of input) state.decide(d);
    const t1 = performance.now();
    state.loadKernel(name, await backend.list(), sets, Date.now());
    const changes = state.plan(Date.now());
    for (const c of changes) backend.add({ set: c.set, target: c.target, timeoutMs: c.timeoutMs, replace: c.replace });
    const t2 = performance.now();
    await backend.commit();
    const t3 = performance.now();
    for (const c of changes) state.settle(c, 'applied', Date.now());
    const listed = (await backend.list()).length;
    return { foldMs: t1 - t0, planMs: t2 - t1, commitMs: t3 - t2, totalMs: t3 - t0, listed };
  } finally {
    await ns.remove();
  }
}

/** The `count` different documentation addresses of a run, split by family. */
function addresses(count: number): { v4: string[]; v6: string[] } {
  const all = Array.from({ length: count }, (_, i) => docAddress(i));
  if (new Set(all).size !== count) throw new Error(`docAddress gave repeats among ${count} addresses`);
  return { v4: all.filter((a) => !a.includes(':')), v6: all.filter((a) => a.includes(':')) };
}

/**
 * fail2ban's iptables action: a chain per family, and one
 * `iptables -I <chain> 1 -s <ip> -j REJECT` process per ban (ip6tables for IPv6).
 */
async function fail2banWay(count: number): Promise<{ ms: number; v4: number; v6: number; rules: number }> {
  const ns = await Netns.create('f2b');
  try {
    const { v4, v6 } = addresses(count);
    const families = [
      { tool: 'iptables', reject: 'icmp-port-unreachable', list: v4 },
      { tool: 'ip6tables', reject: 'icmp6-port-unreachable', list: v6 },
    ];
    for (const { tool } of families) {
      await ns.ok(tool, ['-N', 'f2b-sshd']);
      await ns.ok(tool, ['-A', 'f2b-sshd', '-j', 'RETURN']);
      await ns.ok(tool, ['-I', 'INPUT', '-p', 'tcp', '-m', 'multiport', '--dports', '22', '-j', 'f2b-sshd']);
    }
    const t0 = performance.now();
    for (const { tool, reject, list } of families) {
      for (const ip of list) await ns.ok(tool, ['-I', 'f2b-sshd', '1', '-s', ip, '-j', 'REJECT', '--reject-with', reject]);
    }
    const ms = performance.now() - t0;
    let rules = 0;
    for (const { tool } of families) rules += (await ns.ok(tool, ['-S', 'f2b-sshd'])).split('\n').filter((l) => l.includes('-j REJECT')).length;
    return { ms, v4: v4.length, v6: v6.length, rules };
  } finally {
    await ns.remove();
  }
}

async function main(): Promise<void> {
  const skip = netnsSkipReason();
  if (skip) {
    console.error(`bench/enforcer/start: ${skip}`);
    process.exitCode = 1;
    return;
  }
  console.log(`# fleetban enforcer: applying a ban set on start (node --import tsx bench/enforcer/start.ts ${BANS}); load average ${loadavg().map((l) => l.toFixed(1)).join(' ')}`);
  const rows: Array<[string, number, StartTiming]> = [];
  for (const name of ['nftables', 'ipset'] as const) rows.push([name, BANS, await applyOnStart(name, BANS)]);
  rows.push(['iptables (fleetban, one restore)', CLASSIC, await applyOnStart('iptables', CLASSIC)]);
  const f2b = await fail2banWay(CLASSIC);
  for (const [name, count, t] of rows) {
    console.log(`${name.padEnd(34)} ${String(count).padStart(7)} bans  total ${t.totalMs.toFixed(0).padStart(6)} ms  (fold ${t.foldMs.toFixed(0)} ms, plan ${t.planMs.toFixed(0)} ms, kernel batch ${t.commitMs.toFixed(0)} ms)  ${((t.totalMs * 1000) / count).toFixed(1)} µs/ban  in kernel: ${t.listed}`);
  }
  console.log(`${"fail2ban's way (one -I per ban)".padEnd(34)} ${String(CLASSIC).padStart(7)} bans  total ${f2b.ms.toFixed(0).padStart(6)} ms  ${((f2b.ms * 1000) / CLASSIC).toFixed(1)} µs/ban  in kernel: ${f2b.rules} rules`);
  console.log(`  the ${CLASSIC} are different addresses, all from documentation ranges: ${f2b.v4} IPv4 (192.0.2/24, 198.51.100/24, 203.0.113/24) through iptables, ${f2b.v6} IPv6 (2001:db8::/32) through ip6tables`);
  for (const [name, count, t] of rows.slice(0, 2)) {
    const ratio = f2b.ms / CLASSIC / (t.totalMs / count);
    console.log(`per ban, ${name} is ${ratio.toFixed(0)}x faster than fail2ban's way; target 100,000 bans < 2000 ms: ${count >= 100_000 ? (t.totalMs < 2000 ? 'met' : 'NOT met') : 'n/a (fewer bans)'}`);
  }
}

await main();

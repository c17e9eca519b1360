import { FAULT_KINDS } from './chaos.ts';
import type { SoakReport } from './soak.ts';

const s = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

/** The soak's figures and checks as text: what was injected, what was written, what the fleet ended with. */
export function formatReport(r: SoakReport): string {
  const o = r.options;
  const targets = [...new Set(r.faults.map((f) => f.target))].sort();
  const byTarget = targets.map((t) => {
    const kinds = FAULT_KINDS.map((k) => `${k} ${r.faults.filter((f) => f.target === t && f.kind === k).length}`);
    return `    ${t.padEnd(11)} ${kinds.join(', ')}`;
  });
  const restarts = r.faults.flatMap((f) => (f.restartMs === undefined ? [] : [f.restartMs]));
  const termExits = r.faults.flatMap((f) => (f.kind === 'term' && f.exitMs !== undefined ? [f.exitMs] : []));
  const lines = [
    `fault soak: seed ${o.seed}, ${o.seconds} s, ${o.rate} lines/s, ${o.shippers} shippers, ${o.scorers} scorers, `
      + `${o.enforcers} enforcers (nftables), maxretry ${o.maxretry}`,
    `  faults injected: ${r.faults.length} (${FAULT_KINDS.map((k) => `${k} ${r.faults.filter((f) => f.kind === k).length}`).join(', ')}), `
      + `one every ~${s(o.faultGapMs)}, up to ${o.maxConcurrentFaults} at once`,
    ...byTarget,
    `  restarts: ${restarts.length}, ready after ${restarts.length ? `${s(Math.min(...restarts))} to ${s(Math.max(...restarts))}` : '-'}`,
    `  SIGTERM to exit: ${termExits.length ? `${s(Math.min(...termExits))} to ${s(Math.max(...termExits))}` : '-'}`,
    `  failures written: ${r.linesWritten} lines, ${r.addresses.ban + r.addresses.near + r.addresses.over} addresses `
      + `(${r.addresses.ban} at maxretry, ${r.addresses.over} over, ${r.addresses.near} at maxretry-1)`,
    `  bans: expected ${r.bansExpected}, decided ${r.banDecisions}, in kernel ${r.kernelEntries.map((k) => `${k.name} ${k.entries}`).join(', ')}`,
    `  settled ${r.convergeMs === null ? 'NOT within ' + s(o.settleSeconds * 1000) : `${s(r.convergeMs)} after the chaos stopped`}`,
    ...(typeof r.lastProgress === 'string' ? [`  last seen: ${r.lastProgress}`] : []),
    '  checks:',
    ...r.checks.map((c) => `    ${c.ok ? 'ok  ' : 'FAIL'} ${c.name}: ${c.detail}`),
    `  result: ${r.ok ? 'PASS' : 'FAIL'} (stores, configs and each process's output: ${o.dir})`,
  ];
  return `${lines.join('\n')}\n`;
}

/**
 * Start-up time of the `fleetban` executable: `./bin/fleetban --version` and
 * `./bin/fleetban ban --help` (what every command pays before it does
 * anything), which run the build in dist/, next to the same from the
 * TypeScript sources through tsx (FLEETBAN_FROM_SOURCES=1, development only)
 * and plain `node -e 0`, in the same run.
 *
 *   node --import tsx bench/cli/startup.ts [runs]
 *
 * Prints the mean, median and minimum wall time of each (the commands run
 * in turn, round after round), and what fleetban adds to `node -e 0`.
 * bench/runtime/run.ts measures every command and part.
 */
import { execFileSync } from 'node:child_process';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { ensureBuilt } from '../../test/harness/build.ts';

const RUNS = Number(process.argv[2] ?? 20);
const ROOT = join(import.meta.dirname, '..', '..');
const BIN = join(ROOT, 'bin', 'fleetban');
ensureBuilt();

interface Row {
  label: string;
  command: string;
  args: string[];
  env?: NodeJS.ProcessEnv;
  times: number[];
}

/** Runs every command once per round, so that load from elsewhere falls on all of them alike. */
function measure(rows: Row[]): void {
  for (const r of rows) execFileSync(r.command, r.args, { stdio: 'ignore', cwd: ROOT, env: r.env }); // warm the tsx cache and the page cache
  for (let i = 0; i < RUNS; i++) {
    for (const r of rows) {
      const start = performance.now();
      execFileSync(r.command, r.args, { stdio: 'ignore', cwd: ROOT, env: r.env });
      r.times.push(performance.now() - start);
    }
  }
}

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

const sources = { ...process.env, FLEETBAN_FROM_SOURCES: '1' };
const rows: Row[] = [
  { label: './bin/fleetban --version', command: BIN, args: ['--version'], times: [] },
  { label: './bin/fleetban ban --help', command: BIN, args: ['ban', '--help'], times: [] },
  { label: 'sources (tsx): --version', command: BIN, args: ['--version'], env: sources, times: [] },
  { label: 'node -e 0', command: process.execPath, args: ['-e', '0'], times: [] },
];
measure(rows);
console.log(`runs: ${RUNS}, load average: ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
for (const r of rows) {
  console.log(`${r.label.padEnd(28)} mean ${mean(r.times).toFixed(0).padStart(5)} ms  median ${median(r.times).toFixed(0).padStart(5)} ms  min ${Math.min(...r.times).toFixed(0).padStart(5)} ms`);
}
console.log(`--version adds ${(median(rows[0]!.times) - median(rows[3]!.times)).toFixed(0)} ms to node -e 0 (medians); target: --version <= 100 ms median`);

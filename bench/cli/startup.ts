/**
 * Start-up time of the `fleetban` executable: `./bin/fleetban --version` and
 * `./bin/fleetban ban --help` (what every command pays before it does
 * anything), next to the floor in the same run: Node with tsx registered
 * importing an empty TypeScript module, and plain `node -e 0`.
 *
 *   node --import tsx bench/cli/startup.ts [runs]
 *
 * Prints the mean, median and minimum wall time of each (the commands run
 * in turn, round after round), and the ratio of `--version` to the tsx floor.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';

const RUNS = Number(process.argv[2] ?? 20);
const ROOT = join(import.meta.dirname, '..', '..');
const BIN = join(ROOT, 'bin', 'fleetban');

const dir = mkdtempSync(join(tmpdir(), 'fleetban-bench-cli-'));
const empty = join(dir, 'empty.mts');
writeFileSync(empty, 'export {};\n');
const floor = join(dir, 'floor.mjs');
writeFileSync(floor, `const { register } = await import(${JSON.stringify(join(ROOT, 'node_modules', 'tsx', 'dist', 'esm', 'api', 'index.mjs'))});\nregister();\nawait import(${JSON.stringify(empty)});\n`);

interface Row {
  label: string;
  command: string;
  args: string[];
  times: number[];
}

/** Runs every command once per round, so that load from elsewhere falls on all of them alike. */
function measure(rows: Row[]): void {
  for (const r of rows) execFileSync(r.command, r.args, { stdio: 'ignore', cwd: ROOT }); // warm the tsx cache and the page cache
  for (let i = 0; i < RUNS; i++) {
    for (const r of rows) {
      const start = performance.now();
      execFileSync(r.command, r.args, { stdio: 'ignore', cwd: ROOT });
      r.times.push(performance.now() - start);
    }
  }
}

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

try {
  const rows: Row[] = [
    { label: './bin/fleetban --version', command: BIN, args: ['--version'], times: [] },
    { label: './bin/fleetban ban --help', command: BIN, args: ['ban', '--help'], times: [] },
    { label: 'node + tsx, empty module', command: process.execPath, args: [floor], times: [] },
    { label: 'node -e 0', command: process.execPath, args: ['-e', '0'], times: [] },
  ];
  measure(rows);
  console.log(`runs: ${RUNS}, load average: ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
  for (const r of rows) {
    console.log(`${r.label.padEnd(28)} mean ${mean(r.times).toFixed(0).padStart(5)} ms  median ${median(r.times).toFixed(0).padStart(5)} ms  min ${Math.min(...r.times).toFixed(0).padStart(5)} ms`);
  }
  console.log(`--version / tsx floor (medians): ${(median(rows[0]!.times) / median(rows[2]!.times)).toFixed(2)}`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}

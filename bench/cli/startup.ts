/**
 * Start-up time of the `fleetban` executable: `./bin/fleetban --version` and
 * `./bin/fleetban ban --help` (what every command pays before it does
 * anything), next to the floor in the same run: Node with tsx registered
 * importing an empty TypeScript module, and plain `node -e 0`.
 *
 *   node --import tsx bench/cli/startup.ts [runs]
 *
 * Prints the mean and the spread of wall time for each, and the ratio of
 * `--version` to the tsx floor.
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

function measure(label: string, command: string, args: string[]): { label: string; mean: number; min: number; max: number } {
  execFileSync(command, args, { stdio: 'ignore', cwd: ROOT }); // warm the tsx cache and the page cache
  const times: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const start = performance.now();
    execFileSync(command, args, { stdio: 'ignore', cwd: ROOT });
    times.push(performance.now() - start);
  }
  return { label, mean: times.reduce((a, b) => a + b, 0) / times.length, min: Math.min(...times), max: Math.max(...times) };
}

try {
  const rows = [
    measure('./bin/fleetban --version', BIN, ['--version']),
    measure('./bin/fleetban ban --help', BIN, ['ban', '--help']),
    measure('node + tsx, empty module', process.execPath, [floor]),
    measure('node -e 0', process.execPath, ['-e', '0']),
  ];
  console.log(`runs: ${RUNS}, load average: ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
  for (const r of rows) console.log(`${r.label.padEnd(28)} mean ${r.mean.toFixed(0).padStart(5)} ms  min ${r.min.toFixed(0).padStart(5)} ms  max ${r.max.toFixed(0).padStart(5)} ms`);
  console.log(`--version / tsx floor: ${(rows[0]!.mean / rows[2]!.mean).toFixed(2)}`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}

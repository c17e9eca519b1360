import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';

export interface CommandRow {
  label: string;
  command: string;
  args: string[];
  /** Exit codes that count as a normal run (e.g. 1 for `banned IP` when it is not banned). */
  ok?: number[];
  wall: number[];
  peakRss: number[];
}

const TIME = '/usr/bin/time';

/**
 * Runs every row `runs` times, round-robin so load from elsewhere falls on
 * all of them alike; wall time from spawn to exit, peak RSS from GNU time
 * (when installed).
 */
export function measureCommands(rows: CommandRow[], runs: number, scratch: string, env: NodeJS.ProcessEnv = process.env): void {
  const haveTime = existsSync(TIME);
  const out = join(scratch, 'time.out');
  for (let i = 0; i <= runs; i++) {
    for (const r of rows) {
      const argv = haveTime ? [TIME, ['-f', '%M', '-o', out, r.command, ...r.args]] as const : [r.command, r.args] as const;
      const t0 = performance.now();
      const res = spawnSync(argv[0], argv[1], { stdio: ['ignore', 'ignore', 'pipe'], timeout: 60_000, env });
      const ms = performance.now() - t0;
      if (res.status === null || !(r.ok ?? [0]).includes(res.status)) {
        throw new Error(`${r.label} exited ${res.status ?? res.signal}: ${String(res.stderr).slice(-1000)}`);
      }
      if (i === 0) continue; // warm-up round: page cache
      r.wall.push(ms);
      if (haveTime) {
        r.peakRss.push(Number(readFileSync(out, 'utf8').trim().split('\n').at(-1)) / 1024);
        rmSync(out, { force: true });
      }
    }
  }
}

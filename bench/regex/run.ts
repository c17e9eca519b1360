/**
 * `fleetban regex` against fail2ban-regex on the same generated logs, in one
 * run: a 200,000-line sshd auth.log with the stock sshd filter and a
 * 200,000-line mixed web-server log with apache-auth and nginx-http-auth.
 *
 * For each workload both tools run in fail2ban-regex's default mode (every
 * regex tried on every line, a summary printed) and with `-o ip` (the
 * daemon's first-match mode). Printed per tool: lines per second from the
 * processing time the tool reports (summary mode), lines per second over the
 * whole process (start-up included), peak memory (max RSS), and the ratio.
 * Before timing anything it checks both tools agree: the same line counts in
 * the summaries and byte-identical `-o ip` output.
 *
 * The issue's target is per core, so both tools run pinned to CPU 0 with
 * `taskset -c 0` (util-linux) when it is there and works; the output says
 * whether they were pinned.
 *
 *   node --import tsx bench/regex/run.ts [--lines N] [--runs N]
 *
 * Needs the fail2ban cache that infra/setup/setup.sh fills (python3 too).
 * `fleetban` is bin/fleetban, so the build in dist/ (rebuilt first when stale).
 */
import { execFile, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { ensureBuilt } from '../../test/harness/build.ts';
import { fail2banPackage } from '../../test/harness/fail2ban.ts';
import { authLog, webLog } from './generate.ts';

const { values } = parseArgs({ options: { lines: { type: 'string', default: '200000' }, runs: { type: 'string', default: '3' } } });
const LINES = Number(values.lines);
const RUNS = Number(values.runs);
const ROOT = join(import.meta.dirname, '..', '..');
ensureBuilt();
const pkg = fail2banPackage();
if (!pkg) {
  console.error('the fail2ban cache is empty: run infra/setup/setup.sh first');
  process.exit(1);
}

/** How the tools are pinned to one core: taskset's arguments, or why they are not pinned. */
function pinning(): { prefix: string[]; note: string } {
  const probe = spawnSync('taskset', ['-c', '0', 'true'], { encoding: 'utf8' });
  if (probe.error) return { prefix: [], note: `not pinned to one core: taskset (util-linux) cannot run (${probe.error.message}); each tool may use several cores` };
  if (probe.status !== 0) return { prefix: [], note: `not pinned to one core: taskset -c 0 failed (${probe.stderr.trim() || `exit ${probe.status}`}); each tool may use several cores` };
  return { prefix: ['taskset', '-c', '0'], note: 'both tools pinned to one core: taskset -c 0 (util-linux)' };
}
const PIN = pinning();

interface Run {
  stdout: string;
  wallMs: number;
  maxRssKb: number;
  processedSec?: number;
}

const MAXRSS_NODE = `data:text/javascript,process.on('exit',()=>process.stderr.write('\\nMAXRSS_KB='+process.resourceUsage().maxRSS+'\\n'))`;
const MAXRSS_PY = [
  'import atexit, resource, runpy, sys',
  "atexit.register(lambda: sys.stderr.write('\\nMAXRSS_KB=%d\\n' % resource.getrusage(resource.RUSAGE_SELF).ru_maxrss))",
  'sys.argv = sys.argv[1:]',
  "runpy.run_path(sys.argv[0], run_name='__main__')",
].join('\n');

function exec(command: string, commandArgs: string[], env: NodeJS.ProcessEnv): Promise<Run> {
  // taskset execs the tool, so the peak memory measured inside it is still the tool's own.
  const [cmd, ...args] = [...PIN.prefix, command, ...commandArgs] as [string, ...string[]];
  const start = performance.now();
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { env, maxBuffer: 1 << 30 }, (err, stdout, stderr) => {
      const wallMs = performance.now() - start;
      if (err) return reject(new Error(`${cmd} ${args.join(' ')} failed: ${err.message}\n${stderr}`));
      const rss = /MAXRSS_KB=(\d+)/.exec(String(stderr));
      const processed = /\[processed in ([\d.]+) sec\]/.exec(String(stdout));
      resolve({ stdout: String(stdout), wallMs, maxRssKb: rss ? Number(rss[1]) : NaN, processedSec: processed ? Number(processed[1]) : undefined });
    });
  });
}

function fleetban(args: string[]): Promise<Run> {
  return exec(process.execPath, ['--import', MAXRSS_NODE, join(ROOT, 'bin', 'fleetban'), 'regex', ...args], process.env);
}

function fail2ban(args: string[]): Promise<Run> {
  return exec(pkg!.python, ['-c', MAXRSS_PY, pkg!.regexScript, '-c', pkg!.configDir, ...args], {
    ...process.env,
    PYTHONPATH: pkg!.pythonPath,
    LANG: 'C.UTF-8',
    LC_ALL: 'C.UTF-8',
  });
}

const linesOf = (out: string) => /Lines: .*/.exec(out)?.[0];

interface Best {
  processedSec: number;
  wallMs: number;
  maxRssKb: number;
}

const fmt = (n: number) => Math.round(n).toLocaleString('en-US');

async function workload(name: string, log: string, filter: string): Promise<void> {
  // Agreement first: the same summary counts and the same -o ip output.
  const [a, b] = [await fleetban([log, filter]), await fail2ban([log, filter])];
  if (linesOf(a.stdout) !== linesOf(b.stdout)) throw new Error(`${name}: summaries differ:\n  fleetban:     ${linesOf(a.stdout)}\n  fail2ban-regex: ${linesOf(b.stdout)}`);
  const [c, d] = [await fleetban(['-o', 'ip', log, filter]), await fail2ban(['-o', 'ip', log, filter])];
  if (c.stdout !== d.stdout) throw new Error(`${name}: -o ip output differs`);
  const failures = c.stdout.split('\n').filter(Boolean).length;
  console.log(`\n${name} (${filter}): ${fmt(LINES)} lines, ${fmt(failures)} failures; ${linesOf(a.stdout)}; -o ip output identical`);
  const rows: Array<[string, Best, Best]> = [];
  // Interleave the tools so that both see the same machine load.
  for (const [mode, args] of [['summary (check all regexes)', [log, filter]], ['-o ip (first match)', ['-o', 'ip', log, filter]]] as const) {
    const fb: Best = { processedSec: Infinity, wallMs: Infinity, maxRssKb: 0 };
    const f2b: Best = { processedSec: Infinity, wallMs: Infinity, maxRssKb: 0 };
    for (let i = 0; i < RUNS; i++) {
      for (const [target, run] of [[fb, () => fleetban([...args])], [f2b, () => fail2ban([...args])]] as const) {
        const r = await run();
        target.processedSec = Math.min(target.processedSec, r.processedSec ?? Infinity);
        target.wallMs = Math.min(target.wallMs, r.wallMs);
        target.maxRssKb = Math.max(target.maxRssKb, r.maxRssKb);
      }
    }
    rows.push([mode, fb, f2b]);
  }
  for (const [mode, fb, f2b] of rows) {
    console.log(`  ${mode}`);
    if (Number.isFinite(fb.processedSec) && Number.isFinite(f2b.processedSec)) {
      const x = LINES / fb.processedSec;
      const y = LINES / f2b.processedSec;
      console.log(`    processing:     fleetban ${fmt(x).padStart(9)} lines/s   fail2ban-regex ${fmt(y).padStart(9)} lines/s   ratio ${(x / y).toFixed(1)}x`);
    }
    const xw = (LINES / fb.wallMs) * 1000;
    const yw = (LINES / f2b.wallMs) * 1000;
    console.log(`    whole process:  fleetban ${fmt(xw).padStart(9)} lines/s   fail2ban-regex ${fmt(yw).padStart(9)} lines/s   ratio ${(xw / yw).toFixed(1)}x   (${(fb.wallMs / 1000).toFixed(2)} s vs ${(f2b.wallMs / 1000).toFixed(2)} s)`);
    console.log(`    peak memory:    fleetban ${fmt(fb.maxRssKb / 1024).padStart(6)} MiB        fail2ban-regex ${fmt(f2b.maxRssKb / 1024).padStart(6)} MiB`);
  }
}

const dir = mkdtempSync(join(tmpdir(), 'fleetban-bench-'));
try {
  const auth = join(dir, 'auth.log');
  const web = join(dir, 'web.log');
  writeFileSync(auth, authLog(LINES));
  writeFileSync(web, webLog(LINES));
  console.log(`fleetban regex vs fail2ban-regex ${pkg.root.split('/').pop()} (python ${pkg.python}), node ${process.version}; best of ${RUNS} runs each, the two tools alternating`);
  console.log(PIN.note);
  await workload('auth.log', auth, 'sshd');
  await workload('web.log', web, 'apache-auth');
  await workload('web.log', web, 'nginx-http-auth');
} finally {
  rmSync(dir, { recursive: true, force: true });
}

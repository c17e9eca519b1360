/**
 * The fault soak, on demand:
 *
 *   node --import tsx test/soak/run.ts [--seconds 600] [--seed N] [--rate 20]
 *     [--shippers 2] [--scorers 2] [--enforcers 2] [--fault-gap 3] [--settle 240] [--keep]
 *
 * (`npm run soak -- --seconds 1800` is the same.) Needs root for the network
 * namespaces; the host's own firewall is never touched. Prints every fault as
 * it happens and the figures and checks at the end; exits 0 when every check
 * passed, 1 when one failed. The working directory (stores, configs, each
 * process's output) is kept when a check fails, or with --keep.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { netnsSkipReason } from '../harness/index.ts';
import { formatReport } from './report.ts';
import { Rng } from './rng.ts';
import { runSoak, SOAK_DEFAULTS } from './soak.ts';

const { values } = parseArgs({
  options: {
    seconds: { type: 'string' },
    seed: { type: 'string' },
    rate: { type: 'string' },
    shippers: { type: 'string' },
    scorers: { type: 'string' },
    enforcers: { type: 'string' },
    'fault-gap': { type: 'string' },
    settle: { type: 'string' },
    keep: { type: 'boolean', default: false },
  },
});

const number = (name: keyof typeof values, fallback: number, min = 1): number => {
  const text = values[name];
  if (text === undefined || typeof text === 'boolean') return fallback;
  const n = Number(text);
  if (!Number.isFinite(n) || n < min) {
    process.stderr.write(`--${name}: a number of at least ${min}\n`);
    process.exit(2);
  }
  return n;
};

const skip = netnsSkipReason();
if (skip) {
  process.stderr.write(`fault soak: ${skip}\n`);
  process.exit(77);
}

const dir = mkdtempSync(join(tmpdir(), 'fleetban-soak-'));
const report = await runSoak({
  seconds: number('seconds', SOAK_DEFAULTS.seconds),
  seed: number('seed', Rng.randomSeed(), 0),
  rate: number('rate', SOAK_DEFAULTS.rate),
  shippers: number('shippers', SOAK_DEFAULTS.shippers),
  scorers: number('scorers', SOAK_DEFAULTS.scorers),
  enforcers: number('enforcers', SOAK_DEFAULTS.enforcers),
  maxretry: SOAK_DEFAULTS.maxretry,
  faultGapMs: number('fault-gap', SOAK_DEFAULTS.faultGapMs / 1000, 0.1) * 1000,
  maxConcurrentFaults: SOAK_DEFAULTS.maxConcurrentFaults,
  settleSeconds: number('settle', SOAK_DEFAULTS.settleSeconds),
  dir,
  echo: (line) => process.stdout.write(`${line}\n`),
});
process.stdout.write(`\n${formatReport(report)}`);
if (report.ok && !values.keep) rmSync(dir, { recursive: true, force: true });
process.exit(report.ok ? 0 : 1);

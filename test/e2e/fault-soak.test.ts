import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { netnsSkipReason, tempDir } from '../harness/index.ts';
import { formatEntry } from '../soak/timeline.ts';
import { formatReport } from '../soak/report.ts';
import { Rng } from '../soak/rng.ts';
import { runSoak, SOAK_DEFAULTS } from '../soak/soak.ts';

/** The seed every run tries, and one drawn afresh each run (FLEETBAN_SOAK_SEED replays one). */
const SEEDS = [20250415, Number(process.env.FLEETBAN_SOAK_SEED ?? Rng.randomSeed())];

/**
 * The fault soak (test/soak/), briefly: the whole fleet as real processes,
 * failures written at a steady rate while NATS, Redis and every part are
 * killed, frozen and restarted at random; then the exact end state. The
 * long run is `npm run soak -- --seconds 1800`.
 */
describe('the fault soak, briefly', { skip: netnsSkipReason() }, () => {
  for (const seed of SEEDS) {
    test(`seed ${seed}: after 20 s of faults every address at maxretry is banned exactly once, in every kernel, and nothing else`, async (t) => {
      const dir = tempDir('fleetban-soak');
      const report = await runSoak({
        ...SOAK_DEFAULTS,
        seconds: 20,
        faultGapMs: 1500,
        settleSeconds: 120,
        seed,
        dir: dir.path,
        echo: () => undefined,
      });
      for (const line of formatReport(report).trimEnd().split('\n')) t.diagnostic(line);
      if (!report.ok) for (const entry of report.timeline) t.diagnostic(formatEntry(entry));
      assert.ok(report.faults.length > 0, 'faults were injected');
      assert.ok(report.bansExpected > 0, 'some addresses reached maxretry');
      assert.deepEqual(report.checks.filter((c) => !c.ok).map((c) => `${c.name}: ${c.detail}`), []);
      assert.notEqual(report.convergeMs, null, `settled within ${report.options.settleSeconds} s`);
      dir.remove();
    });
  }
});

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { decide, emptyTargetState, mirror, targetOf, type TargetState } from '../../services/scorer/core/window.ts';
import { goldenCases, summarize } from '../fixtures/scorer/golden.ts';

describe('the scorer decision core on the golden cases', () => {
  for (const golden of goldenCases()) {
    test(`${golden.name} (${golden.file})`, () => {
      const world = new Map<string, TargetState>();
      golden.steps.forEach((step, i) => {
        const where = `${golden.file} step ${i + 1}`;
        if (step.kind === 'manual') {
          const result = mirror(world.get(step.target) ?? emptyTargetState(), step.decision);
          world.set(step.target, result.state);
          assert.deepEqual(summarize(result.outcome), step.expect, where);
          return;
        }
        const rules = golden.rules.get(step.failure.jail)!;
        const t = targetOf(step.failure, rules);
        if ('ignored' in t) {
          assert.deepEqual(summarize({ kind: 'ignored', entry: t.ignored }), step.expect, where);
          return;
        }
        if (step.target) assert.equal(t.target, step.target, `${where}: target`);
        const result = decide(world.get(t.target) ?? emptyTargetState(), step.failure, t.target, rules);
        world.set(t.target, result.state);
        assert.deepEqual(summarize(result.outcome), step.expect, where);
      });
    });
  }
});

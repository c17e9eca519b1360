import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { binFleetban, cli, tempDir } from '../harness/index.ts';

describe('fleetban scorer', () => {
  test('is listed in the help with its options', async () => {
    const top = await cli('--help');
    assert.match(top.stdout, /scorer \[options\]\s+run a scorer replica/);
    const own = await cli('scorer', '--help');
    assert.match(own.stdout, /--config <file>/);
    assert.match(own.stdout, /--check-config/);
  });

  test('--check-config accepts a good file and refuses a bantime.formula that does not compile, naming the key, with exit code 78', async () => {
    const dir = tempDir();
    try {
      const good = join(dir.path, 'good.yaml');
      writeFileSync(good, 'jails:\n  sshd:\n    bantime.increment: true\n    bantime.formula: "ban.Time * math.exp(float(ban.Count+1)*banFactor)/math.exp(1*banFactor)"\n');
      const ok = await binFleetban(['scorer', '--config', good, '--check-config']);
      assert.equal(ok.code, 0, ok.stderr);
      assert.match(ok.stderr, /configuration is valid/);
      const bad = join(dir.path, 'bad.yaml');
      writeFileSync(bad, 'jails:\n  sshd:\n    bantime.formula: "__import__(1)"\n');
      const refused = await binFleetban(['scorer', '--config', bad, '--check-config']);
      assert.equal(refused.code, 78);
      assert.match(refused.stderr, /bad\.yaml:3: jails\.sshd\.bantime\.formula: unknown function "__import__" at column 1/);
    } finally {
      dir.remove();
    }
  });
});

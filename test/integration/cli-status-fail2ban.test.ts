import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { describe, test } from 'node:test';
import { renderJail, renderOverview } from '../../services/cli/commands/status/render.ts';
import type { JailStatus, StatusResponse } from '../../shared/schema/index.ts';
import { fail2banPackage, fail2banSkipReason } from '../harness/index.ts';

/**
 * fail2ban's own Beautifier (fail2ban-client's output) run on the same
 * figures, from Debian's package that the set-up unpacks. The filter branch
 * is the base Filter's (failed counts; no file list, since the files of a
 * fleet are on many hosts).
 */
const BEAUTIFY = `
import json, sys
from fail2ban.client.beautifier import Beautifier
cmd, response = json.load(sys.stdin)
response = [tuple(item) if not isinstance(item[1], list) or not item[1] or not isinstance(item[1][0], list) else (item[0], [tuple(x) for x in item[1]]) for item in response]
print(Beautifier(cmd).beautify(response))
`;

function fail2banSays(cmd: string[], response: unknown): string {
  const pkg = fail2banPackage()!;
  return execFileSync(pkg.python, ['-c', BEAUTIFY], { input: JSON.stringify([cmd, response]), encoding: 'utf8', env: { ...process.env, PYTHONPATH: pkg.pythonPath } });
}

const jail = (name: string, targets: string[], failed = 2, totalFailed = 17, totalBanned = 5): JailStatus => ({
  jail: name,
  currentlyFailed: failed,
  totalFailed,
  currentlyBanned: targets.length,
  totalBanned,
  banned: targets.map((target) => ({ target, start: 1, duration: 600_000, remaining: 500_000, origin: 'scorer' as const })),
  truncated: false,
});

describe("fleetban status prints what fail2ban-client's own code prints", { skip: fail2banSkipReason({ python: true }) }, () => {
  test('for one jail, with several bans, one ban and none', () => {
    for (const targets of [['192.0.2.1', '2001:db8::7', '198.51.100.0/24'], ['203.0.113.9'], []]) {
      const j = jail('sshd', targets);
      const expected = fail2banSays(['status', 'sshd'], [
        ['Filter', [['Currently failed', j.currentlyFailed], ['Total failed', j.totalFailed]]],
        ['Actions', [['Currently banned', j.currentlyBanned], ['Total banned', j.totalBanned], ['Banned IP list', targets]]],
      ]);
      assert.equal(renderJail(j), expected);
    }
  });

  test('for the overview of every jail', () => {
    for (const names of [['sshd', 'nginx-http-auth', 'manual'], ['sshd'], []]) {
      const status: StatusResponse = { v: 1, host: 'core-1', time: 1, jails: names.map((n) => jail(n, [])) };
      const expected = fail2banSays(['status'], [['Number of jail', names.length], ['Jail list', [...names].sort().join(', ')]]);
      assert.equal(renderOverview(status), expected);
    }
  });
});

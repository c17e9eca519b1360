import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parseStatusRequest, parseStatusResponse, STATUS_DEFAULT_LIST, type StatusResponse } from '../../shared/schema/index.ts';

const reply: StatusResponse = {
  v: 1,
  host: 'core-1',
  time: 1_700_000_000_000,
  jails: [
    {
      jail: 'sshd',
      currentlyFailed: 1,
      totalFailed: 9,
      currentlyBanned: 2,
      totalBanned: 3,
      banned: [
        { target: '192.0.2.10', start: 1_699_999_990_000, duration: 600_000, remaining: 590_000, origin: 'scorer', reason: '5 failures within 10m', failures: 5, banCount: 1 },
        { target: '2001:db8::/64', start: 1_699_999_000_000, duration: -1, remaining: -1, origin: 'manual', reason: 'honeypot', by: 'alice' },
      ],
      truncated: false,
    },
  ],
};

describe('the status contract', () => {
  test('a reply round-trips through JSON, as bytes or text', () => {
    const bytes = new TextEncoder().encode(JSON.stringify(reply));
    assert.deepEqual(parseStatusResponse(bytes), { ok: true, value: reply });
    assert.deepEqual(parseStatusResponse(JSON.stringify(reply)), { ok: true, value: reply });
  });

  test('a reply that breaks the contract is refused with the path of the problem, never thrown', () => {
    const broken = (change: (r: StatusResponse) => void) => {
      const copy = structuredClone(reply);
      change(copy);
      return parseStatusResponse(copy);
    };
    assert.match(String((broken((r) => (r.jails[0]!.banned[0]!.target = '192.0.2.010')) as { reason: string }).reason), /jails\.0\.banned\.0\.target/);
    assert.match(String((broken((r) => (r.jails[0]!.banned[0]!.remaining = -5)) as { reason: string }).reason), /remaining/);
    assert.match(String((broken((r) => ((r as { v: number }).v = 2)) as { reason: string }).reason), /^v:/);
    assert.match(String((broken((r) => ((r.jails[0] as unknown as Record<string, unknown>).extra = 1)) as { reason: string }).reason), /extra/);
    assert.deepEqual(parseStatusResponse('not json').ok, false);
  });

  test('a request defaults to every jail and the default list length, and refuses bad fields', () => {
    assert.deepEqual(parseStatusRequest(undefined), { ok: true, value: { limit: STATUS_DEFAULT_LIST } });
    assert.deepEqual(parseStatusRequest({ jail: 'sshd', limit: 5 }), { ok: true, value: { jail: 'sshd', limit: 5 } });
    assert.equal(parseStatusRequest({ jail: 'no spaces' }).ok, false);
    assert.equal(parseStatusRequest({ limit: 5000 }).ok, false);
    assert.equal(parseStatusRequest({ other: 1 }).ok, false);
  });
});

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { bannedEntries, renderBanned } from '../../services/cli/commands/banned/render.ts';
import { keyStats, renderServices, serviceEntry, sortEntries } from '../../services/cli/commands/services/render.ts';
import { renderJail, renderOverview } from '../../services/cli/commands/status/render.ts';
import { cell, remaining, table } from '../../services/cli/format.ts';
import { BanSet } from '../../shared/decisions/index.ts';
import { parseStatusResponse, type Decision, type JailStatus, type StatusResponse } from '../../shared/schema/index.ts';
import { PERMANENT } from '../../shared/time/index.ts';

const NOW = 1_763_776_000_000;
const MINUTE = 60_000;

const sshd: JailStatus = {
  jail: 'sshd',
  currentlyFailed: 1,
  totalFailed: 9,
  currentlyBanned: 2,
  totalBanned: 3,
  banned: [
    { target: '192.0.2.1', start: NOW - MINUTE, duration: 10 * MINUTE, remaining: 9 * MINUTE, origin: 'scorer', reason: '3 failures within 10m', failures: 3, banCount: 1 },
    { target: '2001:db8::/64', start: NOW, duration: PERMANENT, remaining: PERMANENT, origin: 'manual', by: 'alice@ops-1' },
  ],
  truncated: false,
};
const status: StatusResponse = { v: 1, host: 'core-1', time: NOW, jails: [{ ...sshd, jail: 'web', banned: [], currentlyBanned: 0 }, sshd] };

describe("fleetban status: fail2ban-client's layout", () => {
  test('one jail prints the Filter and Actions branches with tree glyphs, tabs after the colons and a space-separated list', () => {
    assert.equal(
      renderJail(sshd),
      [
        'Status for the jail: sshd',
        '|- Filter',
        '|  |- Currently failed:\t1',
        '|  `- Total failed:\t9',
        '`- Actions',
        '   |- Currently banned:\t2',
        '   |- Total banned:\t3',
        '   `- Banned IP list:\t192.0.2.1 2001:db8::/64',
        '',
      ].join('\n'),
    );
  });

  test('a jail with nothing banned keeps the tab and leaves the list empty, as fail2ban does', () => {
    assert.match(renderJail({ ...sshd, banned: [], currentlyBanned: 0 }), /`- Banned IP list:\t\n$/);
  });

  test('the overview prints the number of jails and their names, sorted, comma-separated', () => {
    assert.equal(renderOverview(status), 'Status\n|- Number of jail:\t2\n`- Jail list:\tsshd, web\n');
    assert.equal(renderOverview({ ...status, jails: [] }), 'Status\n|- Number of jail:\t0\n`- Jail list:\t\n');
  });

  test('the reply the renderer reads is the status contract', () => {
    assert.ok(parseStatusResponse(JSON.stringify(status)).ok);
  });
});

describe('fleetban banned: rows from the folded decisions stream', () => {
  const decisions: Decision[] = [
    { v: 1, id: 'b1', action: 'ban', jail: 'sshd', target: '192.0.2.7', time: NOW - MINUTE, duration: 10 * MINUTE, origin: 'scorer', reason: '3 failures within 10m', failures: 3, banCount: 2, by: 'core-1' },
    { v: 1, id: 'b2', action: 'ban', jail: 'manual', target: '198.51.100.0/24', time: NOW, duration: PERMANENT, origin: 'manual', reason: 'abuse\nreport #7', by: 'alice@ops-1' },
    { v: 1, id: 'b3', action: 'ban', jail: 'sshd', target: '192.0.2.9', time: NOW - 5 * MINUTE, duration: 10 * MINUTE, origin: 'scorer' },
    { v: 1, id: 'b4', action: 'ban', jail: 'sshd', target: '192.0.2.10', time: NOW - 20 * MINUTE, duration: 10 * MINUTE, origin: 'scorer' },
  ];
  const set = new BanSet();
  for (const d of decisions) set.apply(d);
  const entries = bannedEntries(set.active(NOW), NOW);

  test('entries carry jail, target, remaining time, origin, reason and operator; expired bans are gone; soonest end first per jail', () => {
    assert.deepEqual(entries.map((e) => [e.jail, e.target, e.remaining]), [
      ['manual', '198.51.100.0/24', PERMANENT],
      ['sshd', '192.0.2.9', 5 * MINUTE],
      ['sshd', '192.0.2.7', 9 * MINUTE],
    ]);
    assert.deepEqual(entries[2], {
      jail: 'sshd', target: '192.0.2.7', start: NOW - MINUTE, duration: 10 * MINUTE, until: NOW + 9 * MINUTE, remaining: 9 * MINUTE,
      origin: 'scorer', reason: '3 failures within 10m', by: 'core-1', failures: 3, banCount: 2, id: 'b1',
    });
  });

  test('the table shows remaining time in fail2ban units and keeps every row on one line', () => {
    assert.equal(
      renderBanned(entries),
      [
        'JAIL    TARGET           REMAINING  ORIGIN  BY           REASON',
        'manual  198.51.100.0/24  permanent  manual  alice@ops-1  abuse report #7',
        'sshd    192.0.2.9        5m         scorer  -            -',
        'sshd    192.0.2.7        9m         scorer  core-1       3 failures within 10m',
        '',
      ].join('\n'),
    );
  });

  test('cells: long text is cut, control characters are flattened, time left is rounded down to the second', () => {
    assert.equal(cell('a'.repeat(100), 10), `${'a'.repeat(9)}…`);
    assert.equal(cell('x\u001b[31my'), 'x [31my');
    assert.equal(remaining(61_999), '1m1s');
    assert.equal(remaining(400), '0s');
    assert.equal(table(['A', 'LONGER'], [['xyz', '1']]), 'A    LONGER\nxyz  1\n');
  });
});

describe('fleetban services: what $SRV.STATS says about each part', () => {
  const started = new Date(NOW - 3 * MINUTE - 12_000).toISOString();
  const reply = (name: string, host: string, data: unknown) => ({
    type: 'io.nats.micro.v1.stats_response', name, id: `ID-${host}`, version: '0.1.0', started, metadata: { host, part: name.split('-')[1] },
    endpoints: [{ name: 'stats', subject: 'x', num_requests: 0, num_errors: 0, data }, { name: 'status', subject: 'y', num_requests: 0, num_errors: 0, data: 'other' }],
  });

  test('an entry carries host, version, uptime and the stats endpoint data; a reply without an id is not ours', () => {
    const e = serviceEntry('scorer', reply('fleetban-scorer', 'core-1', { redis: 'up', jails: 2, failures: 10, bans: 1, inFlight: 0 }), NOW)!;
    assert.equal(e.host, 'core-1');
    assert.equal(e.uptimeMs, 3 * MINUTE + 12_000);
    assert.deepEqual(e.stats, { redis: 'up', jails: 2, failures: 10, bans: 1, inFlight: 0 });
    assert.equal(serviceEntry('scorer', { name: 'x' }, NOW), undefined);
  });

  test("each part's key figures read from the stats it publishes, and missing fields do not break the line", () => {
    assert.equal(
      keyStats('shipper', { inFlight: 2, jails: { sshd: { linesRead: 100, published: 7 }, web: { linesRead: 5, published: 1 } }, failed: { nginx: 'no filter' } }),
      'jails 2, lines 105, published 8, in flight 2, failed jails 1',
    );
    assert.equal(keyStats('scorer', { redis: 'down', jails: 1, failures: 3, bans: 0, inFlight: 4 }), 'redis down, jails 1, failures 3, bans 0, in flight 4');
    assert.equal(
      keyStats('enforcer', { phase: 'live', activeBans: 3, kernel: { 'nftables/sshd': 2, 'nftables/.other': 1 }, streamSequence: 42, refused: { allowlisted: 1 } }),
      'live, active bans 3, kernel entries 3, stream seq 42, refused 1',
    );
    assert.equal(keyStats('enforcer', { starting: true }), 'starting');
    assert.equal(keyStats('scorer', null), 'redis ?, jails 0, failures 0, bans 0, in flight 0');
  });

  test('an enforcer whose xt_recent list or ipset set is full says which one, how full, and how many adds it refused', () => {
    const stats = {
      phase: 'live', activeBans: 103, kernel: { 'xt_recent/sshd': 100 }, streamSequence: 103, refused: { set_full: 4 },
      backends: {
        xt_recent: { ipListTot: 100, entriesPerList: { 'fleetban-sshd-v4-600s': 100, 'fleetban-sshd-v4-60s': 3 }, full: [{ name: 'fleetban-sshd-v4-600s', entries: 100, capacity: 100, refused: 3 }] },
        ipset: { maxelem: 3, full: [{ name: 'fleetban-web-a4', entries: 3, capacity: 3, refused: 1 }] },
        nftables: { full: [] },
      },
    };
    assert.equal(
      keyStats('enforcer', stats),
      'live, active bans 103, kernel entries 100, stream seq 103, refused 4, xt_recent list fleetban-sshd-v4-600s full 100/100 (3 adds refused), ipset set fleetban-web-a4 full 3/3 (1 add refused)',
    );
    const lines = renderServices([serviceEntry('enforcer', reply('fleetban-enforcer', 'edge-1', stats), NOW)!]).split('\n');
    assert.match(lines[1]!, /^enforcer +edge-1 .* xt_recent list fleetban-sshd-v4-600s full 100\/100 \(3 adds refused\)/);
    assert.equal(keyStats('enforcer', { phase: 'live', backends: { xt_recent: { full: 'not a list' } } }), 'live, active bans 0, kernel entries 0, stream seq 0');
  });

  test('the table lists shippers, then scorers, then enforcers, by host', () => {
    const entries = sortEntries([
      serviceEntry('enforcer', reply('fleetban-enforcer', 'proxy-1', { phase: 'live' }), NOW)!,
      serviceEntry('shipper', reply('fleetban-shipper', 'web-2', {}), NOW)!,
      serviceEntry('shipper', reply('fleetban-shipper', 'web-1', {}), NOW)!,
    ]);
    assert.deepEqual(entries.map((e) => e.host), ['web-1', 'web-2', 'proxy-1']);
    const lines = renderServices(entries).split('\n');
    assert.match(lines[0]!, /^PART +HOST +VERSION +UPTIME +ID +STATS$/);
    assert.match(lines[1]!, /^shipper +web-1 +0\.1\.0 +3m12s +ID-web-1 +jails 0, lines 0, published 0, in flight 0$/);
  });
});

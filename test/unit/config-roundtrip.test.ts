import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { stringify } from 'yaml';
import { formatConfig, parseConfig, type Config } from '../../shared/config/index.ts';
import { formatDuration, MAX_DURATION } from '../../shared/time/index.ts';

/**
 * `config check` prints the resolved configuration; saved as a file, it must
 * read back to the same configuration. Configurations are generated over every
 * section, with durations in the forms users write them.
 */

const parse = (text: string) => parseConfig(text, 'gen.yaml', { hostname: 'gen-host' });

/** A duration in ms, written as plain seconds, fail2ban units or a sub-second form. */
const duration = (min: number, max: number) =>
  fc.integer({ min, max }).chain((ms) =>
    fc.constantFrom<string | number>(formatDuration(ms), ...(ms % 1000 === 0 ? [ms / 1000, String(ms / 1000)] : [`${ms / 1000}s`])),
  );
const SECOND = 1000;
const DAY = 86_400_000;

const jail = fc.record(
  {
    enabled: fc.boolean(),
    filter: fc.constantFrom('sshd', 'sshd[mode=aggressive]', '/etc/fail2ban/filter.d/nginx-http-auth.conf'),
    logpath: fc.array(fc.constantFrom('/var/log/auth.log', '/var/log/secure*', '/var/log/nginx/error.log'), { maxLength: 2 }),
    backend: fc.constantFrom('auto', 'file', 'polling', 'systemd'),
    maxretry: fc.integer({ min: 1, max: 1_000_000 }),
    findtime: duration(SECOND, 30 * DAY),
    bantime: fc.oneof(duration(SECOND, 400 * DAY), fc.constant(-1)),
    'bantime.increment': fc.constantFrom(true, false, 'yes', 'off'),
    'bantime.factor': fc.oneof(fc.double({ min: 0.001, max: 1e300, noNaN: true }), fc.integer({ min: 1, max: 10 })),
    'bantime.formula': fc.constantFrom('ban.Time * (1<<(ban.Count if ban.Count<20 else 20)) * banFactor', 'ban.Time * math.exp(float(ban.Count+1)*banFactor)/math.exp(1*banFactor)'),
    'bantime.multipliers': fc.array(fc.oneof(fc.integer({ min: 0, max: 100_000 }), fc.constantFrom(0.5, 1.5)), { minLength: 1, maxLength: 8 }),
    'bantime.maxtime': duration(SECOND, 5 * 7 * DAY),
    'bantime.rndtime': duration(SECOND, DAY),
    'bantime.overalljails': fc.boolean(),
    dbpurgeage: duration(SECOND, 30 * DAY),
    ignoreip: fc.array(fc.constantFrom('127.0.0.1/8', '::1', '192.0.2.0/24', '2001:db8::/32', '198.51.100.7'), { maxLength: 3 }),
    port: fc.array(fc.constantFrom('ssh', '22', '1000:2000', 'https', 2222), { maxLength: 3 }),
    protocol: fc.constantFrom('tcp', 'udp', 'sctp', 'all'),
    banaction: fc.constantFrom('nftables', 'ipset', 'xt_recent', 'iptables', 'dry-run'),
    blocktype: fc.constantFrom('reject', 'drop'),
    ipv6prefix: fc.integer({ min: 8, max: 128 }),
    maxlines: fc.integer({ min: 1, max: 1000 }),
    datepattern: fc.constantFrom('{^LN-BEG}', '%%Y-%%m-%%d %%H:%%M:%%S'),
    usedns: fc.constantFrom('yes', 'warn', 'no', 'raw'),
  },
  { requiredKeys: [] },
);

const streamSettings = fc.record(
  {
    maxAge: fc.oneof(fc.constant('auto'), fc.constant(0), duration(SECOND, MAX_DURATION)),
    duplicateWindow: duration(SECOND, DAY),
    replicas: fc.integer({ min: 1, max: 5 }),
    maxBytes: fc.integer({ min: -1, max: 2 ** 40 }),
  },
  { requiredKeys: [] },
);

const rawConfig = fc.record(
  {
    prefix: fc.constantFrom('fleetban', 'acme.fleetban', 'a-b_c'),
    host: fc.constantFrom('web-1', 'core.example.net'),
    stateDir: fc.constantFrom('/var/lib/fleetban', '/tmp/x y'),
    nats: fc.record(
      {
        servers: fc.array(fc.constantFrom('nats://127.0.0.1:4222', 'tls://nats.example.net', '10.0.0.1:4223', 'nats://[2001:db8::1]:4222'), { minLength: 1, maxLength: 3 }),
        reconnectWait: duration(1, 60 * SECOND),
        inboxPrefix: fc.constantFrom('_INBOX_shipper', 'fleet.inbox'),
        streams: fc.record({ failures: streamSettings, decisions: streamSettings }, { requiredKeys: [] }),
      },
      { requiredKeys: [] },
    ),
    redis: fc.record({ nodes: fc.constantFrom(['127.0.0.1:6379'], ['[::1]:6380']), db: fc.integer({ min: 0, max: 15 }), keyPrefix: fc.constantFrom('fleetban:', 'x.') }, { requiredKeys: [] }),
    metrics: fc.record({ listen: fc.constantFrom(null, '127.0.0.1:9464', ':9100', 9101, '[::1]:9102') }),
    log: fc.record({ level: fc.constantFrom('info', 'debug', 'silent') }),
    filters: fc.record({ dirs: fc.array(fc.constantFrom('/etc/fleetban/filter.d', '/opt/f'), { maxLength: 2 }) }),
    defaults: fc.record({ bantime: duration(SECOND, 7 * DAY), findtime: duration(SECOND, DAY) }, { requiredKeys: [] }),
    jails: fc.dictionary(fc.constantFrom('sshd', 'recidive', 'nginx-http-auth', 'web_2'), jail, { maxKeys: 3 }),
    shipper: fc.record({ checkInterval: duration(1, 10 * SECOND), stopTimeout: duration(1, 60 * SECOND), maxLineLength: fc.integer({ min: 80, max: 1_048_576 }) }, { requiredKeys: [] }),
    scorer: fc.record({ ackWait: duration(1, 60 * SECOND), statusFlush: duration(1, 5 * SECOND), maxInFlight: fc.integer({ min: 1, max: 100_000 }) }, { requiredKeys: [] }),
    enforcer: fc.record(
      {
        backend: fc.constantFrom('nftables', 'ipset', 'dry-run'),
        maxTimeout: duration(SECOND, 7 * DAY),
        ignoreip: fc.array(fc.constantFrom('203.0.113.0/24', '::ffff:192.0.2.1'), { maxLength: 2 }),
        xtRecent: fc.record({ lists: fc.constantFrom(['1m', '10m'], [60, 3600, 86400]) }, { requiredKeys: [] }),
      },
      { requiredKeys: [] },
    ),
  },
  { requiredKeys: [] },
);

describe("config check's output reads back", () => {
  test('print then parse gives the same configuration, for generated configurations', () => {
    let accepted = 0;
    fc.assert(
      fc.property(rawConfig, (raw) => {
        const first = parse(stringify(raw));
        if (!first.ok) return true;
        accepted++;
        const printed = formatConfig(first.config);
        const second = parse(printed);
        assert.ok(second.ok, `the printed config is refused:\n${second.ok ? '' : JSON.stringify(second.problems)}\n${printed}`);
        assert.deepEqual(second.config, first.config);
        assert.equal(formatConfig(second.config), printed, 'printing again gives the same text');
      }),
      { numRuns: 300 },
    );
    assert.ok(accepted >= 100, `only ${accepted} of 300 generated configurations were valid`);
  });

  test('sub-second durations, permanent bans and the metrics address read back', () => {
    const first = parse('scorer: { statusFlush: 0.5s }\nmetrics: { listen: "[::1]:9100" }\njails:\n  sshd: { bantime: -1 }\n');
    assert.ok(first.ok);
    const printed = formatConfig(first.config);
    assert.match(printed, /statusFlush: 0\.5s/);
    assert.doesNotMatch(printed, /500ms/);
    assert.doesNotMatch(printed, /^\s+name:/m, 'no name key in a jail');
    const second = parse(printed);
    assert.ok(second.ok, second.ok ? '' : JSON.stringify(second.problems));
    assert.deepEqual(second.config, first.config as Config);
  });
});

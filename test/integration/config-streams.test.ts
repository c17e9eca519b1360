import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import { jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/nats-core';
import fc from 'fast-check';
import { stringify } from 'yaml';
import { parseConfig, type Config } from '../../shared/config/index.ts';
import { applyStreams, connectNats, drainNats, ensureStreams, wantedStreams } from '../../shared/nats/index.ts';
import { runPart } from '../../shared/runtime/index.ts';
import { formatDuration, MAX_DURATION } from '../../shared/time/index.ts';
import { cli, freePort, NatsServer, quietLogger, tempDir, testConfig } from '../harness/index.ts';

/**
 * Finding 2 and 7 of issue 15, against a real nats-server: whatever `config
 * check` accepts gives streams the server takes, and a part never changes a
 * stream that exists (only `fleetban streams --apply` does).
 */

const SECOND = 1000;
const DAY = 86_400_000;
const INT64_MAX = 2n ** 63n - 1n;
const log = quietLogger();

/** A duration written as a fail2ban user would, from 1 s to 100 years. */
const anyDuration = (min = SECOND, max = MAX_DURATION) =>
  fc.oneof(
    fc.constantFrom('10m', '1h', '1d', '1w', '5w', '2h27m', '1y', '100y'),
    fc.integer({ min, max }).map((ms) => formatDuration(ms)),
  );

/** fail2ban's stock jail.conf (bantime 10m, findtime 10m, maxretry 5, recidive 1w/1d, increment defaults), then varied. */
const jail = fc.record(
  {
    bantime: fc.oneof(fc.constantFrom<string | number>('10m', '1w', -1), anyDuration()),
    findtime: fc.oneof(fc.constantFrom('10m', '1d'), anyDuration(SECOND, 400 * DAY)),
    maxretry: fc.constant(5),
    'bantime.increment': fc.boolean(),
    'bantime.factor': fc.oneof(fc.constant(1), fc.double({ min: 1e-3, max: 1e300, noNaN: true })),
    'bantime.formula': fc.constantFrom('ban.Time * (1<<(ban.Count if ban.Count<20 else 20)) * banFactor', 'ban.Time * ban.Count * banFactor'),
    'bantime.multipliers': fc.array(fc.integer({ min: 1, max: 1_000_000 }), { minLength: 1, maxLength: 7 }),
    'bantime.maxtime': fc.oneof(fc.constant('5w'), anyDuration()),
    'bantime.rndtime': anyDuration(SECOND, 30 * DAY),
  },
  { requiredKeys: ['bantime', 'findtime'] },
);
const maxAge = fc.oneof(fc.constant('auto'), fc.constant(0), anyDuration());
const settings = fc.record({
  jails: fc.dictionary(fc.constantFrom('sshd', 'recidive', 'web'), jail, { minKeys: 1, maxKeys: 3 }),
  streams: fc.record({ failures: fc.record({ maxAge }), decisions: fc.record({ maxAge }) }),
});

function accepted(s: { jails: Record<string, unknown>; streams: unknown }, prefix: string, url: string): Config | undefined {
  const result = parseConfig(stringify({ prefix, nats: { servers: [url], streams: s.streams }, jails: s.jails }), 'gen.yaml', { hostname: 'h' });
  return result.ok ? result.config : undefined;
}

describe('streams from every configuration that config check accepts', () => {
  let nats: NatsServer;
  let nc: NatsConnection;
  let jsm: JetStreamManager;
  before(async () => {
    nats = await NatsServer.start();
    nc = await connectNats(testConfig({ nats: { servers: [nats.url] } }).nats, { name: 't', log, mode: 'command' });
    jsm = await jetstreamManager(nc);
  });
  after(async () => {
    await drainNats(nc);
    await nats.dispose();
  });

  test('max_age is whole int64 nanoseconds, 0 for a permanent ban, and never shorter than the longest ban', () => {
    fc.assert(
      fc.property(settings, (s) => {
        const config = accepted(s, 'p', 'nats://127.0.0.1:4222');
        if (!config) return;
        for (const stream of Object.values(wantedStreams(config))) {
          for (const ns of [stream.max_age, stream.duplicate_window]) {
            assert.ok(Number.isInteger(ns) && ns >= 0 && BigInt(ns) <= INT64_MAX, `${stream.name}: ${ns} ns`);
            assert.doesNotMatch(JSON.stringify(ns), /e/i, 'JSON without an exponent');
          }
        }
        const permanent = Object.values(config.jails).some((j) => j.bantime === -1);
        const decisions = wantedStreams(config).decisions.max_age;
        if (permanent && config.nats.streams.decisions.maxAge === 'auto') assert.equal(decisions, 0);
      }),
      { numRuns: 1000 },
    );
  });

  test('the server creates and updates both streams for every accepted configuration', async () => {
    let run = 0;
    let used = 0;
    await fc.assert(
      fc.asyncProperty(settings, settings, async (first, second) => {
        const prefix = `gen${run++}`;
        const a = accepted(first, prefix, nats.url);
        const b = accepted(second, prefix, nats.url);
        if (!a || !b) return;
        used++;
        try {
          await ensureStreams(nc, a, log);
          const { decisions, failures } = await applyStreams(nc, b, log);
          const want = wantedStreams(b);
          assert.equal(decisions.config.max_age, want.decisions.max_age);
          assert.equal(failures.config.max_age, want.failures.max_age);
          const again = await ensureStreams(nc, b, log);
          assert.deepEqual(again.checks.map((c) => c.differs), [[], []], 'applied streams are as wanted');
        } finally {
          for (const name of [`${prefix}_failures`, `${prefix}_decisions`]) await jsm.streams.delete(name).catch(() => undefined);
        }
      }),
      { numRuns: 60 },
    );
    assert.ok(used >= 20, `only ${used} of 60 pairs of configurations were accepted`);
  });

  const partStarts = async (text: string): Promise<{ code: number; out: string }> => {
    const dir = tempDir();
    const lines: string[] = [];
    const sink = new Writable({ write: (chunk, _e, cb) => (lines.push(String(chunk)), cb()) });
    try {
      const file = join(dir.path, 'fleetban.yaml');
      writeFileSync(file, text);
      const stop = new AbortController();
      const code = await runPart({
        part: 'shipper',
        description: 't',
        configFile: file,
        stopSignal: stop.signal,
        logDestination: sink,
        start: async () => {
          stop.abort();
          return { stats: () => ({}), stop: async () => undefined };
        },
      });
      return { code, out: lines.join('') };
    } finally {
      dir.remove();
    }
  };

  for (const [what, jailYaml] of [
    ['bantime.increment with bantime 2h27m', '{ bantime: 2h27m, bantime.increment: true }'],
    ['bantime.increment with bantime 1y', '{ bantime: 1y, bantime.increment: true }'],
    ['bantime.factor 1e300', '{ bantime.increment: true, bantime.factor: 1e300 }'],
    ["fail2ban's recidive with increment and no maxtime", '{ bantime: 1w, findtime: 1d, bantime.increment: true }'],
    ['a formula and no maxtime', '{ bantime.increment: true, bantime.formula: "ban.Time * ban.Count" }'],
  ] as const) {
    test(`a part starts with ${what} (streams created, no crash)`, async () => {
      const prefix = `start${what.replace(/[^a-z0-9]/gi, '').slice(0, 20)}`;
      const { code, out } = await partStarts(`prefix: ${prefix}\nnats: { servers: ["${nats.url}"] }\njails:\n  sshd: ${jailYaml}\n`);
      assert.equal(code, 0, out);
      const info = await jsm.streams.info(`${prefix}_decisions`);
      assert.ok(info.config.max_age > 0 && info.config.max_age <= (MAX_DURATION + DAY) * 1e6, String(info.config.max_age));
    });
  }

  test("a part never shortens a stream: an operator's longer retention stays", async () => {
    const prefix = 'keep';
    const operator = testConfig({ prefix, nats: { servers: [nats.url], streams: { decisions: { maxAge: '30d' }, failures: { maxAge: '2d' } } } });
    await applyStreams(nc, operator, log);
    // A shipper with two short jails: its own config would want about a day.
    const { code, out } = await partStarts(`prefix: ${prefix}\nnats: { servers: ["${nats.url}"] }\njails: { sshd: {}, web: { bantime: 1h } }\n`);
    assert.equal(code, 0, out);
    assert.equal((await jsm.streams.info(`${prefix}_decisions`)).config.max_age, 30 * DAY * 1e6);
    assert.equal((await jsm.streams.info(`${prefix}_failures`)).config.max_age, 2 * DAY * 1e6);
  });

  test('a part whose jails need longer retention warns, exposes it in metrics, and leaves the stream to the operator', async () => {
    const prefix = 'short';
    await applyStreams(nc, testConfig({ prefix, nats: { servers: [nats.url], streams: { decisions: { maxAge: '2h' } } } }), log);
    const port = await freePort();
    const dir = tempDir();
    const lines: string[] = [];
    const sink = new Writable({ write: (chunk, _e, cb) => (lines.push(String(chunk)), cb()) });
    try {
      const file = join(dir.path, 'fleetban.yaml');
      writeFileSync(file, `prefix: ${prefix}\nmetrics: { listen: "127.0.0.1:${port}" }\nnats: { servers: ["${nats.url}"] }\njails: { sshd: { bantime: 1w } }\n`);
      const stop = new AbortController();
      let scraped = '';
      const code = await runPart({
        part: 'enforcer',
        description: 't',
        configFile: file,
        stopSignal: stop.signal,
        logDestination: sink,
        start: async () => {
          scraped = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
          stop.abort();
          return { stats: () => ({}), stop: async () => undefined };
        },
      });
      assert.equal(code, 0, lines.join(''));
      const warning = lines.map((l) => JSON.parse(l) as { level: string; msg: string }).find((l) => l.level === 'warn' && /keeps messages for 2h/.test(l.msg));
      assert.ok(warning, `no warning among:\n${lines.join('')}`);
      assert.match(warning.msg, /fleetban streams --apply/);
      assert.match(scraped, /fleetban_enforcer_stream_retention_short\{stream="short_decisions"\} 1/);
      assert.match(scraped, /fleetban_enforcer_stream_retention_short\{stream="short_failures"\} 0/);
      assert.equal((await jsm.streams.info(`${prefix}_decisions`)).config.max_age, 2 * 3_600_000 * 1e6, 'unchanged');
    } finally {
      dir.remove();
    }
  });

  test('fleetban services names a stream that forgets sooner than a running part needs', async () => {
    const prefix = 'shortsvc';
    await applyStreams(nc, testConfig({ prefix, nats: { servers: [nats.url], streams: { decisions: { maxAge: '2h' } } } }), log);
    const dir = tempDir();
    const stop = new AbortController();
    try {
      const file = join(dir.path, 'fleetban.yaml');
      writeFileSync(file, `prefix: ${prefix}\nnats: { servers: ["${nats.url}"] }\njails: { sshd: { bantime: 1w } }\n`);
      let started!: () => void;
      const running = new Promise<void>((resolve) => (started = resolve));
      const part = runPart({
        part: 'enforcer',
        description: 't',
        configFile: file,
        stopSignal: stop.signal,
        logDestination: new Writable({ write: (_c, _e, cb) => cb() }),
        start: async () => (started(), { stats: () => ({ phase: 'live', activeBans: 0 }), stop: async () => undefined }),
      });
      await running;
      const services = await cli('services', '--config', file, '--wait', '500');
      assert.equal(services.code, 0, services.stderr);
      assert.match(services.stdout, /enforcer .*live, .*STREAM RETENTION SHORT: shortsvc_decisions keeps less than this config needs \(fleetban streams --apply\)/);
      assert.doesNotMatch(services.stdout, /shortsvc_failures/);
      stop.abort();
      assert.equal(await part, 0);
    } finally {
      stop.abort();
      dir.remove();
    }
  });

  test('fleetban streams --apply (applyStreams) updates a stream, also to a shorter retention the config allows', async () => {
    const prefix = 'apply';
    await applyStreams(nc, testConfig({ prefix, nats: { servers: [nats.url], streams: { decisions: { maxAge: '30d' } } } }), log);
    const { decisions } = await applyStreams(nc, testConfig({ prefix, nats: { servers: [nats.url], streams: { decisions: { maxAge: '2d', duplicateWindow: '5m' } } } }), log);
    assert.equal(decisions.config.max_age, 2 * DAY * 1e6);
    assert.equal(decisions.config.duplicate_window, 5 * 60 * 1e9);
  });
});

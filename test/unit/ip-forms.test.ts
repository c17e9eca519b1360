import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import ipaddr from 'ipaddr.js';
import { manualTarget } from '../../services/cli/manual.ts';
import { guardTarget } from '../../services/enforcer/core/guard.ts';
import { readTarget as enforcerReadTarget } from '../../services/enforcer/core/targets.ts';
import { enforcedSets } from '../../services/enforcer/sets.ts';
import { gate, jailAllowlist } from '../../services/shipper/gate.ts';
import { addressList } from '../../shared/config/schema/fields.ts';
import { buildFilter } from '../../shared/filter/filter.ts';
import { canonicalAddress } from '../../shared/filter/ipaddr.ts';
import { Allowlist, canonicalIp, LOOPBACK_NETWORKS, parseTarget, readCanonical, tryCanonicalIp } from '../../shared/ip/index.ts';
import { decisionCodec, failureCodec, type Decision, type FailureEvent } from '../../shared/schema/index.ts';
import { testConfig } from '../harness/index.ts';

/**
 * Every spelling of an address through every path that reads one: the
 * filter (a log line), the bus (failure and decision schemas on receive),
 * the CLI, the config's ignoreip, and the enforcer's guard. One parser
 * decides, so each path must give the same verdict and the same canonical
 * text, and the allowlist the same answer, for every spelling.
 */

/** An address as a model: its family and value; the expected canonical text is computed with ipaddr.js, not with shared/ip. */
interface Model {
  family: 4 | 6;
  bytes: number[];
}

/** What shared/ip must answer, from an independent implementation: IPv4-mapped is IPv4, IPv6 is RFC 5952. */
function expected(m: Model): { family: 4 | 6; text: string } {
  if (m.family === 6 && m.bytes.slice(0, 10).every((b) => b === 0) && m.bytes[10] === 0xff && m.bytes[11] === 0xff) {
    return { family: 4, text: m.bytes.slice(12).join('.') };
  }
  if (m.family === 4) return { family: 4, text: m.bytes.join('.') };
  return { family: 6, text: ipaddr.fromByteArray(m.bytes).toString() };
}

const byte = fc.integer({ min: 0, max: 255 });
/** Bytes biased to zero, so runs of zero groups (and `::`) are common. */
const v6byte = fc.oneof({ weight: 2, arbitrary: fc.constant(0) }, { weight: 1, arbitrary: fc.constant(0xff) }, { weight: 3, arbitrary: byte });
const v4model = fc.oneof(
  fc.tuple(byte, byte, byte, byte),
  fc.tuple(fc.constant(127), byte, byte, byte), // loopback
  fc.tuple(fc.constant(203), fc.constant(0), fc.constant(113), byte),
).map((b): Model => ({ family: 4, bytes: [...b] }));
const v6model = fc.oneof(
  fc.array(v6byte, { minLength: 16, maxLength: 16 }),
  fc.constant<number[]>([...new Array<number>(15).fill(0), 1]), // ::1
  fc.tuple(byte, byte, byte, byte).map((v4) => [...new Array<number>(10).fill(0), 0xff, 0xff, ...v4]), // mapped
).map((bytes): Model => ({ family: 6, bytes }));

/** A hex group: any case per digit, padded with leading zeros up to four digits. */
function hexGroup(value: number, pad: number, upper: boolean[]): string {
  const hex = value.toString(16).padStart(Math.max(pad, 1), '0');
  return [...hex].map((c, i) => (upper[i] ? c.toUpperCase() : c)).join('');
}

const groupStyle = fc.record({ pad: fc.integer({ min: 0, max: 4 }), upper: fc.array(fc.boolean(), { minLength: 4, maxLength: 4 }) });

/** Writes 16-bit groups with `::` at a chosen zero run (or none), styled per group, and optionally the last 32 bits dotted. */
function writeV6(groups: number[], styles: Array<{ pad: number; upper: boolean[] }>, gapChoice: number, dotted: boolean): string {
  const tailGroups = dotted ? 6 : 8;
  const runs: Array<[number, number]> = [];
  for (let i = 0; i < tailGroups; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < tailGroups && groups[j] === 0) j++;
    for (let a = i; a < j; a++) for (let b = a + 1; b <= j; b++) runs.push([a, b]);
    i = j;
  }
  const cell = (i: number) => hexGroup(groups[i]!, styles[i]!.pad, styles[i]!.upper);
  const tail = dotted ? [`${groups[6]! >> 8}.${groups[6]! & 255}.${groups[7]! >> 8}.${groups[7]! & 255}`] : [];
  const gap = runs.length === 0 || gapChoice % (runs.length + 1) === runs.length ? undefined : runs[gapChoice % (runs.length + 1)];
  if (!gap) return [...Array.from({ length: tailGroups }, (_, i) => cell(i)), ...tail].join(':');
  const head = Array.from({ length: gap[0] }, (_, i) => cell(i));
  const rest = [...Array.from({ length: tailGroups - gap[1] }, (_, i) => cell(gap[1] + i)), ...tail];
  return `${head.join(':')}::${rest.join(':')}`;
}

/** An address model and one of its spellings. */
const spelled = fc
  .tuple(fc.oneof(v4model, v6model), fc.array(groupStyle, { minLength: 8, maxLength: 8 }), fc.nat(), fc.boolean(), fc.boolean())
  .map(([m, styles, gapChoice, dotted, asMapped]) => {
    if (m.family === 4 && !asMapped) return { model: m, text: m.bytes.join('.') };
    // IPv4 written as IPv4-mapped IPv6, or IPv6 as it is.
    const bytes = m.family === 4 ? [...new Array<number>(10).fill(0), 0xff, 0xff, ...m.bytes] : m.bytes;
    const groups = Array.from({ length: 8 }, (_, i) => (bytes[2 * i]! << 8) | bytes[2 * i + 1]!);
    return { model: m, text: writeV6(groups, styles, gapChoice, dotted) };
  });

/** Ways to break a spelling that every path must refuse. */
const broken = fc.oneof(
  fc.tuple(spelled, fc.constantFrom('%eth0', '%1', '%lo')).map(([s, zone]) => `${s.text}${zone}`),
  fc.tuple(v4model, fc.nat(3)).map(([m, i]) => m.bytes.map((b, j) => (j === i && b < 100 ? `0${b}` : String(b))).join('.')).filter((t) => /(^|\.)0\d/.test(t)),
  fc.tuple(v4model, fc.nat(3)).map(([m, i]) => `::ffff:${m.bytes.map((b, j) => (j === i ? `0${b}` : String(b))).join('.')}`),
  fc.constantFrom('127.1', '0x7f.0.0.1', '2130706433', ' 192.0.2.1', '192.0.2.1 ', '1::2::3', '12345::', 'example.com', '::ffff:1.2.3'),
);

const NOW = Date.UTC(2025, 5, 1, 12, 0, 0);
const logFilter = buildFilter({ name: 'forms', failregex: ['^\\s*failure from <HOST>$'], ignoreregex: [], journalmatch: [], files: [] }, { timezone: 'UTC' });
const addrFilter = buildFilter({ name: 'forms-addr', failregex: ['^\\s*failure from <ADDR>$'], ignoreregex: [], journalmatch: [], files: [] }, { timezone: 'UTC' });

/** The address a log line yields through the real filter engine, or undefined when it yields none. */
function fromLogLine(filter: typeof logFilter, text: string): string | undefined {
  const hits = filter.matcher().push(`2025-06-01 11:59:00 failure from ${text}`, NOW);
  return hits.length === 1 ? hits[0]!.ip : undefined;
}

/** Spellings fail2ban's address regexes are known to match whole (checked against the real filter engine). */
function logRegexTakes(text: string): boolean {
  return text !== '::' && (!text.includes('.') || /^::ffff:[\d.]+$/.test(text));
}

const failure: FailureEvent = { v: 1, id: 'f-1', jail: 'sshd', ip: '192.0.2.1', time: NOW, host: 'web-1', source: '/var/log/auth.log' };
const ban: Decision = { v: 1, id: 'd-1', action: 'ban', jail: 'sshd', target: '192.0.2.1', time: NOW, duration: 600_000, origin: 'scorer' };

/** The verdict of every path for one text: the canonical text each gives, or undefined where it refuses. */
function everyPath(text: string): Record<string, string | undefined> {
  const attempt = (fn: () => string | undefined) => {
    try {
      return fn();
    } catch {
      return undefined;
    }
  };
  const f = failureCodec.check({ ...failure, ip: text });
  const d = decisionCodec.check({ ...ban, target: text });
  const config = addressList.safeParse([text]);
  return {
    canonicalIp: tryCanonicalIp(text),
    parseTarget: attempt(() => parseTarget(text).text),
    'readCanonical (or the strict parser)': attempt(() => readCanonical(text)?.target.text ?? parseTarget(text).text),
    'filter seam': canonicalAddress(text),
    'log line <HOST>': fromLogLine(logFilter, text),
    'log line <ADDR>': fromLogLine(addrFilter, text),
    'bus: failure schema': f.ok ? f.value.ip : undefined,
    'bus: decision schema': d.ok ? d.value.target : undefined,
    'CLI ban target': attempt(() => manualTarget(text).text),
    'config ignoreip': config.success ? config.data[0] : undefined,
    'enforcer read': attempt(() => enforcerReadTarget(text).target.text),
  };
}

const RUNS = { numRuns: 1500 };

describe('every address form through every path, one parser deciding', () => {
  test('each spelling of an address gets the same canonical text on every path', () => {
    fc.assert(
      fc.property(spelled, ({ model, text }) => {
        const want = expected(model).text;
        const got = everyPath(text);
        for (const [path, value] of Object.entries(got)) {
          // fail2ban's <HOST>/<ADDR> regexes do not match every spelling (a dotted tail after anything but `::ffff:`,
          // the bare `::`): such a line is no failure, in fail2ban as here. What they match must read the same.
          if (path.startsWith('log line') && value === undefined && !logRegexTakes(text)) continue;
          assert.equal(value, want, `${path} read "${text}"`);
        }
      }),
      RUNS,
    );
  });

  test('what one path refuses every path refuses: zones, leading zeros in IPv4 parts, loose forms', () => {
    fc.assert(
      fc.property(broken, (text) => {
        for (const [path, value] of Object.entries(everyPath(text))) assert.equal(value, undefined, `${path} took "${text}" as ${value}`);
      }),
      RUNS,
    );
  });

  test('the fast path agrees with the strict parser on any text at all', () => {
    // The RFC 5952 text of an IPv4-mapped address looks canonical, but is not the address's canonical form.
    const mappedHex = fc.tuple(byte, byte, byte, byte).map((b) => `::ffff:${((b[0] << 8) | b[1]).toString(16)}:${((b[2] << 8) | b[3]).toString(16)}`);
    const anyText = fc.oneof(
      spelled.map((s) => s.text),
      mappedHex,
      broken,
      fc.string({ unit: fc.constantFrom(...'0123456789abcdefABCDEF:.%/ x'.split('')), maxLength: 48 }),
    );
    fc.assert(
      fc.property(anyText, (text) => {
        const fast = readCanonical(text);
        const strict = tryCanonicalIp(text);
        if (fast) {
          assert.equal(fast.target.text, text, 'the fast path only takes canonical text');
          assert.equal(strict, text, `the strict parser reads "${text}" as ${strict}`);
          assert.deepEqual(fast.target, parseTarget(text));
          assert.equal(fast.bits, enforcerReadTarget(text).bits);
        } else {
          assert.notEqual(strict, text, `"${text}" is canonical, so the fast path must take it`);
        }
      }),
      { numRuns: 5000 },
    );
  });

  test('the loopback guard and an allowlist answer the same for every spelling, on the shipper, the CLI and the enforcer', () => {
    const config = testConfig({ enforcer: { ignoreip: ['203.0.113.0/28'] }, jails: { sshd: { ignoreip: ['::ffff:c633:6400/120'] } } });
    const [set] = enforcedSets(config, []);
    const traits = { maxTimeoutMs: 1e9, permanent: true, expiresOnItsOwn: true, networks: 'overlapping', granularityMs: 1 } as const;
    const loopback = new Allowlist(LOOPBACK_NETWORKS);
    const shipper = jailAllowlist(config.jails.sshd!, []);
    const where = { id: 'x', source: 's', now: NOW };
    fc.assert(
      fc.property(spelled, ({ model, text }) => {
        const want = expected(model).text;
        const isLoopback = loopback.has(want);
        assert.equal(loopback.has(text), isLoopback, `loopback for "${text}"`);
        const allowed = set!.allowlist.has(want);
        assert.ok(!isLoopback || allowed);
        const guard = guardTarget(text, set!, traits);
        assert.equal(!guard.ok && guard.reason, allowed ? 'allowlisted' : false, `enforcer guard for "${text}"`);
        if (guard.ok) assert.equal(guard.target.text, want);
        const shipped = gate({ jail: 'sshd', findtime: 600_000, host: 'h', allowlist: shipper }, { ip: text, time: NOW, lines: ['l'] }, where);
        assert.equal(shipped.publish, !shipper.has(want), `shipper gate for "${text}"`);
        if (shipped.publish) assert.equal(shipped.event.ip, want);
      }),
      RUNS,
    );
  });

  test('CIDRs of every prefix length: same network on every path, mapped networks as IPv4 /n-96, short mapped prefixes refused', () => {
    const cidr = fc.tuple(spelled, fc.integer({ min: 0, max: 128 })).map(([s, prefix]) => ({ ...s, prefix }));
    fc.assert(
      fc.property(cidr, ({ model, text, prefix }) => {
        const input = `${text}/${prefix}`;
        const want = expected(model);
        const writtenMapped = want.family === 4 && text.includes(':');
        const width = want.family === 4 ? 32 : 128;
        const effective = writtenMapped ? prefix - 96 : prefix;
        let wantText: string | undefined;
        if (effective >= 0 && effective <= width) {
          const addr = ipaddr.parse(want.text);
          const bytes = addr.toByteArray().map((b, i) => b & (0xff << (8 - Math.max(0, Math.min(8, effective - i * 8)))) & 0xff);
          const net = want.family === 4 ? bytes.join('.') : ipaddr.fromByteArray(bytes).toString();
          wantText = effective === width ? net : `${net}/${effective}`;
        }
        const d = decisionCodec.check({ ...ban, target: input });
        const config = addressList.safeParse([input]);
        const attempt = (fn: () => string) => {
          try {
            return fn();
          } catch {
            return undefined;
          }
        };
        const paths = {
          parseTarget: attempt(() => parseTarget(input).text),
          'bus: decision schema': d.ok ? d.value.target : undefined,
          'CLI ban target': attempt(() => manualTarget(input).text),
          'config ignoreip': config.success ? config.data[0] : undefined,
          'enforcer read': attempt(() => enforcerReadTarget(input).target.text),
        };
        for (const [path, value] of Object.entries(paths)) assert.equal(value, wantText, `${path} read "${input}"`);
      }),
      RUNS,
    );
  });

  test('examples of finding 4: the hex IPv4-mapped form is the IPv4 address on every path', () => {
    for (const [text, want] of [['::ffff:cb00:7108', '203.0.113.8'], ['::ffff:7f00:1', '127.0.0.1'], ['::FFFF:CB00:7108', '203.0.113.8']] as const) {
      for (const [path, value] of Object.entries(everyPath(text))) assert.equal(value, want, `${path} read "${text}"`);
    }
    assert.equal(canonicalIp('::ffff:7f00:1'), '127.0.0.1');
  });

  test('config: ignoreip and defaults.ignoreip in mapped spellings are their IPv4 entries', () => {
    const config = testConfig({ defaults: { ignoreip: '::ffff:cb00:7108 ::ffff:c000:200/120' }, jails: { sshd: {}, web: { ignoreip: ['::FFFF:203.0.113.9'] } } });
    assert.deepEqual(config.defaults.ignoreip, ['203.0.113.8', '192.0.2.0/24']);
    assert.deepEqual(config.jails.sshd!.ignoreip, ['203.0.113.8', '192.0.2.0/24']);
    assert.deepEqual(config.jails.web!.ignoreip, ['203.0.113.9']);
    assert.throws(() => testConfig({ jails: { sshd: { ignoreip: ['fe80::1%eth0'] } } }), /jails\.sshd\.ignoreip.*not an IP address or CIDR/);
    assert.throws(() => testConfig({ defaults: { ignoreip: '010.0.0.1' } }), /defaults\.ignoreip.*not an IP address or CIDR/);
  });
});

import { appendFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/nats-core';
import { canonicalIp } from '../../shared/ip/index.ts';
import { decisionCodec, failureCodec, subjectsFor, type Decision, type FailureEvent } from '../../shared/schema/index.ts';
import { metric, until } from './stats.ts';

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
function syslogDate(d: Date): string {
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${MONTHS[d.getMonth()]} ${String(d.getDate()).padStart(2, ' ')} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

/** `count` sshd lines dated now, one in `every` a failure from a distinct documentation address. */
function sshdChunk(start: number, count: number, every: number): string {
  const date = syslogDate(new Date());
  let out = '';
  for (let i = start; i < start + count; i++) {
    out += i % every === 0
      ? `${date} web-1 sshd[${1000 + (i % 5000)}]: Failed password for invalid user u${i} from 198.51.${(i >> 8) & 255}.${i & 255} port ${1024 + (i % 60000)} ssh2\n`
      : `${date} web-1 sshd[${1000 + (i % 5000)}]: Accepted publickey for deploy from 203.0.113.${i & 255} port ${1024 + (i % 60000)} ssh2: ED25519 SHA256:abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG\n`;
  }
  return out;
}

/**
 * Appends `rate` lines/s to `log` for `seconds` (ten appends a second), then
 * waits until the shipper has read them all. Returns the rate it read at,
 * from the first append to the last line read.
 */
export async function shipperLoad(log: string, metricsPort: number, opts: { rate: number; seconds: number; every: number }): Promise<{ linesPerSecond: number; lines: number }> {
  const perTick = Math.round(opts.rate / 10);
  const before = await metric(metricsPort, 'fleetban_shipper_lines_read_total');
  const t0 = performance.now();
  let written = 0;
  for (let tick = 0; tick < opts.seconds * 10; tick++) {
    appendFileSync(log, sshdChunk(written, perTick, opts.every));
    written += perTick;
    const next = t0 + (tick + 1) * 100;
    const wait = next - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
  }
  await until(async () => (await metric(metricsPort, 'fleetban_shipper_lines_read_total')) - before >= written, 10 * 60_000, 'every line read');
  return { linesPerSecond: written / ((performance.now() - t0) / 1000), lines: written };
}

/** Publishes `count` failures over `addresses` addresses, then waits until the scorer has acknowledged them all. */
export async function scorerLoad(nc: NatsConnection, count: number, addresses: number): Promise<{ perSecond: number }> {
  const js = jetstream(nc);
  const jsm = await jetstreamManager(nc);
  const subjects = subjectsFor('fleetban');
  const now = Date.now();
  const t0 = performance.now();
  let seed = 7;
  for (let i = 0; i < count; i += 500) {
    const batch: Promise<unknown>[] = [];
    for (let j = i; j < Math.min(count, i + 500); j++) {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      const a = Math.floor((seed / 2147483648) * addresses);
      const e: FailureEvent = { v: 1, id: `rt-${now}-${j}`, jail: 'sshd', ip: canonicalIp(`2001:db8:${(a >> 16).toString(16)}::${(a & 0xffff).toString(16)}`), time: now - 1000, host: `web${j % 7}`, source: '/var/log/auth.log' };
      batch.push(js.publish(subjects.fail('sshd'), failureCodec.encode(e), { msgID: e.id }));
    }
    await Promise.all(batch);
  }
  const last = (await jsm.streams.info(subjects.failuresStream)).state.last_seq;
  await until(async () => {
    const info = await jsm.consumers.info(subjects.failuresStream, 'scorer').catch(() => undefined);
    return info !== undefined && info.ack_floor.stream_seq >= last && info.num_ack_pending === 0;
  }, 10 * 60_000, 'every failure acknowledged by the scorer');
  return { perSecond: count / ((performance.now() - t0) / 1000) };
}

/** Publishes `count` ban decisions for distinct addresses, then waits until the enforcer has received them all. */
export async function enforcerLoad(nc: NatsConnection, metricsPort: number, count: number): Promise<{ perSecond: number }> {
  const js = jetstream(nc);
  const before = await metric(metricsPort, 'fleetban_enforcer_decisions_total');
  const now = Date.now();
  const t0 = performance.now();
  for (let i = 0; i < count; i += 500) {
    const batch: Promise<unknown>[] = [];
    for (let j = i; j < Math.min(count, i + 500); j++) {
      const d: Decision = { v: 1, id: `rt-${now}-${j}`, action: 'ban', jail: 'sshd', target: canonicalIp(`2001:db8:e::${(j >> 16).toString(16)}:${(j & 0xffff).toString(16)}`), time: now, duration: 3_600_000, origin: 'scorer' };
      batch.push(js.publish('fleetban.ban.sshd', decisionCodec.encode(d)));
    }
    await Promise.all(batch);
  }
  await until(async () => (await metric(metricsPort, 'fleetban_enforcer_decisions_total')) - before >= count, 10 * 60_000, 'every decision received');
  return { perSecond: count / ((performance.now() - t0) / 1000) };
}

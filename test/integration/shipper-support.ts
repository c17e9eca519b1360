import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { NatsConnection } from '@nats-io/nats-core';
import { stringify } from 'yaml';
import { main } from '../../services/shipper/main.ts';
import { connectNats } from '../../shared/nats/index.ts';
import type { FailureEvent } from '../../shared/schema/index.ts';
import { BIN, quietLogger, readStream, startTracked, testConfig, waitForOutput, type Started } from '../harness/index.ts';

/** The shipper tests' filter (fail2ban format), beside the other fixtures. */
export const FILTER_DIR = join(import.meta.dirname, '..', 'fixtures', 'filters');
export const FILTER = 'fleetban-test';

/** A log line the test filter matches, dated `time` (ISO 8601, as rsyslog writes it). */
export function failLine(user: string, ip: string, time = Date.now()): string {
  return `${new Date(time).toISOString()} web-1 sshd[4242]: Failed password for ${user} from ${ip} port 22 ssh2\n`;
}

/** A line the filter does not match. */
export function otherLine(i: number, time = Date.now()): string {
  return `${new Date(time).toISOString()} web-1 sshd[4242]: Accepted publickey for deploy${i} from 198.51.100.${i % 250} port 22\n`;
}

/** Writes a fleetban.yaml for a shipper test; `jails` use the test filter unless they say otherwise. */
export function shipperConfig(dir: string, natsUrl: string, jails: Record<string, Record<string, unknown>>, extra: Record<string, unknown> = {}): string {
  const file = join(dir, 'fleetban.yaml');
  const settings = {
    host: 'web-1',
    stateDir: join(dir, 'state'),
    nats: { servers: [natsUrl], reconnectWait: '0.2s' },
    log: { level: 'warn' },
    filters: { dirs: [FILTER_DIR] },
    jails: Object.fromEntries(Object.entries(jails).map(([name, jail]) => [name, { filter: FILTER, ...jail }])),
    ...extra,
    shipper: { checkInterval: '0.25s', positionInterval: '0.25s', rotateWait: '0.5s', publishTimeout: '1s', ...(extra.shipper as object | undefined) },
  };
  testConfig(settings);
  writeFileSync(file, stringify(settings));
  return file;
}

/** The shipper in this process, as `fleetban shipper` runs it; `stop()` resolves with its exit code. */
export function shipperInProcess(configFile: string): { stop(): Promise<number>; exit: Promise<number> } {
  const controller = new AbortController();
  const exit = main({ config: configFile, stopSignal: controller.signal });
  return {
    exit,
    stop: () => {
      controller.abort();
      return exit;
    },
  };
}

/** The real `./bin/fleetban shipper` process, once it says it runs. */
export async function shipperProcess(configFile: string): Promise<Started> {
  const started = startTracked(BIN, ['shipper', '--config', configFile]);
  await waitForOutput(started, /fleetban shipper running/, 60_000, 'fleetban shipper');
  return started;
}

export async function natsClient(url: string): Promise<NatsConnection> {
  return connectNats(testConfig({ nats: { servers: [url] } }).nats, { name: 'shipper-test', log: quietLogger(), mode: 'command' });
}

/** Every failure event in the failures stream, with the message id it was stored under. */
export async function storedFailures(nc: NatsConnection): Promise<Array<FailureEvent & { msgId: string | undefined; subject: string }>> {
  return (await readStream(nc, 'fleetban_failures')).map((m) => ({ ...m.json<FailureEvent>(), msgId: m.msgId, subject: m.subject }));
}

export async function until(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** A Prometheus sample's value from the metrics text, or undefined. */
export function sample(text: string, name: string, labels = ''): number | undefined {
  const start = `${name}${labels ? `{${labels}}` : ''} `;
  const line = text.split('\n').find((l) => l.startsWith(start));
  return line === undefined ? undefined : Number(line.slice(start.length));
}

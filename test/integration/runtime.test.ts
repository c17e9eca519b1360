import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { describe, test } from 'node:test';
import { Svcm } from '@nats-io/services';
import { jetstreamManager } from '@nats-io/jetstream';
import { connectNats, drainNats } from '../../shared/nats/index.ts';
import { runPart } from '../../shared/runtime/index.ts';
import { NatsServer, quietLogger, tempDir, testConfig } from '../harness/index.ts';

function writeConfig(dir: string, text: string): string {
  const file = join(dir, 'fleetban.yaml');
  writeFileSync(file, text);
  return file;
}

describe('the life of a part', () => {
  test('a part starts with streams and a service, answers the service API, and stops cleanly when asked', async () => {
    const nats = await NatsServer.start();
    const dir = tempDir();
    try {
      const file = writeConfig(dir.path, `host: core-9\nnats: { servers: ["${nats.url}"] }\nlog: { level: silent }\njails: { sshd: {} }\n`);
      const stop = new AbortController();
      const events: string[] = [];
      const exit = runPart({
        part: 'scorer',
        description: 'test part',
        configFile: file,
        stopSignal: stop.signal,
        async start(ctx) {
          events.push(`start ${ctx.config.host}`);
          ctx.service.endpoint('hello', () => ({ from: ctx.config.host }));
          return { stats: () => ({ ok: 1 }), stop: async () => void events.push('stop') };
        },
      });
      const nc = await connectNats(testConfig({ nats: { servers: [nats.url] } }).nats, { name: 't', log: quietLogger(), mode: 'command' });
      // Asking before the part has registered gets "no responders" at once: poll until a deadline.
      let answered: unknown;
      for (const deadline = Date.now() + 30_000; answered === undefined && Date.now() < deadline; ) {
        answered = await nc.request('fleetban.svc.scorer.hello', '', { timeout: 1000 }).then((m) => m.json(), () => undefined);
        if (answered === undefined) await new Promise((r) => setTimeout(r, 100));
      }
      if (answered === undefined) stop.abort();
      assert.deepEqual(answered, { from: 'core-9' });
      const pings = [];
      for await (const p of await new Svcm(nc).client().ping('fleetban-scorer')) pings.push(p);
      assert.equal(pings.length, 1);
      const jsm = await jetstreamManager(nc);
      assert.equal((await jsm.streams.info('fleetban_failures')).config.name, 'fleetban_failures');
      stop.abort();
      assert.equal(await exit, 0);
      assert.deepEqual(events, ['start core-9', 'stop']);
      await drainNats(nc);
    } finally {
      dir.remove();
      await nats.dispose();
    }
  });

  test('a bad config stops a part before it connects, with exit code 78 and the errors', async () => {
    const dir = tempDir();
    try {
      const file = writeConfig(dir.path, 'jails:\n  sshd:\n    maxretry: lots\n');
      const out = new PassThrough();
      let text = '';
      out.on('data', (c: Buffer) => (text += c.toString()));
      const code = await runPart({ part: 'shipper', description: 't', configFile: file, out, start: () => assert.fail('must not start') });
      assert.equal(code, 78);
      assert.match(text, /fleetban\.yaml:3: jails\.sshd\.maxretry/);
      const ok = writeConfig(dir.path, 'jails: {}\n');
      assert.equal(await runPart({ part: 'shipper', description: 't', configFile: ok, out, checkConfig: true, start: () => assert.fail('must not start') }), 0);
      assert.match(text, /configuration is valid/);
    } finally {
      dir.remove();
    }
  });

  test('a part asked to stop while NATS is still unreachable stops at once', async () => {
    const dir = tempDir();
    try {
      const file = writeConfig(dir.path, 'nats: { servers: ["nats://127.0.0.1:1"] }\nlog: { level: silent }\n');
      const stop = new AbortController();
      const exit = runPart({ part: 'enforcer', description: 't', configFile: file, stopSignal: stop.signal, start: () => assert.fail('must not start') });
      await new Promise((r) => setTimeout(r, 300));
      stop.abort();
      assert.equal(await exit, 0);
    } finally {
      dir.remove();
    }
  });
});

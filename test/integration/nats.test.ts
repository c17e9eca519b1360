import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { jetstreamManager } from '@nats-io/jetstream';
import { createUser } from '@nats-io/nkeys';
import { Svcm } from '@nats-io/services';
import { connectNats, drainNats, applyStreams, ensureStreams, startPartService } from '../../shared/nats/index.ts';
import { subjectsFor } from '../../shared/schema/index.ts';
import { NatsServer, operatorMode, quietLogger, tempDir, testConfig } from '../harness/index.ts';

const log = quietLogger();

describe('connecting to NATS', () => {
  test('connects to a server without auth', async () => {
    const nats = await NatsServer.start();
    try {
      const nc = await connectNats(testConfig({ nats: { servers: [nats.url] } }).nats, { name: 't', log, mode: 'command' });
      assert.equal(nc.isClosed(), false);
      await drainNats(nc);
      assert.equal(nc.isClosed(), true);
    } finally {
      await nats.dispose();
    }
  });

  test('connects with user and password, and a wrong password is refused with a clear error', async () => {
    const nats = await NatsServer.start({ user: { name: 'shipper', password: 'right' } });
    try {
      const good = testConfig({ nats: { servers: [nats.url], user: 'shipper', password: 'right' } }).nats;
      const nc = await connectNats(good, { name: 't', log, mode: 'command' });
      await drainNats(nc);
      const bad = testConfig({ nats: { servers: [nats.url], user: 'shipper', password: 'wrong' } }).nats;
      await assert.rejects(connectNats(bad, { name: 't', log, mode: 'command' }), /cannot connect to NATS at .*(Authorization|auth)/i);
      const none = testConfig({ nats: { servers: [nats.url] } }).nats;
      await assert.rejects(connectNats(none, { name: 't', log, mode: 'command' }), /cannot connect to NATS/);
    } finally {
      await nats.dispose();
    }
  });

  test('connects with a token', async () => {
    const nats = await NatsServer.start({ token: 's3cr3t-token' });
    try {
      const nc = await connectNats(testConfig({ nats: { servers: [nats.url], token: 's3cr3t-token' } }).nats, { name: 't', log, mode: 'command' });
      await drainNats(nc);
    } finally {
      await nats.dispose();
    }
  });

  test('connects with an nkey, given inline or as a seed file; an nkey the server does not list is refused', async () => {
    const listed = createUser();
    const seed = new TextDecoder().decode(listed.getSeed());
    const nats = await NatsServer.start({ extraConfig: `authorization { users: [ { nkey: ${listed.getPublicKey()} } ] }` });
    const dir = tempDir('fleetban-nkey');
    try {
      const inline = await connectNats(testConfig({ nats: { servers: [nats.url], nkeySeed: seed } }).nats, { name: 't', log, mode: 'command' });
      await drainNats(inline);
      const seedFile = join(dir.path, 'nkey.seed');
      writeFileSync(seedFile, `${seed}\n`, { mode: 0o600 });
      const fromFile = await connectNats(testConfig({ nats: { servers: [nats.url], nkeySeedFile: seedFile } }).nats, { name: 't', log, mode: 'command' });
      await drainNats(fromFile);
      const stranger = new TextDecoder().decode(createUser().getSeed());
      await assert.rejects(connectNats(testConfig({ nats: { servers: [nats.url], nkeySeed: stranger } }).nats, { name: 't', log, mode: 'command' }), /Authorization Violation/);
    } finally {
      dir.remove();
      await nats.dispose();
    }
  });

  test('connects with a creds file to a server in operator mode, and works as a client', async () => {
    const auth = operatorMode();
    const nats = await NatsServer.start({ extraConfig: auth.serverConfig });
    const dir = tempDir('fleetban-creds');
    try {
      const credsFile = join(dir.path, 'shipper.creds');
      writeFileSync(credsFile, auth.userCreds, { mode: 0o600 });
      const nc = await connectNats(testConfig({ nats: { servers: [nats.url], credsFile } }).nats, { name: 't', log, mode: 'command' });
      const sub = nc.subscribe('fleetban.test', { max: 1 });
      nc.publish('fleetban.test', 'hello');
      for await (const m of sub) assert.equal(m.string(), 'hello');
      await drainNats(nc);
      await assert.rejects(connectNats(testConfig({ nats: { servers: [nats.url] } }).nats, { name: 't', log, mode: 'command' }), /cannot connect to NATS/);
    } finally {
      dir.remove();
      await nats.dispose();
    }
  });

  test('an unreadable creds file is named in the error', async () => {
    const config = testConfig({ nats: { servers: ['nats://127.0.0.1:1'], credsFile: '/nonexistent/x.creds' } }).nats;
    await assert.rejects(connectNats(config, { name: 't', log, mode: 'command' }), /cannot read the creds file \/nonexistent\/x\.creds/);
  });

  test('a service connection waits for a server that starts late', async () => {
    const nats = await NatsServer.start();
    const url = nats.url;
    await nats.stop();
    const pending = connectNats(testConfig({ nats: { servers: [url], reconnectWait: 1 } }).nats, { name: 't', log, mode: 'service' });
    await new Promise((r) => setTimeout(r, 1500));
    await nats.start();
    const nc = await pending;
    assert.equal(nc.isClosed(), false);
    await drainNats(nc);
    await nats.dispose();
  });
});

describe('the two streams', () => {
  let nats: NatsServer;
  before(async () => {
    nats = await NatsServer.start();
  });
  after(async () => {
    await nats.dispose();
  });

  test('are created with the subjects of the contract and kept as long as the jails need', async () => {
    const config = testConfig({ nats: { servers: [nats.url] }, jails: { sshd: { findtime: '2h', bantime: '1d' } } });
    const nc = await connectNats(config.nats, { name: 't', log, mode: 'command' });
    try {
      const { failures, decisions } = await ensureStreams(nc, config, log);
      assert.deepEqual(failures.config.subjects, ['fleetban.fail.>']);
      assert.deepEqual(decisions.config.subjects, ['fleetban.ban.>', 'fleetban.unban.>']);
      assert.equal(failures.config.max_age, 2 * 3600 * 1e9);
      assert.equal(decisions.config.max_age, 2 * 86400 * 1e9);
    } finally {
      await drainNats(nc);
    }
  });

  test('creating them again changes nothing, even from several clients at once', async () => {
    const config = testConfig({ nats: { servers: [nats.url] }, jails: { sshd: {} } });
    const nc = await connectNats(config.nats, { name: 't', log, mode: 'command' });
    try {
      await ensureStreams(nc, config, log);
      const jsm = await jetstreamManager(nc);
      const js = jsm.jetstream();
      await js.publish('fleetban.fail.sshd', 'x');
      const before = await jsm.streams.info('fleetban_failures');
      await Promise.all([ensureStreams(nc, config, log), ensureStreams(nc, config, log), ensureStreams(nc, config, log)]);
      const after = await jsm.streams.info('fleetban_failures');
      assert.equal(after.state.messages, before.state.messages, 'no messages lost');
      assert.equal(after.created, before.created, 'the stream was not recreated');
      const names: string[] = [];
      for await (const name of jsm.streams.names()) names.push(name);
      assert.deepEqual(names.sort(), ['fleetban_decisions', 'fleetban_failures']);
    } finally {
      await drainNats(nc);
    }
  });

  test('a changed setting is left to the operator by a part, and applied in place by applyStreams', async () => {
    const nc = await connectNats(testConfig({ nats: { servers: [nats.url] } }).nats, { name: 't', log, mode: 'command' });
    try {
      await ensureStreams(nc, testConfig({ prefix: 'changed', nats: { servers: [nats.url] } }), log);
      const changed = testConfig({ prefix: 'changed', nats: { servers: [nats.url], streams: { decisions: { maxAge: '30d', duplicateWindow: '5m' } } } });
      const asPart = await ensureStreams(nc, changed, log);
      assert.equal(asPart.decisions.config.max_age, 86400 * 1e9, 'a part does not change the stream');
      assert.deepEqual(asPart.checks[1]!.differs, ['max_age', 'duplicate_window']);
      const { decisions } = await applyStreams(nc, changed, log);
      assert.equal(decisions.config.max_age, 30 * 86400 * 1e9);
      assert.equal(decisions.config.duplicate_window, 5 * 60 * 1e9);
    } finally {
      await drainNats(nc);
    }
  });

  test('a permanent bantime keeps decisions forever', async () => {
    const config = testConfig({ prefix: 'perm', nats: { servers: [nats.url] }, jails: { sshd: { bantime: -1 } } });
    const nc = await connectNats(config.nats, { name: 't', log, mode: 'command' });
    try {
      const { decisions } = await ensureStreams(nc, config, log);
      assert.equal(decisions.config.max_age, 0);
      assert.equal(decisions.config.name, 'perm_decisions');
    } finally {
      await drainNats(nc);
    }
  });
});

describe('the service API', () => {
  test('a part answers $SRV.PING/INFO/STATS with its host and key figures, and serves its endpoints', async () => {
    const nats = await NatsServer.start();
    const nc = await connectNats(testConfig({ nats: { servers: [nats.url] } }).nats, { name: 't', log, mode: 'command' });
    try {
      const svc = await startPartService(nc, {
        subjects: subjectsFor(),
        part: 'scorer',
        host: 'core-1',
        version: '9.9.9',
        description: 'test',
        log,
        stats: () => ({ processed: 42 }),
      });
      svc.endpoint('echo', (req) => ({ got: req }));
      svc.endpoint('fail', () => {
        throw new Error('nope');
      });
      const client = new Svcm(nc).client();
      const infos = [];
      for await (const info of await client.info('fleetban-scorer')) infos.push(info);
      assert.equal(infos.length, 1);
      assert.equal(infos[0]!.metadata?.host, 'core-1');
      assert.equal(infos[0]!.version, '9.9.9');
      const stats = [];
      for await (const s of await client.stats('fleetban-scorer')) stats.push(s);
      assert.deepEqual(stats[0]!.endpoints?.find((e) => e.name === 'stats')?.data, { processed: 42 });
      const echo = await nc.request(svc.subjectOf('echo'), JSON.stringify({ a: 1 }));
      assert.deepEqual(echo.json(), { got: { a: 1 } });
      const failed = await nc.request(svc.subjectOf('fail'), '');
      assert.equal(failed.headers?.get('Nats-Service-Error'), 'nope');
      await svc.stop();
    } finally {
      await drainNats(nc);
      await nats.dispose();
    }
  });
});

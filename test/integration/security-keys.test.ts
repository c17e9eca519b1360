import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { loadConfig } from '../../shared/config/index.ts';
import { tempDir } from '../harness/index.ts';

const run = promisify(execFile);
const SCRIPT = join(import.meta.dirname, '..', '..', 'infra', 'keys', 'generate.sh');
const SECRET_FILES = /(-key\.pem|\.seed|users\.acl|admin-password|fleetban\.yaml)$/;

describe('infra/keys/generate.sh for a small fleet', () => {
  const dir = tempDir('fleetban-keys');
  const out = join(dir.path, 'out');
  let stdout = '';
  before(async () => {
    ({ stdout } = await run(SCRIPT, [
      '--out', out, '--install-root', '/etc/fleetban/credentials',
      '--identity', 'shipper:web1', '--identity', 'shipper:web2', '--identity', 'scorer:core1', '--identity', 'enforcer:edge1', '--identity', 'cli:alice',
      '--nats-host', 'nats.example.org', '--nats-host', '192.0.2.5', '--nats-listen', '0.0.0.0:4222',
      '--redis-host', 'redis.example.org', '--redis-port', '6380',
    ], { cwd: dir.path, timeout: 120_000 }));
  });
  after(() => dir.remove());

  test('it writes a CA, the two servers\' bundles and one bundle per identity, and says where each goes', () => {
    assert.deepEqual(readdirSync(out).sort(), ['ca', 'cli-alice', 'enforcer-edge1', 'nats-server', 'redis-server', 'scorer-core1', 'shipper-web1', 'shipper-web2']);
    for (const bundle of ['shipper-web1', 'enforcer-edge1']) assert.deepEqual(readdirSync(join(out, bundle)).sort(), ['ca.pem', 'client-key.pem', 'client.pem', 'fleetban.yaml', 'nkey.seed']);
    assert.match(stdout, /shipper web2: copy .*shipper-web2\//);
  });

  test('keys, seeds, passwords and the folders holding them are readable by their owner alone', () => {
    const walk = (path: string): string[] => (statSync(path).isDirectory() ? [path, ...readdirSync(path).flatMap((f) => walk(join(path, f)))] : [path]);
    for (const path of walk(out)) {
      const mode = statSync(path).mode & 0o777;
      if (statSync(path).isDirectory()) assert.equal(mode, 0o700, path);
      else if (SECRET_FILES.test(path)) assert.equal(mode, 0o600, path);
    }
  });

  test('every certificate chains to the CA and is for its use: servers by their names, clients as clients', async () => {
    const ca = join(out, 'ca', 'ca.pem');
    const text = async (cert: string) => (await run('openssl', ['x509', '-in', cert, '-noout', '-text'])).stdout;
    for (const cert of ['nats-server/server.pem', 'redis-server/redis.pem', 'shipper-web1/client.pem', 'cli-alice/client.pem']) {
      assert.match((await run('openssl', ['verify', '-CAfile', ca, join(out, cert)])).stdout, /: OK/, cert);
    }
    const nats = await text(join(out, 'nats-server', 'server.pem'));
    assert.match(nats, /DNS:nats\.example\.org, IP Address:192\.0\.2\.5/);
    assert.match(nats, /TLS Web Server Authentication/);
    const client = await text(join(out, 'shipper-web1', 'client.pem'));
    assert.match(client, /TLS Web Client Authentication/);
    assert.match(client, /OU = shipper, CN = shipper web1/);
    assert.doesNotMatch(client, /CA:TRUE/);
  });

  test('nats-server accepts the generated configuration', async () => {
    // The configuration names the files where they will be installed; here they are still in the output.
    const local = join(out, 'nats-server', 'nats-server.local.conf');
    writeFileSync(local, readFileSync(join(out, 'nats-server', 'nats-server.conf'), 'utf8').replaceAll('/etc/fleetban/credentials', out));
    const { stdout: said, stderr } = await run('nats-server', ['-t', '-c', local]);
    assert.match(said + stderr, /configuration file .* is valid/);
  });

  test('each identity\'s settings load as a fleetban.yaml, with the paths where the bundle will be installed', async () => {
    const scorer = await loadConfig(join(out, 'scorer-core1', 'fleetban.yaml'));
    assert.deepEqual(scorer.nats.servers, ['tls://nats.example.org:4222']);
    assert.equal(scorer.nats.nkeySeedFile, '/etc/fleetban/credentials/scorer-core1/nkey.seed');
    assert.equal(scorer.nats.inboxPrefix, '_INBOX_fleetban_scorer');
    assert.deepEqual(scorer.redis.nodes, ['redis.example.org:6380']);
    assert.equal(scorer.redis.user, 'fleetban-scorer');
    assert.equal(scorer.redis.tls?.servername, 'redis.example.org');
    const shipper = await loadConfig(join(out, 'shipper-web2', 'fleetban.yaml'));
    assert.equal(shipper.nats.tls?.cert, '/etc/fleetban/credentials/shipper-web2/client.pem');
    assert.equal(shipper.redis.user, undefined, 'only the scorer gets Redis credentials');
  });

  test('it refuses an unknown role and an identity given twice', async () => {
    await assert.rejects(run(SCRIPT, ['--out', join(dir.path, 'bad1'), '--identity', 'admin:x']), (err: { code: number; stderr: string }) => (assert.match(err.stderr, /role must be one of shipper, scorer, enforcer, cli/), true));
    await assert.rejects(run(SCRIPT, ['--out', join(dir.path, 'bad2'), '--identity', 'shipper:a', '--identity', 'shipper:a']), (err: { code: number; stderr: string }) => {
      assert.equal(err.code, 2);
      assert.match(err.stderr, /identities given twice: shipper-a/);
      return true;
    });
  });
});

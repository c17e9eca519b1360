import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { inboxPrefixOf, ROLES, rolePermissions } from '../../infra/nats/permissions.ts';
import { renderPermissions, renderServerConfig } from '../../infra/nats/server-config.ts';
import { aclPasswordHash, SCORER_COMMANDS, scorerAclRule } from '../../infra/redis/acl.ts';

const DEFAULTS = { prefix: 'fleetban', scorerConsumer: 'scorer' };

describe('NATS role permissions', () => {
  const perms = rolePermissions(DEFAULTS);

  test('infra/nats/permissions.conf is what the generator writes for the default prefix', () => {
    assert.equal(readFileSync(join(import.meta.dirname, '..', '..', 'infra', 'nats', 'permissions.conf'), 'utf8'), renderPermissions(DEFAULTS));
  });

  test('no role may publish or subscribe to everything, or to every inbox', () => {
    for (const role of ROLES) {
      for (const subject of [...perms[role].publish.allow, ...perms[role].subscribe.allow]) {
        assert.ok(!['>', '*.>', '_INBOX.>', '$JS.API.>', '$JS.>', '$SYS.>'].includes(subject), `${role}: ${subject}`);
        assert.ok(!subject.startsWith('$SYS'), `${role}: ${subject}`);
      }
    }
  });

  test('the shipper publishes failures of one jail-subject token and nothing else', () => {
    assert.deepEqual(perms.shipper.publish.allow, ['fleetban.fail.*']);
  });

  test('the enforcer publishes no fleetban subject and only reading JetStream calls', () => {
    for (const subject of perms.enforcer.publish.allow) {
      assert.ok(!subject.startsWith('fleetban.'), subject);
      assert.match(subject, /^\$JS\.API\.(INFO|STREAM\.INFO\.fleetban_decisions|CONSUMER\.(CREATE|INFO|MSG\.NEXT)\.fleetban_decisions\.\*)$/);
    }
  });

  test('only the CLI publishes unbans; only the scorer and the CLI publish bans', () => {
    const publishes = (subject: string) => ROLES.filter((r) => perms[r].publish.allow.includes(subject));
    assert.deepEqual(publishes('fleetban.unban.*'), ['cli']);
    assert.deepEqual(publishes('fleetban.ban.*'), ['scorer', 'cli']);
  });

  test('nobody may delete or purge a stream, only the CLI may update one or delete (its own) consumers', () => {
    for (const role of ROLES) {
      for (const subject of perms[role].publish.allow) {
        assert.doesNotMatch(subject, /STREAM\.(DELETE|PURGE|MSG\.DELETE)/, `${role}: ${subject}`);
        if (role !== 'cli') assert.doesNotMatch(subject, /STREAM\.UPDATE|CONSUMER\.DELETE/, `${role}: ${subject}`);
      }
    }
    assert.ok(perms.cli.publish.deny.includes('$JS.API.CONSUMER.*.fleetban_decisions.scorer-decisions'));
  });

  test('each role subscribes to its own inbox only', () => {
    for (const role of ROLES) {
      const inboxes = perms[role].subscribe.allow.filter((s) => s.startsWith('_INBOX'));
      assert.deepEqual(inboxes, [`${inboxPrefixOf('fleetban', role)}.>`]);
    }
  });

  test('a dotted prefix and another scorer consumer name change every subject and stream name', () => {
    const other = rolePermissions({ prefix: 'acme.fb', scorerConsumer: 'core' });
    assert.deepEqual(other.shipper.publish.allow, ['acme.fb.fail.*']);
    assert.ok(other.scorer.publish.allow.includes('$JS.API.CONSUMER.MSG.NEXT.acme_fb_failures.core'));
    assert.ok(other.enforcer.publish.deny.includes('$JS.API.CONSUMER.MSG.NEXT.acme_fb_decisions.core-decisions'));
    assert.equal(inboxPrefixOf('acme.fb', 'cli'), '_INBOX_acme_fb_cli');
  });

  test('the server configuration requires client certificates and gives each identity its role\'s permissions', () => {
    const text = renderServerConfig({
      ...DEFAULTS, serverName: 'n', listen: '0.0.0.0:4222', storeDir: '/var/lib/nats', tls: { cert: '/c.pem', key: '/k.pem', ca: '/ca.pem' }, permissionsFile: 'permissions.conf',
      identities: [{ role: 'shipper', name: 'web1', nkey: 'UAAA' }, { role: 'enforcer', name: 'edge1', nkey: 'UBBB' }],
    });
    assert.match(text, /tls \{[^}]*verify: true[^}]*\}/s);
    assert.match(text, /\{ nkey: "UAAA", permissions: \$FLEETBAN_SHIPPER \}/);
    assert.match(text, /\{ nkey: "UBBB", permissions: \$FLEETBAN_ENFORCER \}/);
    assert.doesNotMatch(text, /no_auth_user|password/);
  });
});

describe('the scorer\'s Redis ACL rule', () => {
  test('its keys, no channels, no command but its own, and no password in clear', () => {
    const rule = scorerAclRule({ user: 'fleetban-scorer', password: 'secret', keyPrefix: 'fleetban:' });
    const words = rule.split(' ');
    assert.deepEqual(words.slice(0, 8), ['user', 'fleetban-scorer', 'reset', 'on', aclPasswordHash('secret'), '~fleetban:*', 'resetchannels', '-@all']);
    assert.deepEqual(words.slice(8), Object.keys(SCORER_COMMANDS).map((c) => `+${c}`));
    assert.ok(!rule.includes('secret'));
  });

  test('SELECT only for a scorer that does not use db 0, cluster commands only for a cluster', () => {
    assert.ok(!scorerAclRule({ user: 'u', password: 'p', keyPrefix: 'f:' }).includes('+select'));
    assert.ok(scorerAclRule({ user: 'u', password: 'p', keyPrefix: 'f:', db: 2 }).includes('+select'));
    assert.ok(scorerAclRule({ user: 'u', password: 'p', keyPrefix: 'f:', cluster: true }).includes('+cluster|slots'));
  });

  test('a key prefix that an ACL pattern would read as a glob is refused', () => {
    assert.throws(() => scorerAclRule({ user: 'u', password: 'p', keyPrefix: 'f*' }));
    assert.throws(() => scorerAclRule({ user: 'u', password: 'p', keyPrefix: 'f[a]' }));
  });
});

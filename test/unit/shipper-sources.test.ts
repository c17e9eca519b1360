import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { shippedJails } from '../../services/shipper/shipper.ts';
import { SOURCES } from '../../services/shipper/sources/index.ts';
import { testConfig } from '../harness/index.ts';

describe('which sources a jail reads', () => {
  const config = testConfig({
    jails: {
      files: { logpath: '/var/log/auth.log /var/log/nginx/*.log head' },
      polled: { logpath: '/var/log/auth.log', backend: 'polling' },
      journal: { backend: 'systemd', logpath: '/ignored.log' },
      piped: { logpath: '-' },
      both: { logpath: ['-', '/var/log/x.log'] },
      none: {},
      off: { enabled: false, logpath: '/var/log/auth.log' },
    },
    shipper: { jails: ['files', 'polled', 'journal', 'piped', 'both', 'none', 'off'] },
  });
  const kinds = (name: string) => Object.values(SOURCES).filter((k) => k.select(config.jails[name]!) !== undefined).map((k) => k.name);

  test('each kind takes the jails its backend and logpath call for', () => {
    assert.deepEqual(kinds('files'), ['files']);
    assert.deepEqual(kinds('polled'), ['files']);
    assert.deepEqual(kinds('journal'), ['journal']);
    assert.deepEqual(kinds('piped'), ['stdin']);
    assert.deepEqual(kinds('both'), ['files', 'stdin']);
    assert.deepEqual(kinds('none'), []);
  });

  test('the files source reads head/tail after a path and polling from the backend', () => {
    assert.deepEqual(SOURCES.files.select(config.jails.files!), {
      patterns: [
        { pattern: '/var/log/auth.log', begin: 'tail' },
        { pattern: '/var/log/nginx/*.log', begin: 'head' },
      ],
      polling: false,
    });
    assert.equal(SOURCES.files.select(config.jails.polled!)!.polling, true);
  });

  test('a disabled jail or one outside shipper.jails is not shipped', () => {
    assert.deepEqual(shippedJails(config).map((j) => j.name), ['files', 'polled', 'journal', 'piped', 'both', 'none']);
    const some = testConfig({ jails: { a: {}, b: {} }, shipper: { jails: ['b'] } });
    assert.deepEqual(shippedJails(some).map((j) => j.name), ['b']);
  });

  test('every registered kind is filed under its own name', () => {
    for (const [name, kind] of Object.entries(SOURCES)) assert.equal(kind.name, name);
  });
});

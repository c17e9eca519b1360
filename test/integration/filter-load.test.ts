import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { FilterConfigError, FilterNotFoundError, loadFilter } from '../../shared/filter/index.ts';
import { fail2banSkipReason, tempDir } from '../harness/index.ts';

const NOW = Date.UTC(2025, 5, 1, 12, 0, 0);

describe('loading filters from files', () => {
  let dir: ReturnType<typeof tempDir>;
  let filterDir: string;

  before(() => {
    dir = tempDir('fleetban-filters');
    filterDir = join(dir.path, 'filter.d');
    mkdirSync(filterDir);
    writeFileSync(join(filterDir, 'common.conf'), '[DEFAULT]\n__prefix = \\s*\\S+ \\S+\\[\\d+\\]:\\s*\n');
    writeFileSync(join(filterDir, 'app.conf'), '[INCLUDES]\nbefore = common.conf\n[Definition]\nfailregex = ^%(__prefix)slogin failed from <HOST>$\n');
    writeFileSync(join(filterDir, 'app.local'), '[Definition]\nfailregex = %(known/failregex)s\n            ^%(__prefix)sbad token from <HOST>$\n');
    mkdirSync(join(filterDir, 'app.d'));
    writeFileSync(join(filterDir, 'app.d', 'extra.conf'), '[Definition]\nignoreregex = ^.* from 192\\.0\\.2\\.99$\n');
    writeFileSync(join(filterDir, 'sshd.conf'), '[Definition]\nfailregex = ^\\s*local sshd override from <HOST>$\n');
    writeFileSync(join(dir.path, 'standalone.conf'), '[INCLUDES]\nbefore = filter.d/common.conf\n[Definition]\nfailregex = ^%(__prefix)soops from <HOST>$\n');
  });
  after(() => dir?.remove());

  test('a filter is read with its .local, its .d directory and its includes', async () => {
    const f = await loadFilter('app', { dirs: [filterDir], timezone: 'UTC' });
    assert.deepEqual(f.definition.failregex, ['^%(__prefix)slogin failed from <HOST>$', '^%(__prefix)sbad token from <HOST>$'].map((r) => r.replace('%(__prefix)s', '\\s*\\S+ \\S+\\[\\d+\\]:\\s*')));
    const m = f.matcher();
    assert.equal(m.push('2025-05-30 10:00:01 web1 app[1]: bad token from 192.0.2.5', NOW)[0]?.ip, '192.0.2.5');
    assert.deepEqual(m.push('2025-05-30 10:00:01 web1 app[1]: login failed from 192.0.2.99', NOW), [], 'ignoreregex from app.d/extra.conf');
  });

  test('the configured directories come before /etc/fail2ban and the set-up\'s cache', async () => {
    const f = await loadFilter('sshd', { dirs: [filterDir] });
    assert.deepEqual(f.definition.failregex, ['^\\s*local sshd override from <HOST>$']);
  });

  test('a filter file given by path is read with includes relative to it', async () => {
    const f = await loadFilter(join(dir.path, 'standalone.conf'), { timezone: 'UTC' });
    assert.equal(f.name, 'standalone');
    assert.equal(f.matcher().push('2025-05-30 10:00:01 h d[1]: oops from 192.0.2.6', NOW)[0]?.ip, '192.0.2.6');
  });

  test('a bare name.conf or name.local is the filter of that name in the filter directories, with its .local, as fail2ban-regex reads it', async () => {
    const cwd = process.cwd();
    // The working directory holds a file of that name too: it is not the one read.
    process.chdir(dir.path);
    try {
      writeFileSync(join(dir.path, 'app.conf'), '[Definition]\nfailregex = ^working directory <HOST>$\n');
      for (const spec of ['app.conf', 'app.local']) {
        const f = await loadFilter(spec, { dirs: [filterDir], timezone: 'UTC' });
        assert.equal(f.name, 'app', spec);
        assert.equal(f.definition.failregex.length, 2, `${spec}: app.conf and app.local from filter.d`);
      }
      await assert.rejects(loadFilter('standalone.conf', { dirs: [filterDir] }), FilterNotFoundError, 'a file only in the working directory is not a filter name');
      const f = await loadFilter('./standalone.conf', { timezone: 'UTC' });
      assert.equal(f.name, 'standalone', 'with a / it is a path');
    } finally {
      process.chdir(cwd);
    }
  });

  test('an unknown filter names the directories searched', async () => {
    await assert.rejects(loadFilter('no-such-filter', { dirs: [filterDir] }), (err: unknown) => err instanceof FilterNotFoundError && err.message.includes(filterDir));
  });

  test('a filter with a bad regex fails to load, naming the filter', async () => {
    writeFileSync(join(filterDir, 'broken.conf'), '[Definition]\nfailregex = ^(?P<x>a)(?P<x>b) <HOST>\n');
    await assert.rejects(loadFilter('broken', { dirs: [filterDir] }), (err: unknown) => err instanceof FilterConfigError && /broken.*redefinition of group name/.test(err.message));
  });

  describe('the stock filters', { skip: fail2banSkipReason() }, () => {
    test('sshd is found without configuration, and its mode option adds regexes', async () => {
      const normal = await loadFilter('sshd');
      const aggressive = await loadFilter('sshd[mode=aggressive]');
      assert.equal(normal.name, 'sshd');
      assert.ok(aggressive.compiled.failregex.length > normal.compiled.failregex.length);
      assert.deepEqual(normal.journalmatch, [['_SYSTEMD_UNIT=sshd.service'], ['_COMM=sshd']]);
    });

    test('the systemd backend switches a filter to its journal log type', async () => {
      const file = await loadFilter('sshd');
      const journal = await loadFilter('sshd', { backend: 'systemd' });
      assert.notEqual(journal.compiled.prefregex?.pattern, file.compiled.prefregex?.pattern);
      const m = journal.matcher();
      const [hit] = m.push('web1 sshd[812]: Failed password for root from 192.0.2.9 port 22 ssh2', NOW, Date.UTC(2025, 4, 30, 10, 0, 1));
      assert.equal(hit?.ip, '192.0.2.9');
    });

    test('jail settings override the filter\'s maxlines and datepattern', async () => {
      const f = await loadFilter('sshd', { maxlines: 5, datepattern: '{^LN-BEG}%%Y-%%m-%%d %%H:%%M:%%S'.replaceAll('%%', '%') });
      assert.equal(f.maxlines, 5);
      assert.equal(f.compiled.datepattern, '{^LN-BEG}%Y-%m-%d %H:%M:%S');
    });
  });
});

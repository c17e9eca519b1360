import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { expand, matchPath, parsePattern, segmentRegex } from '../../services/shipper/sources/files/glob.ts';
import { filePatterns } from '../../services/shipper/sources/files/index.ts';
import { tempDir } from '../harness/index.ts';

describe('logpath globs as fail2ban reads them', () => {
  test('segments translate like Python fnmatch', () => {
    assert.ok(segmentRegex('*.log').test('auth.log'));
    assert.ok(!segmentRegex('*.log').test('auth.log.1'));
    assert.ok(segmentRegex('access?.log').test('access1.log'));
    assert.ok(segmentRegex('[ab]*.log').test('b.log'));
    assert.ok(!segmentRegex('[!ab]*.log').test('b.log'));
    assert.ok(segmentRegex('x[.log').test('x[.log'));
  });

  test('a plain path watches its directory; a glob watches the directory before its first wildcard', () => {
    assert.deepEqual([parsePattern('/var/log/auth.log').base, parsePattern('/srv/*/logs/*.log').base], ['/var/log', '/srv']);
    const p = parsePattern('/srv/*/logs/*.log');
    assert.equal(matchPath(p, '/srv/site1'), 'prefix');
    assert.equal(matchPath(p, '/srv/site1/logs/error.log'), 'complete');
    assert.equal(matchPath(p, '/srv/site1/other'), false);
    assert.equal(matchPath(p, '/srv/.hidden/logs/a.log'), false);
  });

  test('expansion lists the regular files that match, sorted', async () => {
    const dir = tempDir('fleetban-glob');
    try {
      for (const site of ['b', 'a']) {
        mkdirSync(join(dir.path, site, 'logs'), { recursive: true });
        writeFileSync(join(dir.path, site, 'logs', 'access.log'), '');
        writeFileSync(join(dir.path, site, 'logs', 'access.log.1'), '');
      }
      mkdirSync(join(dir.path, 'c', 'logs', 'dir.log'), { recursive: true });
      assert.deepEqual(await expand(parsePattern(join(dir.path, '*/logs/*.log'))), [join(dir.path, 'a/logs/access.log'), join(dir.path, 'b/logs/access.log')]);
      assert.deepEqual(await expand(parsePattern(join(dir.path, 'missing/*.log'))), []);
    } finally {
      dir.remove();
    }
  });

  test('logpath items take head or tail after a path, and "-" is left to the stdin source', () => {
    assert.deepEqual(filePatterns(['/var/log/a.log', 'head', '/var/log/b.log', '-', '/var/log/c.log', 'tail']), [
      { pattern: '/var/log/a.log', begin: 'head' },
      { pattern: '/var/log/b.log', begin: 'tail' },
      { pattern: '/var/log/c.log', begin: 'tail' },
    ]);
  });
});

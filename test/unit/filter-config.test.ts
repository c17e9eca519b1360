import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { resolveDefinition } from '../../shared/filter/config/definition.ts';
import { parseIni } from '../../shared/filter/config/ini.ts';
import { ConfigSet, type ConfigSource } from '../../shared/filter/config/reader.ts';
import { FilterConfigError } from '../../shared/filter/errors.ts';
import { parseJournalMatch } from '../../shared/filter/compiled.ts';
import { extractOptions } from '../../shared/filter/spec.ts';

/** Files in memory, keyed by absolute path. */
function files(map: Record<string, string>): ConfigSource {
  return {
    read: (f) => map[f],
    list: (dir) => Object.keys(map).filter((f) => f.startsWith(`${dir}/`) && !f.slice(dir.length + 1).includes('/')).map((f) => f.slice(dir.length + 1)),
  };
}

function definition(map: Record<string, string>, name: string, opts: Record<string, string> = {}, backend?: string) {
  const cfg = new ConfigSet(files(map));
  assert.ok(cfg.readNamed(`/f/${name}`), `read ${name}`);
  return resolveDefinition(name, cfg, opts, backend);
}

describe('fail2ban configuration files', () => {
  test('values continue on indented lines; comments and trailing blank lines are dropped', () => {
    const ini = parseIni('[Definition]\nfailregex = ^a <HOST>$\n   # a comment\n    ^b <HOST>$\n\n    ^c <HOST>$  ; inline comment\nkey=v;not-a-comment\n\n', 'x.conf');
    const def = ini.sections.get('Definition')!;
    assert.equal(def.get('failregex'), '^a <HOST>$\n^b <HOST>$\n\n^c <HOST>$');
    assert.equal(def.get('key'), 'v;not-a-comment');
  });

  test('keys are lower-cased, section names keep their case, a key given twice in one file is an error', () => {
    const ini = parseIni('[Init]\nMaxLines: 3\n', 'x.conf');
    assert.equal(ini.sections.get('Init')!.get('maxlines'), '3');
    assert.throws(() => parseIni('[Definition]\na = 1\na = 2\n', 'dup.conf'), (err: unknown) => err instanceof FilterConfigError && /dup\.conf.*already exists/.test(err.message));
  });

  test('includes are read before and after, and .local overrides .conf', () => {
    const def = definition(
      {
        '/f/common.conf': '[DEFAULT]\n_daemon = \\S*\n__prefix = <_daemon>\\[\\d+\\]:\n',
        '/f/svc.conf': '[INCLUDES]\nbefore = common.conf\nafter = svc-extra.conf\n[DEFAULT]\n_daemon = svc\n[Definition]\nfailregex = ^%(__prefix)s bad from <HOST>$\nmaxlines = 1\n',
        '/f/svc-extra.conf': '[Definition]\nignoreregex = ^.* from 192\\.0\\.2\\.1$\n',
        '/f/svc.local': '[Definition]\nmaxlines = 2\n',
      },
      'svc',
    );
    assert.deepEqual(def.failregex, ['^svc\\[\\d+\\]: bad from <HOST>$']);
    assert.deepEqual(def.ignoreregex, ['^.* from 192\\.0\\.2\\.1$']);
    assert.equal(def.maxlines, 2);
    assert.deepEqual(def.files, ['/f/common.conf', '/f/svc.conf', '/f/svc-extra.conf', '/f/svc.local']);
  });

  test('<tag> substitution is recursive: <mdre-<mode>> picks the mode given with the filter', () => {
    const map = {
      '/f/m.conf': [
        '[Definition]',
        'failregex = ^common <HOST>$',
        '            <mdre-<mode>>',
        'mdre-normal =',
        'mdre-aggressive = ^extra <HOST>$',
        '                  <mdre-normal>',
        'mode = normal',
      ].join('\n'),
    };
    assert.deepEqual(definition(map, 'm').failregex, ['^common <HOST>$']);
    assert.deepEqual(definition(map, 'm', { mode: 'aggressive' }).failregex, ['^common <HOST>$', '^extra <HOST>$']);
  });

  test('%(known/option)s is the value an earlier file gave the option', () => {
    const def = definition(
      {
        '/f/k.conf': '[Definition]\nfailregex = ^one <HOST>$\n',
        '/f/k.local': '[Definition]\nfailregex = %(known/failregex)s\n            ^two <HOST>$\n',
      },
      'k',
    );
    assert.deepEqual(def.failregex, ['^one <HOST>$', '^two <HOST>$']);
  });

  test('%(section/option)s reads another section, and [Init] values become tags', () => {
    const def = definition(
      {
        '/f/s.conf': [
          '[DEFAULT]',
          'logtype = file',
          '[lt_file]',
          'datepattern = {^LN-BEG}',
          '[lt_journal]',
          'datepattern = %(lt_file/datepattern)s',
          '[Definition]',
          'datepattern = %(lt_journal/datepattern)s',
          'failregex = ^<word> <HOST>$',
          '[Init]',
          'word = hello',
        ].join('\n'),
      },
      's',
    );
    assert.equal(def.datepattern, '{^LN-BEG}');
    assert.deepEqual(def.failregex, ['^hello <HOST>$']);
  });

  test('the jail backend sets logtype as fail2ban does, unless the filter or its options set it', () => {
    const map = {
      '/f/j.conf': '[DEFAULT]\nlogtype = file\n[Definition]\nfailregex = ^<lt_<logtype>/pre>x <HOST>$\n[lt_file]\npre = F\n[lt_journal]\npre = J\n',
    };
    assert.deepEqual(definition(map, 'j').failregex, ['^Fx <HOST>$']);
    assert.deepEqual(definition(map, 'j', {}, 'systemd').failregex, ['^Jx <HOST>$']);
  });

  test('%% is a percent sign and a stray % is an error', () => {
    assert.equal(definition({ '/f/p.conf': '[Definition]\ndatepattern = %%Y-%%m\nfailregex = ^<HOST>$\n' }, 'p').datepattern, '%Y-%m');
    assert.throws(() => definition({ '/f/q.conf': '[Definition]\nfailregex = 100% <HOST>\n' }, 'q'), /must be followed by/);
  });

  test('a tag that refers to itself is an error', () => {
    assert.throws(() => definition({ '/f/r.conf': '[Definition]\nfailregex = <failregex> <HOST>\n' }, 'r'), /self referencing/);
  });

  test('filter options are parsed as fail2ban parses them', () => {
    assert.deepEqual(extractOptions('sshd[mode=aggressive]'), { name: 'sshd', options: { mode: 'aggressive' } });
    assert.deepEqual(extractOptions('f[a="x, y", b=\'z]\'][c=3]'), { name: 'f', options: { a: 'x, y', b: 'z]', c: '3' } });
    assert.deepEqual(extractOptions('plain'), { name: 'plain', options: {} });
  });

  test('journalmatch lines become OR-groups, + starting a new group', () => {
    assert.deepEqual(parseJournalMatch(['_SYSTEMD_UNIT=sshd.service + _COMM=sshd']), [['_SYSTEMD_UNIT=sshd.service'], ['_COMM=sshd']]);
    assert.deepEqual(parseJournalMatch(['_SYSTEMD_UNIT=a.service "MESSAGE=x y"', '_COMM=b']), [['_SYSTEMD_UNIT=a.service', 'MESSAGE=x y'], ['_COMM=b']]);
  });
});

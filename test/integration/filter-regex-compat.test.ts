import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { EXIT } from '../../services/cli/command.ts';
import { pythonCodec } from '../../services/cli/commands/regex/encoding.ts';
import { VERSION } from '../../shared/version.ts';
import { cli, fail2banPackage, fail2banSkipReason, runFail2banRegex, tempDir } from '../harness/index.ts';

/**
 * The differences between `fleetban regex` and fail2ban-regex found on real
 * logs (issue 17), each compared with the real fail2ban-regex (Debian's
 * package, unpacked by the set-up) on the same input, byte for byte except
 * for what changes from run to run: the processing time, and the time
 * stamp, process and thread ids of log records.
 */
const skip = fail2banSkipReason({ python: true });

function comparable(out: string): string {
  return out
    .replace(/^\[processed in [\d.]+ sec\]\n/m, '')
    .replace(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} (.{24})\[\d+\]/gm, 'TIME $1[PID]')
    .replace(/^ \d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} [0-9A-F]+ /gm, ' TIME THREAD ');
}

/** fleetban regex ARGS (in-process) and fail2ban-regex ARGS, both on the package's config dir. */
async function both(args: readonly string[]): Promise<{ ours: string; theirs: string; oursErr: string }> {
  const theirs = await runFail2banRegex(args);
  const ours = await cli('regex', '-c', fail2banPackage()!.configDir, ...args);
  assert.equal(theirs.code, 0, `fail2ban-regex ${args.join(' ')}: ${theirs.stdout}${theirs.stderr}`);
  assert.equal(ours.code, 0, `fleetban regex ${args.join(' ')}: ${ours.stderr}`);
  return { ours: comparable(ours.stdout), theirs: comparable(theirs.stdout), oursErr: ours.stderr };
}

async function same(args: readonly string[]): Promise<string> {
  const { ours, theirs } = await both(args);
  assert.equal(ours, theirs, args.join(' '));
  return theirs;
}

const ssh = (date: string, rest: string) => `${date} web1 sshd[7]: ${rest}`;

describe('fleetban regex against fail2ban-regex: the differences found on real logs', () => {
  let dir: ReturnType<typeof tempDir>;
  const file = (name: string) => join(dir.path, name);

  before(() => {
    dir = tempDir('fleetban-regex-compat');
    // Dates with a zone, without one, and Unix times.
    writeFileSync(
      file('zones.log'),
      [
        ssh('2015-05-19T13:05:05+02:00', 'Failed password for root from 192.0.2.1 port 22 ssh2'),
        ssh('2015-05-19 13:05:06', 'Failed password for root from 192.0.2.2 port 22 ssh2'),
        ssh('2015-05-19T13:05:07Z', 'Failed password for root from 192.0.2.3 port 22 ssh2'),
        ssh('May 19 13:05:08', 'Failed password for root from 192.0.2.4 port 22 ssh2'),
        ssh('2015-05-19 13:05:09 -0430', 'Failed password for root from 192.0.2.5 port 22 ssh2'),
        '',
      ].join('\n'),
    );
    writeFileSync(
      file('epoch.log'),
      [
        '1432040705 sshd[7]: Failed password for root from 192.0.2.6 port 22 ssh2',
        '1432040706.250 sshd[7]: Failed password for root from 192.0.2.7 port 22 ssh2',
        '',
      ].join('\n'),
    );
    // Every byte from 0x80, valid and broken UTF-8, C1 controls, quotes and a NUL (strings hold the bytes).
    const failed = (s: number, user: string, host: string) =>
      `Jan 05 10:00:0${s} web1 sshd[7]: Failed password for ${user} from ${host} port 22 ssh2`;
    const bytesFrom = (first: number) => String.fromCharCode(...Array.from({ length: 64 }, (_, i) => first + i));
    const lines = [
      failed(0, bytesFrom(0x80), '192.0.2.10'),
      failed(1, bytesFrom(0xc0), '192.0.2.11'),
      failed(2, 'u\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80', '192.0.2.12'),
      failed(3, 'bad\xc3\x28\xe2\x82\xf0\x9f\x98\xed\xa0\x80\xc0\xaf\xff', '192.0.2.13'),
      'Jan 05 10:00:04 web1 sshd[7]: missed \x81\x8d\x8f\x90\x9d\x80\x9f end\r',
      "Jan 05 10:00:05 web1 sshd[7]: quotes ' \" \\ \t tab \x00 \xe9",
    ].map((l) => Buffer.from(l, 'latin1'));
    writeFileSync(file('bytes.log'), Buffer.concat(lines.flatMap((l) => [l, Buffer.from('\n')])));
    writeFileSync(
      file('auth.log'),
      [
        ssh('Jan 05 10:00:00', 'Failed password for root from 192.0.2.20 port 22 ssh2'),
        ssh('Jan 05 10:00:01', 'Failed password for invalid user bob from 2001:db8::20 port 22 ssh2'),
        ssh('Jan 05 10:00:02', 'Connection closed by authenticating user root 192.0.2.21 port 22 [preauth]'),
        ssh('Jan 05 10:00:03', 'something else entirely from 192.0.2.22'),
        ssh('Jan 05 10:00:04', 'Failed password for root from attacker.example.invalid port 22 ssh2'),
        ssh('Jan 05 10:00:05', 'Accepted publickey for deploy from 192.0.2.23 port 22 ssh2: ED25519 SHA256:abc'),
        '1432040705 plain line with an Epoch date & a "quote" + 100% ~tilde',
        '',
      ].join('\n'),
    );
  });
  after(() => dir?.remove());

  test('--timezone and --TZ set the zone of dates that name none, as in fail2ban-regex', { skip }, async () => {
    for (const zone of ['UTC+0300', 'UTC-0430', 'CET']) {
      for (const flag of ['--timezone', '--TZ']) {
        const theirs = await same([flag, zone, '-o', '<time> <ip>', file('zones.log'), 'sshd']);
        assert.match(theirs, /^\d+ 192\.0\.2\.2$/m);
      }
    }
    // -v lists each failure's time in the local zone, after --timezone moved it.
    await same(['-v', '--timezone', 'UTC+0300', file('zones.log'), 'sshd']);
    // Without the option the times differ from those with it: the option is not ignored.
    const plain = await same(['-o', '<time> <ip>', file('zones.log'), 'sshd']);
    const zoned = await same(['--TZ', 'UTC+0300', '-o', '<time> <ip>', file('zones.log'), 'sshd']);
    assert.notEqual(plain, zoned);
  });

  test('times print as Python keeps them: an int for a date with a zone or read with --timezone, a float otherwise', { skip }, async () => {
    const theirs = await same(['-o', 'row', file('zones.log'), 'sshd']);
    assert.match(theirs, /^\['192\.0\.2\.1',\t1432033505,\t/m, 'a date with a zone prints as an int');
    assert.match(theirs, /^\['192\.0\.2\.4',\t\d+\.0,\t/m, 'a date without one prints as a float');
    await same(['-o', '<time>|<ip>', file('zones.log'), 'sshd']);
    await same(['--timezone', 'UTC', '-o', 'row', file('zones.log'), 'sshd']);
    await same(['-d', 'Epoch', '-o', 'row', file('epoch.log'), '^ sshd\\[\\d+\\]: Failed password for \\S+ from <HOST>']);
    await same(['-d', '%Y-%m-%dT%H:%M:%S%z', '-o', '<time> <ip>', file('zones.log'), 'sshd']);
  });

  test('-o matches prints the matched lines as Python tuples', { skip }, async () => {
    const theirs = await same(['-o', 'matches', file('zones.log'), 'sshd']);
    assert.match(theirs, /^\[\('', '2015-05-19T13:05:05\+02:00', ' web1 sshd\[7\]: Failed/m);
    await same(['-o', 'matches', file('auth.log'), 'sshd[mode=aggressive]']);
    const multi = file('multi.log');
    writeFileSync(multi, '2025-01-05 10:00:01 login attempt user alice\n2025-01-05 10:00:02 rejected from 192.0.2.31\n');
    await same(['-L', '3', '-o', 'matches', multi, 'login attempt user <F-USER>\\S+</F-USER>.*\\n.*rejected from <HOST>$']);
  });

  const encodings = [
    ...['latin-1', 'latin1', 'iso-8859-1', 'iso8859-1', 'ISO_8859-1', 'l1'],
    ...['ascii', 'US-ASCII', 'utf-8', 'utf8', 'UTF-8', 'cp1252', 'windows-1252'],
  ];
  test('-e takes the Python codec names fail2ban-regex takes and decodes every byte as Python does', { skip }, async () => {
    for (const encoding of encodings) {
      await same(['-e', encoding, '-o', '<F-USER>', file('bytes.log'), 'sshd']);
      const report = await same(['-e', encoding, '--print-all-missed', file('bytes.log'), 'sshd']);
      assert.ok(report.includes(`Use         encoding : ${encoding}\n`), encoding);
    }
  });

  test('-e latin-1 maps bytes 0x80-0x9f to U+0080-U+009F, not to windows-1252 characters', { skip }, async () => {
    const { ours } = await both(['-e', 'latin-1', '-o', '<F-USER>', file('bytes.log'), 'sshd']);
    const user = ours.split('\n')[0]!;
    assert.equal(user.charCodeAt(0), 0x80);
    assert.equal(user.charCodeAt(0x1f), 0x9f);
  });

  test('-e names a codec as Python\'s codecs.lookup names it, in any spelling Python takes', { skip }, async () => {
    const names = [
      ...['utf_8', 'latin_1', 'ascii', 'cp1252'].map((m) => `*${m}`),
      'Latin-1', 'LATIN 1', 'latin--1', 'UTF_8', 'u8', 'cp65001', 'ISO_8859-1:1987', 'iso-ir-100', 'ansi_x3.4-1968', 'ANSI_X3.4_1968',
      'iso_646.irv:1991', 'Windows-1252', '1252', 'cp-1252', 'utf-8-sig', 'koi8-r', 'latin-9', 'utf16', 'mbcs', '',
    ];
    // Python lists every alias of the four codecs (a name starting with `*`) and looks each name up.
    const script = [
      'import codecs, json, sys',
      'from encodings.aliases import aliases',
      'names = []',
      'for n in json.loads(sys.argv[1]):',
      '    names += sorted(k for k, v in aliases.items() if v == n[1:]) + [n[1:]] if n.startswith("*") else [n]',
      'def look(n):',
      '    try: return codecs.lookup(n).name',
      '    except LookupError: return None',
      'print(json.dumps([[n, look(n)] for n in names]))',
    ].join('\n');
    const pkg = fail2banPackage()!;
    const output = execFileSync(pkg.python, ['-c', script, JSON.stringify(names)], { encoding: 'utf8' });
    const found = JSON.parse(output) as Array<[string, string | null]>;
    const PY_NAMES: Record<string, string> = { utf_8: 'utf-8', latin_1: 'iso8859-1', ascii: 'ascii', cp1252: 'cp1252' };
    const known = new Set(Object.values(PY_NAMES));
    assert.ok(found.length > 40);
    for (const [name, python] of found) {
      const ours = pythonCodec(name);
      // A codec fleetban does not decode is refused; every one it takes is Python's codec of that name.
      if (python === null || !known.has(python)) assert.equal(ours, undefined, name);
      else assert.equal(ours && PY_NAMES[ours], python, name);
    }
  });

  test('-e with a codec fleetban cannot decode exactly is refused, naming the ones it can', async () => {
    const run = await cli('regex', '-e', 'koi8-r', file('bytes.log'), 'sshd');
    assert.equal(run.code, EXIT.usage);
    assert.match(run.stderr, /unknown encoding: koi8-r .*latin-1/);
  });

  test('-l warning writes fail2ban\'s records about lines that do not decode, in its log format', { skip }, async () => {
    for (const encoding of ['ascii', 'utf-8', 'cp1252']) {
      for (const verbosity of ['0', '2', '3', '4']) {
        const args = ['-l', 'warning', '--verbosity', verbosity, '-e', encoding, '-o', 'ip', file('bytes.log'), 'sshd'];
        const { ours, theirs } = await both(args);
        assert.match(theirs, /Error decoding line from '.*bytes\.log' with '/);
        // At 3 and 4 each record carries the milliseconds since start-up: compare the rest.
        const steady = (s: string) => s.replace(/^ \+ *\d+ [0-9A-F]+ /gm, ' +MS THREAD ');
        assert.equal(steady(ours), steady(theirs), args.join(' '));
      }
    }
  });

  test('-l takes the levels fail2ban-regex takes and refuses others', async () => {
    for (const level of ['critical', 'ERROR', 'notice', '30', 'heavydebug']) {
      const run = await cli('regex', '-l', level, '-o', 'ip', file('auth.log'), 'sshd');
      assert.equal(run.code, 0, `${level}: ${run.stderr}`);
    }
    const bad = await cli('regex', '-l', 'loud', file('auth.log'), 'sshd');
    assert.equal(bad.code, EXIT.usage);
    assert.match(bad.stderr, /Invalid log level 'loud'/);
  });

  test('-D adds the debuggex.com links fail2ban-regex adds to the listed lines', { skip }, async () => {
    const runs: string[][] = [
      ['-D', file('auth.log'), 'sshd', 'something'],
      ['-D', '--print-all-missed', file('auth.log'), 'sshd'],
      ['-D', '--print-all-matched', '--print-all-missed', file('auth.log'), '^ web1 sshd\\[\\d+\\]: Failed password for \\S+ from <HOST>'],
      ['-D', '--usedns', 'no', '--print-all-missed', file('auth.log'), '^ web1 sshd\\[\\d+\\]: Failed password for \\S+ from <HOST>'],
      ['--debuggex', '-e', 'latin-1', '--print-all-missed', file('bytes.log'), 'Failed password for <F-USER>\\S+</F-USER> from <HOST>'],
    ];
    for (const args of runs) {
      const theirs = await same(args);
      assert.match(theirs, /https:\/\/www\.debuggex\.com\/\?re=/);
    }
  });

  test('--VD shows each date template\'s weight, pattern and regex', { skip }, async () => {
    const runs = [
      ['--VD', file('auth.log'), 'sshd'],
      ['--verbose-date', '-v', file('zones.log'), 'sshd'],
      ['--VD', '-d', 'Epoch', file('epoch.log'), 'sshd'],
    ];
    for (const args of runs) {
      const theirs = await same(args);
      assert.match(theirs, /# weight: \d+\.\d{3} \(\d+\.\d{3}\), pattern: /);
    }
  });

  test('--verbosity sets -v\'s level; from 2 the real filter options are shown', { skip }, async () => {
    for (const args of [
      ['--verbosity', '1', file('auth.log'), 'sshd'],
      ['--verbosity', '2', file('auth.log'), 'sshd[mode=aggressive]'],
      ['-vv', file('auth.log'), 'sshd[mode=ddos, publickey=invalid]'],
      ['--verbosity', '1', '-v', file('auth.log'), 'sshd'],
      ['--verbosity', '0', file('auth.log'), 'sshd'],
    ]) {
      await same(args);
    }
    const theirs = await same(['--verbosity', '2', file('auth.log'), 'sshd[mode=aggressive]']);
    assert.match(theirs, /^Real {2}filter options : \{'logtype': 'file', 'datepattern': /m);
  });

  test('-V prints the version fail2ban-regex -V prints; --version prints fleetban\'s', { skip }, async () => {
    const theirs = await runFail2banRegex(['-V']);
    const ours = await cli('regex', '-V');
    assert.equal(ours.code, 0);
    assert.equal(ours.stdout, theirs.stdout);
    const version = await cli('regex', '--version');
    assert.equal(version.stdout, `${VERSION}\n`);
  });

  test('the report on stdout is fail2ban-regex\'s when hosts are names; fleetban\'s note about them goes to stderr', { skip }, async () => {
    for (const args of [[file('auth.log'), 'sshd'], ['-o', 'ip', file('auth.log'), 'sshd']]) {
      const { ours, theirs, oursErr } = await both(args);
      assert.equal(ours, theirs, args.join(' '));
      assert.match(oursErr, /1 match\(es\) found a host name/);
    }
  });
});

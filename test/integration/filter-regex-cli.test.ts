import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { binFleetban, cli, fail2banPackage, fail2banSkipReason, runFail2banRegex, tempDir } from '../harness/index.ts';

/**
 * `fleetban regex` against the real fail2ban-regex (Debian's package,
 * unpacked by the set-up) on logs this test writes: IPv4 and IPv6 in every
 * spelling, host names, and injection attempts (an address in the user
 * name, in a URL, in a user agent). `-o ip` must print the same addresses
 * in the same order, and the summaries must count the same lines.
 */
const skip = fail2banSkipReason({ python: true });

/**
 * What of an output can agree: without the processing time, and with the
 * members of each Python set sorted (fail2ban prints a set in hash order,
 * which changes from run to run).
 */
function comparable(out: string): string {
  return out
    .replace(/^\[processed in [\d.]+ sec\]\n/m, '')
    .replace(/\{'[^']*'(?:, '[^']*')+\}/g, (set) => `{${set.slice(1, -1).split(', ').sort().join(', ')}}`);
}

/** Runs `fleetban regex ARGS` (in-process) and fail2ban-regex ARGS, both on the package's config dir; both must succeed. */
async function bothTools(args: readonly string[]): Promise<{ ours: string; theirs: string }> {
  const theirs = await runFail2banRegex(args);
  const ours = await cli('regex', '-c', fail2banPackage()!.configDir, ...args);
  assert.equal(theirs.code, 0, `fail2ban-regex ${args.join(' ')}: ${theirs.stdout}${theirs.stderr}`);
  assert.equal(ours.code, 0, `fleetban regex ${args.join(' ')}: ${ours.stderr}`);
  return { ours: comparable(ours.stdout), theirs: comparable(theirs.stdout) };
}

/** Two-line failures (a user, then the address), for -L and multi-line output. */
function multiLines(): string[] {
  return [
    '2025-01-05 10:00:01 login attempt user alice',
    '2025-01-05 10:00:02 rejected from 192.0.2.31',
    '2025-01-05 10:00:03 unrelated line',
    '2025-01-05 10:00:04 login attempt user bob <F-USER>',
    '2025-01-05 10:00:05 rejected from 2001:db8::31',
    '2025-01-05 10:00:06 login attempt user carol',
    '2025-01-05 10:00:07 something else',
    '2025-01-05 10:00:08 rejected from 198.51.100.31',
    '2025-01-05 10:00:09 rejected from 203.0.113.31',
    '# a comment line',
    '',
  ];
}
const MULTI_REGEX = 'login attempt user <F-USER>\\S+</F-USER>.*\\n.*rejected from <HOST>$';

/**
 * Addresses, networks and names in every form the address tags take or
 * refuse. Names are under .invalid, so no resolver anywhere knows them.
 */
function tagLines(): string[] {
  const rows = [
    ['192.0.2.1', '192.0.2.0/24', 'host1.example.invalid'],
    ['2001:db8::1', '2001:db8::/32', '2001-db8--1.example.invalid'],
    ['198.51.100.7', '198.51.100.0/25', '198.51.100.7'],
    ['203.0.113.9', '203.0.113.9/32', '[2001:db8::3]'],
    ['::ffff:192.0.2.5', '::ffff:192.0.2.0/120', '192.0.2.5.example.invalid'],
    ['2001:DB8:0:0::2', '2001:DB8::/48', '-bad-.example.invalid'],
    ['[2001:db8::4]', '192.0.2.0/0', '192.0.2.99'],
    ['192.0.2.300', '192.0.2.0/33', 'exa_mple.invalid'],
    ['198.51.100.015', '2001:db8::/129', 'UPPER.EXAMPLE.INVALID'],
    ['0.0.0.0', '203.0.113.0/28', '2001:db8::5'],
    ['2001:db8::192.0.2.1', '2001:db8::1/64', 'host.invalid.'],
    ['192.0.2.1:8080', '192.0.2.128/25,', '203.0.113.77'],
  ];
  return rows.map(([addr, net, name], i) => `2025-01-05 10:00:${String(i + 1).padStart(2, '0')} deny ${addr} net ${net} name ${name}`);
}

function sshLines(): string[] {
  const lines: string[] = [];
  const hosts = [
    '192.0.2.10',
    '2001:db8::10',
    '2001:DB8:0:0:0:0:0:11',
    '2001:0db8:0000::0012',
    '::ffff:192.0.2.13',
    '2001:db8::192.0.2.14',
    '::1:2',
    '198.51.100.015',
    '203.0.113.256',
    'attacker.example.invalid',
    'mail-192-0-2-15.example.invalid',
    '192.0.2.16.example.invalid',
  ];
  let s = 0;
  const t = () => {
    s++;
    return `Jan ${String(1 + (s % 28)).padStart(2)} 10:${String(s % 60).padStart(2, '0')}:${String((s * 7) % 60).padStart(2, '0')}`;
  };
  for (const h of hosts) {
    lines.push(`${t()} web1 sshd[${1000 + s}]: Failed password for root from ${h} port 22 ssh2`);
    lines.push(`${t()} web1 sshd[${1000 + s}]: Failed password for invalid user admin from ${h} port 2222 ssh2`);
    lines.push(`${t()} web1 sshd[${1000 + s}]: Invalid user test from ${h} port 4242`);
    lines.push(`${t()} web1 sshd[${1000 + s}]: Connection closed by authenticating user root ${h} port 5555 [preauth]`);
    lines.push(`${t()} web1 sshd[${1000 + s}]: pam_unix(sshd:auth): authentication failure; logname= uid=0 euid=0 tty=ssh ruser= rhost=${h}  user=root`);
  }
  // Injection attempts: the attacker chooses the user name.
  const injections = [
    'Failed password for invalid user root from 198.51.100.66 from 192.0.2.20 port 22 ssh2',
    'Failed password for invalid user 198.51.100.67 from 192.0.2.21 port 22 ssh2',
    'Invalid user 198.51.100.68 from 192.0.2.22 port 22',
    'Invalid user x from 198.51.100.69 port 1 from 192.0.2.23 port 22',
    'Failed password for invalid user ) from 198.51.100.70 (from 192.0.2.24 port 22 ssh2',
    'Failed publickey for invalid user evil from 198.51.100.71 port 22: from 192.0.2.25 port 22 ssh2',
    'Invalid user  from 2001:db8::dead port 22',
    'Failed password for invalid user from  from 192.0.2.26 port 22 ssh2',
  ];
  for (const i of injections) lines.push(`${t()} web1 sshd[${2000 + s}]: ${i}`);
  lines.push(`${t()} web1 sshd[77]: Accepted publickey for deploy from 192.0.2.30 port 22 ssh2: ED25519 SHA256:abc`);
  lines.push(`${t()} web1 CRON[78]: pam_unix(cron:session): session opened for user root by (uid=0)`);
  return lines;
}

function webLines(): string[] {
  const lines: string[] = [];
  const hosts = ['192.0.2.40', '2001:db8::40', '2001:DB8::41', '::ffff:192.0.2.42'];
  let n = 0;
  for (const h of hosts) {
    const client = h.includes(':') ? `[${h}]:${50000 + n}` : `${h}:${50000 + n}`;
    n++;
    lines.push(`[Thu Jan 02 10:00:${String(n).padStart(2, '0')}.123456 2025] [auth_basic:error] [pid 1:tid 2] [client ${client}] AH01618: user bob not found: /admin/`);
    lines.push(`[Thu Jan 02 10:00:${String(n).padStart(2, '0')}.123456 2025] [auth_basic:error] [pid 1:tid 2] [client ${client}] AH01617: user bob: authentication failure for "/admin/": Password Mismatch`);
    lines.push(`2025/01/02 10:00:${String(n).padStart(2, '0')} [error] 1#0: *1 user "bob" was not found in "/etc/nginx/.htpasswd", client: ${h}, server: example.test, request: "GET /admin/ HTTP/1.1", host: "example.test"`);
  }
  // Injection attempts: addresses in the path, the user name and the referrer.
  lines.push('[Thu Jan 02 10:01:00.000000 2025] [auth_basic:error] [pid 1:tid 2] [client 192.0.2.50:1] AH01618: user [client 198.51.100.1:2] not found: /x');
  lines.push('[Thu Jan 02 10:01:01.000000 2025] [core:error] [pid 1:tid 2] [client 192.0.2.51:1] AH00128: File does not exist: /var/www/[client 198.51.100.2:3] AH01618: user x not found');
  lines.push('2025/01/02 10:01:02 [error] 1#0: *2 user "a", client: 198.51.100.3, server: x" was not found in "/etc/nginx/.htpasswd", client: 192.0.2.52, server: example.test, request: "GET / HTTP/1.1", host: "example.test"');
  lines.push('2025/01/02 10:01:03 [error] 1#0: *3 no user/password was provided for basic authentication, client: 192.0.2.53, server: example.test, request: "GET /?client: 198.51.100.4 HTTP/1.1", host: "example.test"');
  return lines;
}

describe('fleetban regex', () => {
  let dir: ReturnType<typeof tempDir>;
  let sshLog: string;
  let webLog: string;
  let multiLog: string;
  let tagLog: string;

  before(async () => {
    dir = tempDir('fleetban-regex');
    sshLog = join(dir.path, 'auth.log');
    webLog = join(dir.path, 'web.log');
    writeFileSync(sshLog, `${sshLines().join('\n')}\n`);
    writeFileSync(webLog, `${webLines().join('\n')}\n`);
    multiLog = join(dir.path, 'multi.log');
    writeFileSync(multiLog, `${multiLines().join('\n')}\n`);
    tagLog = join(dir.path, 'tags.log');
    writeFileSync(tagLog, `${tagLines().join('\n')}\n`);
  });
  after(async () => {
    dir?.remove();
  });

  const cases: Array<[string, () => string, string, string[]]> = [
    ['sshd', () => sshLog, 'sshd', []],
    ['sshd in aggressive mode', () => sshLog, 'sshd[mode=aggressive]', []],
    ['sshd with raw hosts (names printed)', () => sshLog, 'sshd', ['-r']],
    ['apache-auth', () => webLog, 'apache-auth', []],
    ['nginx-http-auth', () => webLog, 'nginx-http-auth', []],
  ];
  for (const [label, log, filter, extra] of cases) {
    test(`-o ip prints what fail2ban-regex -o ip prints, in the same order: ${label}`, { skip }, async () => {
      const ours = await binFleetban(['regex', ...extra, '-o', 'ip', log(), filter]);
      const theirs = await runFail2banRegex([...extra, '-o', 'ip', log(), filter]);
      assert.equal(ours.code, 0, ours.stderr);
      assert.equal(theirs.code, 0, theirs.stderr);
      assert.ok(theirs.stdout.trim().length > 0, 'fail2ban-regex found failures');
      assert.equal(ours.stdout, theirs.stdout);
    });
  }

  test('the summary counts the same lines as fail2ban-regex\'s', { skip }, async () => {
    const lines = (out: string) => /^Lines: .*$/m.exec(out)?.[0];
    for (const [log, filter] of [[sshLog, 'sshd'], [webLog, 'apache-auth']] as const) {
      const ours = await binFleetban(['regex', log, filter]);
      const theirs = await runFail2banRegex([log, filter]);
      assert.ok(lines(theirs.stdout), theirs.stdout);
      assert.equal(lines(ours.stdout), lines(theirs.stdout), filter);
    }
  });

  const outputs: Array<[string, string[]]> = [
    ['row', []],
    ['msg', []],
    ['id', []],
    ['host', []],
    ['user', []],
    ['<ip> <F-USER>', []],
    ['<fid>|<time>|<F-PORT>|<F-NOPE>|<failures>|<family>|<ip-rev>|<F-MLFID>|<msg><br>--<sp>', []],
    ['row', ['-r']],
  ];
  for (const [format, extra] of outputs) {
    test(`-o ${format}${extra.length ? ` ${extra.join(' ')}` : ''} prints what fail2ban-regex prints, on sshd and apache-auth logs`, { skip }, async () => {
      for (const [log, filter] of [[sshLog, 'sshd'], [webLog, 'apache-auth']] as const) {
        const { ours, theirs } = await bothTools([...extra, '-o', format, log, filter]);
        assert.ok(theirs.trim().length > 0, `fail2ban-regex printed failures for ${filter}`);
        assert.equal(ours, theirs, `${filter} -o ${format}`);
      }
    });
  }

  test('the whole report agrees with fail2ban-regex\'s: per-regex hit counts, date template hits, lines and the listed lines', { skip }, async () => {
    const own = join(dir.path, 'own.conf');
    writeFileSync(own, '[Definition]\nfailregex = ^\\s*\\S+ sshd\\[\\d+\\]: Failed password for (?:invalid user )?<F-USER>\\S+</F-USER> from <HOST>\nignoreregex = for root from\ndatepattern = {^LN-BEG}%%b\\s+%%d %%H:%%M:%%S\nmaxlines = 1\n');
    const runs: string[][] = [
      [sshLog, 'sshd'],
      [sshLog, 'sshd[mode=aggressive]'],
      [webLog, 'apache-auth'],
      [webLog, 'nginx-http-auth'],
      ['--print-all-matched', sshLog, 'sshd'],
      ['--print-all-missed', sshLog, 'sshd'],
      ['--print-all-matched', '--print-all-missed', webLog, 'apache-auth'],
      ['--print-no-missed', '--print-all-ignored', sshLog, 'sshd'],
      ['--no-check-all', sshLog, 'sshd'],
      [sshLog, 'sshd', 'for root from'],
      [sshLog, own],
      ['-L', '2', sshLog, own],
      ['-d', '^%b\\s+%d %H:%M:%S', sshLog, 'sshd'],
      ['-d', 'Epoch', '--print-all-missed', sshLog, 'sshd'],
      ['-d', '{^LN-BEG}%Y/%m/%d %H:%M:%S', webLog, 'nginx-http-auth'],
      ['-L', '3', '--print-all-matched', '--print-all-missed', multiLog, MULTI_REGEX],
      ['-L', '2', multiLog, MULTI_REGEX],
      ['-L', '1', '--print-all-missed', sshLog, 'sshd'],
    ];
    for (const args of runs) {
      const { ours, theirs } = await bothTools(args);
      assert.match(theirs, /^Failregex: \d+ total$/m);
      assert.match(theirs, /^Date template hits:$/m);
      assert.equal(ours, theirs, args.join(' '));
    }
  });

  test('-v lists what fail2ban-regex -v lists: each regex with its failures and their times, the prefregex groups, every date template', { skip }, async () => {
    const runs: string[][] = [
      ['-v', sshLog, 'sshd'],
      ['-v', sshLog, 'sshd[mode=aggressive]'],
      ['-v', '-r', sshLog, 'sshd'],
      ['-v', webLog, 'apache-auth'],
      ['-v', webLog, 'nginx-http-auth'],
      ['-v', '-L', '3', multiLog, MULTI_REGEX],
      ['-v', '--no-check-all', sshLog, 'sshd'],
    ];
    // Three failregexes that match the same lines: fail2ban-regex marks the third match of a line.
    const three = join(dir.path, 'three.conf');
    writeFileSync(three, '[Definition]\nfailregex = Failed password for .* from <HOST>\n            Failed \\S+ for .* from <HOST>\n            for (?:invalid user )?\\S+ from <HOST>\n');
    runs.push(['-v', sshLog, three]);
    for (const args of runs) {
      const { ours, theirs } = await bothTools(args);
      assert.match(theirs, /^\|\s+\S+\s+\w{3} \w{3} \d{2} \d{2}:\d{2}:\d{2} \d{4}/m, 'a failure with its time is listed');
      if (args.includes(three)) assert.match(theirs, /\(multiple regex matched\)$/m);
      assert.equal(ours, theirs, args.join(' '));
    }
  });

  test('-d and -L change what -o prints as they change fail2ban-regex\'s', { skip }, async () => {
    const runs: string[][] = [
      ['-d', '^%b\\s+%d %H:%M:%S', '-o', '<ip> <time>', sshLog, 'sshd'],
      ['-d', 'Epoch', '-o', 'ip', sshLog, 'sshd'],
      ['-L', '3', '-o', 'ip', multiLog, MULTI_REGEX],
      ['-L', '3', '-o', 'msg', multiLog, MULTI_REGEX],
      ['-L', '3', '-o', 'row', multiLog, MULTI_REGEX],
      ['-L', '3', '-o', '<ip> [<msg>] <F-USER>', multiLog, MULTI_REGEX],
      ['-L', '2', '-o', 'ip', multiLog, MULTI_REGEX],
    ];
    for (const args of runs) {
      const { ours, theirs } = await bothTools(args);
      assert.equal(ours, theirs, args.join(' '));
    }
  });

  test('<ADDR>, <IP4>, <IP6>, <CIDR>, <SUBNET> and <DNS> in failregexes given on the command line take what fail2ban-regex takes', { skip }, async () => {
    const regexes = [
      'deny <ADDR> ',
      'deny <IP4> ',
      'deny <IP6> ',
      'deny (?:<IP4>|<IP6>) net',
      'deny <HOST> ',
      'deny <SUBNET> ',
      'net <SUBNET>\\s',
      'net <SUBNET>',
      'net <ADDR>/<CIDR>',
      'net <IP4>/<CIDR>',
      'net <IP6>/<CIDR>',
      'net (?:<IP4>|<IP6>)(?:/<CIDR>)?',
      'deny <ADDR> net \\S+/<CIDR>',
      'name <DNS>$',
      'name <HOST>$',
      'name <F-ID><DNS></F-ID>$',
      'deny <F-ID>\\S+</F-ID> net <SUBNET>',
    ];
    for (const regex of regexes) {
      for (const out of ['ip', 'row', '<ip>|<fid>|<F-CIDR>|<F-IP4>|<F-IP6>|<F-DNS>|<family>|<ip-rev>']) {
        const { ours, theirs } = await bothTools(['-o', out, tagLog, regex]);
        assert.equal(ours, theirs, `-o ${out} ${regex}`);
      }
      const { ours, theirs } = await bothTools([tagLog, regex]);
      assert.equal(ours, theirs, regex);
    }
  });

  test('a failregex with <CIDR> but no address is refused, as fail2ban-regex refuses it', { skip }, async () => {
    const theirs = await runFail2banRegex(['-o', 'ip', tagLog, 'net <CIDR>\\s']);
    const ours = await cli('regex', '-o', 'ip', tagLog, 'net <CIDR>\\s');
    assert.notEqual(theirs.code, 0);
    assert.match(theirs.stdout, /No failure-id group/);
    assert.equal(ours.code, 78);
    assert.match(ours.stderr, /No failure-id group/);
  });

  test('an address an attacker puts in the user name does not come out as the host', { skip }, async () => {
    const ours = await binFleetban(['regex', '-o', 'ip', sshLog, 'sshd']);
    // Left out: user names ending in `(` (198.51.100.70) or in `port 22:` (198.51.100.71) fool
    // fail2ban's own sshd filter; fleetban matches what fail2ban matches, so the -o ip test
    // above shows both taking those addresses.
    for (const planted of ['198.51.100.66', '198.51.100.67', '198.51.100.68', '198.51.100.69']) {
      assert.ok(!ours.stdout.split('\n').includes(planted), planted);
    }
    for (const real of ['192.0.2.20', '192.0.2.21', '192.0.2.22', '192.0.2.23']) assert.ok(ours.stdout.split('\n').includes(real), real);
  });

  test('--json gives the counts and every failure with its address, time and user', async () => {
    const run = await cli('regex', '--json', 'Jan  5 10:00:00 web1 sshd[1]: Failed password for invalid user bob from 192.0.2.60 port 22 ssh2', 'sshd');
    assert.equal(run.code, 0, run.stderr);
    const result = JSON.parse(run.stdout);
    assert.deepEqual(result.lines, { total: 1, matched: 1, missed: 0, ignored: 0 });
    assert.equal(result.failures.length, 1);
    assert.equal(result.failures[0].ip, '192.0.2.60');
    assert.equal(result.failures[0].user, 'bob');
    assert.match(result.failures[0].time, /^\d{4}-01-05T\d{2}:00:00\.000Z$/);
  });

  test('a bare failregex can be tested on a line, like fail2ban-regex', async () => {
    const run = await cli('regex', '-o', 'ip', '2025-01-05 10:00:00 login failed from 192.0.2.61', '^\\s*login failed from <HOST>$');
    assert.equal(run.code, 0, run.stderr);
    assert.equal(run.stdout, '192.0.2.61\n');
  });

  test('a filter that does not parse is reported with exit code 78', async () => {
    const bad = join(dir.path, 'bad.conf');
    writeFileSync(bad, '[Definition]\nfailregex = ^(unclosed <HOST>\n');
    const run = await cli('regex', 'x', bad);
    assert.equal(run.code, 78);
    assert.match(run.stderr, /missing \), unterminated subpattern/);
  });
});

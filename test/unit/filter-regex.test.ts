import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { RegexSyntaxError } from '../../shared/filter/errors.ts';
import { FilterRegex } from '../../shared/filter/failregex.ts';
import { PyRegex } from '../../shared/filter/regex/compile.ts';
import { HOST_PATTERN, resolveTags } from '../../shared/filter/regex/tags.ts';

/** Python's re.search(pattern, text).groupdict(), or null. */
function search(pattern: string, text: string, flags: { m?: boolean } = {}): Record<string, string | undefined> | null {
  return new PyRegex(pattern, flags).search(text)?.groupdict() ?? null;
}

function matches(pattern: string, text: string): boolean {
  return new PyRegex(pattern).search(text) !== null;
}

describe('Python regex syntax carried over to JavaScript', () => {
  test('named groups and named backreferences work', () => {
    assert.deepEqual(search('^(?P<word>\\w+) (?P=word)', 'hey hey you'), { word: 'hey' });
    assert.equal(search('^(?P<word>\\w+) (?P=word)', 'hey you'), null);
  });

  test('numbered backreferences and octal escapes are told apart as Python does', () => {
    assert.ok(matches('(a)\\1', 'aa'));
    assert.ok(matches('\\0101', '\x081'), '\\010 is octal, then a literal 1');
    assert.ok(matches('\\101', 'A'), 'three octal digits are a character');
  });

  test('a conditional group takes the branch that matches whether its group took part', () => {
    const p = '^(?P<open><)?\\w+(?(open)>|!)$';
    assert.ok(matches(p, '<tag>'));
    assert.ok(matches(p, 'tag!'));
    assert.ok(!matches(p, '<tag!'));
    assert.ok(!matches(p, 'tag>'));
  });

  test('a conditional keeps the leftmost-first choice of the original pattern', () => {
    // Python tries the greedy (?P<a>x)? with the group first and only then without it.
    assert.deepEqual(search('^(?P<a>x)?(?P<rest>x*)(?(a)y|z)', 'xxy'), { a: 'x', rest: 'x' });
    assert.deepEqual(search('^(?P<a>x)?(?P<rest>x*)(?(a)y|z)', 'xxz'), { a: undefined, rest: 'xx' });
  });

  test('fail2ban sshd conditionals give the same user and host as Python', () => {
    const r = new FilterRegex(
      '^Failed \\S+ for (?P<cond_inv>invalid user )?<F-USER>(?P<cond_user>\\S+)|(?(cond_inv)(?:(?! from ).)*?|[^:]+)</F-USER> from <HOST>(?: port \\d+)?(?: ssh\\d*)?(?(cond_user): |(?:(?:(?! from ).)*)$)',
    );
    const groups = (line: string) => {
      const m = r.regex.search(`${line}\n`);
      return m ? r.groups(m) : null;
    };
    assert.equal(groups('Failed password for root from 192.0.2.1 port 22 ssh2')?.user, 'root');
    // An address in the user name is not taken for the host.
    const injected = groups('Failed password for invalid user bad from 198.51.100.7 from 192.0.2.9 port 22');
    assert.equal(injected?.user, 'invalid user bad from 198.51.100.7');
    assert.equal(injected?.ip4, '192.0.2.9');
  });

  test('local flags apply inside their group only, and fail2ban turns ((?i)x) into (?i:x)', () => {
    assert.ok(matches('a(?i:b)c', 'aBc'));
    assert.ok(!matches('a(?i:b)c', 'aBC'));
    const r = new FilterRegex('^SASL ((?i)LOGIN|PLAIN) failed from <HOST>$');
    assert.ok(r.regex.search('SASL login failed from 192.0.2.1\n'));
    assert.ok(r.regex.search('SASL plain failed from 192.0.2.1\n'));
    assert.equal(r.regex.search('sasl PLAIN failed from 192.0.2.1\n'), null);
  });

  test('global flags are accepted only at the start, as in Python 3.11', () => {
    assert.ok(matches('(?i)abc', 'ABC'));
    assert.throws(() => new PyRegex('a(?i)b'), /global flags not at the start/);
  });

  test('ignoring case follows Unicode case classes (K matches the Kelvin sign, s the long s)', () => {
    assert.ok(matches('(?i)k', '\u212a'));
    assert.ok(matches('(?i)s', '\u017f'));
    assert.ok(matches('(?i)^[a-z]+$', 'ABC'));
  });

  test('$ matches at the end or before a final newline, \\Z only at the very end', () => {
    assert.ok(matches('abc$', 'abc\n'));
    assert.ok(!matches('abc\\Z', 'abc\n'));
    assert.ok(matches('abc\\Z', 'abc'));
    assert.ok(!matches('abc$', 'abc\nx'));
  });

  test('with MULTILINE, ^ and $ hold at line breaks (\\n only)', () => {
    assert.ok(matches('(?m)^b$', 'a\nb\nc'));
    assert.ok(!matches('(?m)^b$', 'a\rb\rc'));
  });

  test('. does not match \\n but does match \\r and U+2028, as in Python', () => {
    assert.ok(matches('^a.b$', 'a\rb'));
    assert.ok(matches('^a.b$', 'a\u2028b'));
    assert.ok(!matches('^a.b$', 'a\nb'));
    assert.ok(matches('(?s)^a.b$', 'a\nb'));
  });

  test('\\s includes the separators Python counts as white space, \\w and \\d are Unicode-aware', () => {
    assert.ok(matches('^a\\sb$', 'a\x1cb'));
    assert.ok(matches('^a\\sb$', 'a\x85b'));
    assert.ok(!matches('^a\\sb$', 'a\ufeffb'), 'Python does not count the BOM as white space');
    assert.ok(matches('^\\w+$', 'naïve_日本'));
    assert.ok(matches('^\\d+$', '٣٤'));
    assert.ok(!matches('(?a)^\\d+$', '٣٤'));
    assert.ok(matches('\\bé', 'x é'));
    assert.ok(!matches('\\bé', 'xé'));
  });

  test('a negated shorthand inside a class keeps its meaning', () => {
    assert.ok(matches('^[\\S\\n]+$', 'ab\ncd'));
    assert.ok(!matches('^[\\S]+$', 'ab cd'));
    assert.ok(matches('^[^\\S\\n]+$', ' \t'));
    assert.ok(!matches('^[^\\S\\n]+$', ' \nx'));
  });

  test('{ that is not a quantifier is a literal, and {,n} means {0,n}', () => {
    assert.ok(matches('^a{b}$', 'a{b}'));
    assert.ok(matches('^a{,2}$', 'aa'));
    assert.ok(!matches('^a{,2}$', 'aaa'));
  });

  test('atomic groups and possessive quantifiers do not give characters back', () => {
    assert.ok(!matches('^(?>a+)a$', 'aaa'));
    assert.ok(matches('^(?:a+)a$', 'aaa'));
    assert.ok(!matches('^a++a$', 'aaa'));
  });

  test('verbose mode ignores white space and comments', () => {
    assert.ok(matches('(?x) a b  # comment\n c', 'abc'));
  });

  test('patterns Python refuses are refused', () => {
    for (const bad of ['\\e', '(?<n>a)', 'a**', '(a', 'a)', '[a', '(?P<x>a)(?P<x>b)', '\\2(a)', '(?P=nope)']) {
      assert.throws(() => new PyRegex(bad), RegexSyntaxError, bad);
    }
  });
});

describe('fail2ban tags', () => {
  test('<HOST> takes an address or a name, and only an address with usedns=no', () => {
    const host = new FilterRegex('^from <HOST>$');
    const g = (line: string) => {
      const m = host.regex.search(`${line}\n`);
      return m ? host.groups(m) : null;
    };
    assert.equal(g('from 192.0.2.1')?.ip4, '192.0.2.1');
    assert.equal(g('from ::ffff:192.0.2.1')?.ip4, '192.0.2.1');
    assert.equal(g('from [2001:db8::1]')?.ip6, '2001:db8::1');
    assert.equal(g('from host.example.org')?.dns, 'host.example.org');
    const noDns = new FilterRegex('^from <HOST>$', { usedns: 'no' });
    assert.equal(noDns.regex.search('from host.example.org\n'), null);
    assert.ok(resolveTags('<HOST>').includes('(?P<dns>'));
    assert.equal(resolveTags('<HOST>'), HOST_PATTERN);
  });

  test('<F-NAME> groups take their lower-case name, F-ID and F-PORT their fail2ban names', () => {
    const r = new FilterRegex('^<F-USER>\\S+</F-USER> <F-ID>\\d+</F-ID> <F-PORT/> <F-ALT_USER1>x</F-ALT_USER1> <HOST>$');
    const m = r.regex.search('bob 42 ssh x 192.0.2.1\n')!;
    const g = r.groups(m);
    assert.equal(g.user, 'bob');
    assert.equal(g.fid, '42');
    assert.equal(g.fport, 'ssh');
    assert.deepEqual([...r.fieldNames].sort(), ['alt_user1', 'fid', 'user']);
  });

  test('an alt_ group fills its main group when that one is empty', () => {
    const r = new FilterRegex('^(?:user=<F-USER>\\S*</F-USER>)?(?: ruser=<F-ALT_USER>\\S+</F-ALT_USER>)? from <HOST>$');
    const g = r.groups(r.regex.search('user= ruser=alice from 192.0.2.1\n')!);
    assert.equal(g.user, 'alice');
  });

  test('a failregex without a failure id is refused, as fail2ban refuses it', async () => {
    const { compileFilter } = await import('../../shared/filter/compiled.ts');
    assert.throws(() => compileFilter({ name: 't', failregex: ['^no id here$'], ignoreregex: [], journalmatch: [], files: [] }), /No failure-id group/);
  });
});

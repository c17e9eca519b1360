import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { ConfigSet, FILE_SOURCE, resolveDefinition } from '../../shared/filter/index.ts';
import { DateDetector } from '../../shared/filter/date/detector.ts';
import { fail2banPackage, fail2banSkipReason, runSamples } from '../harness/index.ts';

/**
 * fleetban's filter engine against fail2ban itself, using Debian's fail2ban
 * package that the set-up unpacks (never installed): its own sample-log
 * suite, its filter reading, and its date templates.
 */
const skip = fail2banSkipReason();
const skipPython = fail2banSkipReason({ python: true });
const pkg = fail2banPackage();

function python(script: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(pkg!.python, ['-c', script, ...args], { env: { ...process.env, PYTHONPATH: pkg!.pythonPath }, maxBuffer: 64 << 20 }, (err, stdout) =>
      err ? reject(err) : resolve(String(stdout)),
    );
  });
}

describe('conformance with fail2ban', { skip }, () => {
  test('fail2ban\'s sample logs: at least 99% of the failJSON expectations hold, and every one that fails is listed', (t) => {
    const report = runSamples(pkg!);
    const failed = report.expectations.filter((e) => !e.ok);
    for (const e of failed) t.diagnostic(`FAILED ${e.variant} ${e.file}:${e.line}: ${e.reason}\n    ${e.text}`);
    for (const e of report.loadErrors) t.diagnostic(`LOAD ERROR ${e.variant}: ${e.error}`);
    const total = report.expectations.length;
    const passed = total - failed.length;
    t.diagnostic(`${passed} of ${total} expectations hold (${((passed / total) * 100).toFixed(2)}%) across ${new Set(report.expectations.map((e) => e.filter)).size} filters`);
    assert.ok(total > 1000, `only ${total} expectations were found`);
    assert.equal(report.loadErrors.length, 0);
    assert.ok(passed / total >= 0.99, `${failed.length} of ${total} expectations fail`);
  });

  test('every failregex of every filter matches some sample line, as fail2ban\'s test requires', () => {
    const report = runSamples(pkg!, ['sshd', 'apache-auth', 'postfix', 'dovecot', 'nginx-http-auth', 'zzz-generic-example']);
    assert.deepEqual(report.unusedRegexes, []);
  });

  test('every stock filter, plain and in aggressive mode, reads to the regexes fail2ban reads', { skip: skipPython }, async () => {
    const script = `
import json, os, sys
from fail2ban.client.filterreader import FilterReader
base = sys.argv[1]
out = {}
for f in sorted(os.listdir(os.path.join(base, 'filter.d'))):
    if not f.endswith('.conf'): continue
    name = f[:-5]
    for opts in ({}, {'mode': 'aggressive'}):
        key = name + (' aggressive' if opts else '')
        try:
            r = FilterReader(name, 'j', dict(opts), basedir=base, share_config={})
            if not r.read(): out[key] = None; continue
            r.getOptions({})
            d = {'failregex': [], 'ignoreregex': [], 'journalmatch': []}
            for o in r.convert():
                vals = o[3] if o[0] == 'multi-set' else o[3:]
                if o[2] in ('addfailregex', 'addignoreregex'): d[o[2][3:]] += vals
                elif o[2] == 'addjournalmatch': d['journalmatch'].append(' '.join(vals))
                else: d[o[2]] = vals[0]
            out[key] = d
        except Exception:
            out[key] = None
print(json.dumps(out))
`;
    const theirs = JSON.parse(await python(script, [pkg!.configDir])) as Record<string, Record<string, unknown> | null>;
    const filters = readdirSync(pkg!.filterDir).filter((f) => f.endsWith('.conf')).map((f) => f.slice(0, -5));
    let compared = 0;
    for (const name of filters) {
      for (const mode of [undefined, 'aggressive']) {
        const key = name + (mode ? ' aggressive' : '');
        const expected = theirs[key];
        let ours: Record<string, unknown> | null;
        try {
          const cfg = new ConfigSet(FILE_SOURCE);
          cfg.readNamed(join(pkg!.filterDir, name));
          const def = resolveDefinition(name, cfg, mode ? { mode } : {});
          ours = { failregex: def.failregex, ignoreregex: def.ignoreregex, journalmatch: def.journalmatch.map((l) => l.trim().split(/\s+/).join(' ')) };
          if (def.prefregex !== undefined) ours.prefregex = def.prefregex;
          if (def.maxlines !== undefined) ours.maxlines = def.maxlines;
          if (def.datepattern !== undefined) ours.datepattern = def.datepattern;
          if (def.usedns !== undefined) ours.usedns = def.usedns;
        } catch {
          ours = null;
        }
        if (expected && Array.isArray(expected.journalmatch)) {
          expected.journalmatch = (expected.journalmatch as string[]).map((l) => l.trim().split(/\s+/).join(' '));
        }
        if (expected === null) {
          assert.equal(ours === null || (ours.failregex as string[]).length === 0, true, `${key}: fail2ban cannot read it, fleetban did`);
          continue;
        }
        assert.deepEqual(ours, expected, key);
        compared++;
      }
    }
    assert.ok(compared >= 180, `compared ${compared} filter variants`);
  });

  test('the default date templates are built as fail2ban builds them: names, regexes, anchoring, weights', { skip: skipPython }, async () => {
    const script = `
import json
from fail2ban.server.datedetector import DateDetector
d = DateDetector(); d.addDefaultTemplate()
print(json.dumps([[t.name, t.template.regex, t.template.flags, t.template.weight] for t in d.templates]))
`;
    const theirs = JSON.parse(await python(script, [])) as Array<[string, string, number, number]>;
    const dd = DateDetector.forPattern(undefined);
    dd.warm();
    const ours = dd.slots().map((s) => [s.name, s.regex, s.flags, s.weight]);
    assert.deepEqual(ours, theirs);
  });
});

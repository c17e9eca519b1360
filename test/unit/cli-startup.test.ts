import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, test } from 'node:test';
import { COMMANDS, commandsFor } from '../../services/cli/commands/index.ts';
import { cli } from '../harness/index.ts';

const ROOT = join(import.meta.dirname, '..', '..');

/**
 * The modules a file loads when it is imported: static `import ... from`
 * and `export ... from` lines, without `import type` (erased) and without
 * dynamic `import()` (loaded only when a command runs).
 */
function staticImports(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const out: string[] = [];
  const re = /^\s*(?:import|export)\s+(?!type\b)(?:[^'";]*?\sfrom\s+)?['"]([^'"]+)['"]/gm;
  for (let m = re.exec(text); m; m = re.exec(text)) out.push(m[1]!);
  return out;
}

/** Every package and local file reached from `entry` through static imports. */
function graph(entry: string): { packages: Set<string>; files: Set<string> } {
  const packages = new Set<string>();
  const files = new Set<string>();
  const visit = (file: string) => {
    if (files.has(file)) return;
    files.add(file);
    for (const spec of staticImports(file)) {
      if (spec.startsWith('.')) visit(resolve(dirname(file), spec));
      else if (!spec.startsWith('node:')) packages.add(spec);
    }
  };
  visit(entry);
  return { packages, files };
}

describe('fleetban start-up', () => {
  test('starting the program loads no package (commander loads after --version), and no command module', () => {
    const { packages, files } = graph(join(ROOT, 'services', 'cli', 'main.ts'));
    assert.deepEqual([...packages], [], `loaded at start-up: ${[...packages].join(', ')}`);
    const heavy = [...files].map((f) => relative(ROOT, f)).filter((f) => /^services\/(shipper|scorer|enforcer)\/|^shared\/(config\/(parse|load)|nats|redis|filter\/(?!limits))/.test(f));
    assert.deepEqual(heavy, [], 'no part, parser or connection module at start-up');
    const commands = [...files].map((f) => relative(ROOT, f)).filter((f) => f.startsWith('services/cli/commands/') && f !== 'services/cli/commands/index.ts');
    assert.deepEqual(commands, [], 'the registry imports each command only when the program needs it');
  });

  test('the program registers only the command it runs, none for --version, every one for --help', () => {
    assert.deepEqual(commandsFor(['--version']), []);
    assert.deepEqual(commandsFor(['-V']), []);
    assert.deepEqual(commandsFor(['ban', '198.51.100.7', '--for', '1h']).map((c) => c.name), ['ban']);
    assert.deepEqual(commandsFor(['enforcer', 'setup', '--print']).map((c) => c.name), ['enforcer']);
    assert.equal(commandsFor(['--help']), COMMANDS);
    assert.equal(commandsFor(['help', 'ban']), COMMANDS);
    assert.equal(commandsFor(['bna']), COMMANDS, 'a typo gets commander\'s suggestion from every name');
  });

  test('--version alone prints what commander prints for it', async () => {
    const { VERSION } = await import('../../shared/version.ts');
    for (const flag of ['--version', '-V']) assert.deepEqual(await cli(flag), { code: 0, stdout: `${VERSION}\n`, stderr: '' });
  });

  test('each command loads its own module under its own name, and --help still lists them all', async () => {
    for (const entry of COMMANDS) assert.equal((await entry.load()).name, entry.name);
    const help = await cli('--help');
    assert.equal(help.code, 0);
    for (const entry of COMMANDS) assert.match(help.stdout, new RegExp(`^  ${entry.name} `, 'm'));
    const typo = await cli('bna');
    assert.match(typo.stderr, /Did you mean ban\?/);
  });

  test('a command\'s own module loads no other command', () => {
    for (const entry of COMMANDS) {
      const { files } = graph(join(ROOT, 'services', 'cli', 'commands', entry.name, 'index.ts'));
      const others = [...files].map((f) => relative(ROOT, f)).filter((f) => /^services\/cli\/commands\/[^/]+\//.test(f) && !f.startsWith(`services/cli/commands/${entry.name}/`));
      assert.deepEqual(others, [], `${entry.name} loads ${others.join(', ')}`);
    }
  });

  test('the import scanner sees static imports and skips type-only and dynamic ones', () => {
    const { packages } = graph(join(ROOT, 'services', 'cli', 'commands', 'config', 'check.ts'));
    assert.ok(packages.has('zod'), 'config check loads the schema (through shared/config)');
    const registry = staticImports(join(ROOT, 'services', 'cli', 'commands', 'enforcer', 'index.ts'));
    assert.ok(!registry.some((s) => s.includes('enforcer/main')), 'the part is imported dynamically');
    assert.ok(!registry.includes('./setup.ts'), 'the type-only import is skipped');
  });
});

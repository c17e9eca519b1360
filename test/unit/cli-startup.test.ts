import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, test } from 'node:test';

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
  test('building the program (every command registered) loads commander and no other package', () => {
    const { packages, files } = graph(join(ROOT, 'services', 'cli', 'main.ts'));
    assert.deepEqual([...packages], ['commander'], `loaded at start-up: ${[...packages].join(', ')}`);
    const heavy = [...files].map((f) => relative(ROOT, f)).filter((f) => /^services\/(shipper|scorer|enforcer)\/|^shared\/(config\/(parse|load)|nats|redis|filter\/(?!limits))/.test(f));
    assert.deepEqual(heavy, [], 'no part, parser or connection module at start-up');
  });

  test('the import scanner sees static imports and skips type-only and dynamic ones', () => {
    const { packages } = graph(join(ROOT, 'services', 'cli', 'commands', 'config', 'check.ts'));
    assert.ok(packages.has('zod'), 'config check loads the schema (through shared/config)');
    const registry = staticImports(join(ROOT, 'services', 'cli', 'commands', 'enforcer', 'index.ts'));
    assert.ok(!registry.some((s) => s.includes('enforcer/main')), 'the part is imported dynamically');
    assert.ok(!registry.includes('./setup.ts'), 'the type-only import is skipped');
  });
});

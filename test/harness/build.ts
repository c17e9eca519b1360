import { execFileSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

const ROOT = join(import.meta.dirname, '..', '..');
/** What infra/setup/build.sh compiles; keep in step with its `sources`. */
const SOURCES = ['services', 'shared', 'infra/keys', 'infra/nats', 'infra/redis'];
const STAMP = join(ROOT, 'dist', '.fleetban-build.sha256');

function newestMtime(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestMtime(path) : statSync(path).mtimeMs);
  }
  return newest;
}

/**
 * Tests that spawn `bin/fleetban` run the build in dist/, so the shipped code
 * is what they test. `npm test` builds it in set-up; a test file run on its
 * own after an edit rebuilds here when a source is newer than the build
 * (build.sh then compares hashes, and takes a lock against a parallel run).
 */
export function ensureBuilt(): void {
  let built = 0;
  try {
    built = statSync(STAMP).mtimeMs;
  } catch {
    // no build yet
  }
  const newest = Math.max(...SOURCES.map((s) => newestMtime(join(ROOT, s))));
  if (built > 0 && newest <= built) return;
  execFileSync('bash', [join(ROOT, 'infra', 'setup', 'build.sh'), '--if-stale'], { stdio: ['ignore', 'ignore', 'inherit'] });
}

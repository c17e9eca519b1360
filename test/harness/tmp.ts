import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { onProcessExit } from './processes.ts';

/** A fresh temp directory, removed by `remove()` or when the test process exits. */
export function tempDir(label = 'fleetban'): { path: string; remove(): void } {
  const path = mkdtempSync(join(tmpdir(), `${label}-`));
  const remove = () => rmSync(path, { recursive: true, force: true });
  const unhook = onProcessExit(remove);
  return {
    path,
    remove() {
      unhook();
      remove();
    },
  };
}

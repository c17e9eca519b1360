import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

interface PackageJson {
  name: string;
  version: string;
}

/**
 * fleetban's own package.json, found by walking up from this file: the
 * TypeScript sources (shared/runtime/) and the build (dist/shared/runtime/)
 * sit at different depths, and an installed package has no sources at all.
 */
function findPackage(from: string): { root: string; json: PackageJson } {
  for (let dir = from; ; dir = dirname(dir)) {
    try {
      const json = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as PackageJson;
      if (json.name === 'fleetban') return { root: dir, json };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
    if (dirname(dir) === dir) throw new Error(`no fleetban package.json above ${from}`);
  }
}

const found = findPackage(import.meta.dirname);

/** The package's folder (the checkout, or where npm installed it): bin/, dist/, infra/. */
export const PACKAGE_ROOT: string = found.root;
/** fleetban's version, from package.json (shown by `--version` and the service API). */
export const PACKAGE_VERSION: string = found.json.version;

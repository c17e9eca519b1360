import { readFileSync } from 'node:fs';

/** fleetban's version, from package.json (shown by `--version` and the service API). */
export const VERSION: string = (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version;

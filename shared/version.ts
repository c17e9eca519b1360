import { PACKAGE_VERSION } from './runtime/package.ts';

/** fleetban's version, from package.json (shown by `--version` and the service API). */
export const VERSION: string = PACKAGE_VERSION;

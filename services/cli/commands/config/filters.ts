import type { Config } from '../../../../shared/config/index.ts';
import { errorMessage, type ConfigProblem } from '../../../../shared/errors.ts';
import { FilterError } from '../../../../shared/filter/index.ts';
import { shippedJails } from '../../../shipper/shipper.ts';
import { loadJailFilter } from '../../../shipper/filter.ts';

/**
 * The I/O half of `config check`: every filter this host's shipper would
 * load is read and compiled as the shipper does it, from the directories the
 * config names (`filters.dirs`) and then fail2ban's. A filter that is missing
 * or does not compile would stop the shipper at start.
 */
export async function checkFilters(config: Config, file: string, lineOf: (path: readonly PropertyKey[]) => number | undefined): Promise<ConfigProblem[]> {
  const problems: ConfigProblem[] = [];
  for (const jail of shippedJails(config)) {
    try {
      await loadJailFilter(jail, config);
    } catch (err) {
      if (!(err instanceof FilterError)) throw err;
      const path = ['jails', jail.name, 'filter'];
      problems.push({ file, path: path.join('.'), line: lineOf(path), message: errorMessage(err) });
    }
  }
  return problems;
}

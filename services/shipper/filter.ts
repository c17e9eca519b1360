import type { Config, JailConfig } from '../../shared/config/index.ts';
import { journalLine, loadFilter } from '../../shared/filter/index.ts';
import type { JailFilter } from './shipper.ts';

/** A jail's filter from the filter engine, with the jail's overrides (maxlines, datepattern, journalmatch, usedns). */
export async function loadJailFilter(jail: JailConfig, config: Config): Promise<JailFilter> {
  const filter = await loadFilter(jail.filter, {
    dirs: config.filters.dirs,
    usedns: jail.usedns,
    backend: jail.backend,
    maxLineLength: config.shipper.maxLineLength,
    ...(jail.maxlines !== undefined && { maxlines: jail.maxlines }),
    ...(jail.datepattern !== undefined && { datepattern: jail.datepattern }),
    ...(jail.journalmatch !== undefined && { journalmatch: jail.journalmatch }),
  });
  return {
    name: filter.name,
    maxlines: filter.maxlines,
    journalmatch: filter.journalmatch,
    matcher: () => filter.matcher(),
    journalLine: (entry) => journalLine(entry).line,
  };
}

/**
 * The fail2ban filter engine: reads filter.d files as fail2ban does and
 * matches log lines like fail2ban, with the regexes translated once.
 */
export { compileFilter, parseJournalMatch, type CompiledFilter, type CompileSettings, type UseDns } from './compiled.ts';
export { resolveDefinition, type FilterDefinition } from './config/definition.ts';
export { ConfigSet, type ConfigSource } from './config/reader.ts';
export { MatcherCore, type CoreMode, type CoreStats, type Failure, type FailureId } from './core.ts';
export type { DateTemplateStats } from './date/detector.ts';
export { DatePatternError, FilterConfigError, FilterError, FilterNotFoundError, RegexSyntaxError } from './errors.ts';
export { buildFilter, BuiltFilter } from './filter.ts';
export { CIDR_UNSPEC, canonicalAddress, fail2banIpText, inetAton, parseIpv4, parseIpv6 } from './ipaddr.ts';
export type { TupleLine } from './failregex.ts';
export { journalDate, journalLine, journalMicros } from './journal.ts';
export {
  fail2banCacheRoot,
  fail2banPackageDir,
  FILE_SOURCE,
  filterSearchPath,
  loadFilter,
  readFilterDefinition,
  SYSTEM_FILTER_DIR,
} from './load.ts';
export { DEFAULT_MAX_LINE_LENGTH, getOwn, isoLocal, matchedLines, newCore, OPERATION_MODE, toMatch, zoneSettings, type ZoneSettings } from './matcher.ts';
export { BACKTRACK_LIMIT, regexGuardActive } from './regex/guard.ts';
export { resolveTags, resolveTagsForDisplay } from './regex/tags.ts';
export { PyMatch, PyRegex } from './regex/compile.ts';
export { extractOptions } from './spec.ts';
export type { Filter, FilterMatch, FilterOptions, LineMatcher } from './types.ts';

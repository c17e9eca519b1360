export { capBan, longestBan, MAX_BAN, uncappedLongestBan } from './bantime.ts';
export { formatConfig, redactConfig } from './format.ts';
export { compileFormula, DEFAULT_FORMULA, FormulaError, type CompiledFormula, type FormulaInput } from './formula.ts';
export { loadConfig } from './load.ts';
export { parseConfig, type ParseContext, type ParseResult } from './parse.ts';
export { RETENTION_MARGIN } from './retention.ts';
export * from './schema/index.ts';

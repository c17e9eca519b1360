export { formatConfig, redactConfig } from './format.ts';
export { loadConfig } from './load.ts';
export { parseConfig, type ParseContext, type ParseResult } from './parse.ts';
export * from './schema/index.ts';

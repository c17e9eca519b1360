export { createLogger, OncePerKey, type Logger, type LoggerOptions } from './log.ts';
export { PartMetrics, serveMetrics, type MetricsServer } from './metrics.ts';

import { runPart } from '../../shared/runtime/index.ts';
import type { ServiceCommandOptions } from '../cli/service-command.ts';
import { loadJailFilter } from './filter.ts';
import { startShipper } from './shipper.ts';

/**
 * `fleetban shipper`: wiring only. Stops on SIGTERM/SIGINT (or `stopSignal`),
 * and by itself once a finite source (stdin) has ended and all of it is
 * acknowledged.
 */
export async function main(options: ServiceCommandOptions & { stopSignal?: AbortSignal }): Promise<number> {
  const stop = new AbortController();
  if (options.stopSignal) options.stopSignal.addEventListener('abort', () => stop.abort(), { once: true });
  else for (const signal of ['SIGTERM', 'SIGINT'] as const) process.once(signal, () => stop.abort());
  return runPart({
    part: 'shipper',
    description: 'tails logs and the journal, matches failures with fail2ban filters, publishes them to JetStream',
    configFile: options.config,
    ...(options.checkConfig && { checkConfig: true }),
    stopSignal: stop.signal,
    start: (ctx) => startShipper(ctx, { loadFilter: loadJailFilter, onIdle: () => stop.abort() }),
  });
}

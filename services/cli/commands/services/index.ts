import { action, type CliCommand } from '../../command.ts';
import { withConfig, withJson } from '../../options.ts';
import type { ServicesOptions } from './run.ts';

/** `fleetban services`: every shipper, scorer and enforcer that answers the NATS service API. */
export const servicesCommand = {
  name: 'services',
  register(program, io, done) {
    const command = program
      .command('services')
      .description('list every shipper, scorer and enforcer answering on NATS: host, version, uptime, key figures')
      .option('--wait <ms>', 'how long to collect answers', (v: string) => Number(v), 1000);
    withJson(withConfig(command), 'the services and their full stats').action(
      action(io, done, async (opts: ServicesOptions) => {
        const { runServices } = await import('./run.ts');
        return runServices(io, opts);
      }),
    );
  },
} satisfies CliCommand;

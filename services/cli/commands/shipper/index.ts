import type { CliCommand } from '../../command.ts';
import { addServiceCommand } from '../../service-command.ts';

/** `fleetban shipper --config FILE`: tail this host's logs and publish failures. */
export const shipperCommand = {
  name: 'shipper',
  register(program, io, done) {
    addServiceCommand(program, io, done, {
      name: 'shipper',
      description: "tail this host's logs and journal, match failures with fail2ban filters, publish them to JetStream",
      load: () => import('../../../shipper/main.ts'),
    });
  },
} satisfies CliCommand;

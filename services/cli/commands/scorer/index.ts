import type { CliCommand } from '../../command.ts';
import { addServiceCommand } from '../../service-command.ts';

/** `fleetban scorer --config FILE`: a scorer replica (runs until SIGTERM/SIGINT). */
export const scorerCommand = {
  name: 'scorer',
  register(program, io, done) {
    addServiceCommand(program, io, done, {
      name: 'scorer',
      description: 'run a scorer replica: count failures from every host in Redis and publish ban decisions',
      load: () => import('../../../scorer/main.ts'),
    });
  },
} satisfies CliCommand;

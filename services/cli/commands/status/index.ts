import { action, type CliCommand } from '../../command.ts';
import { withConfig, withJson } from '../../options.ts';
import type { StatusOptions } from './run.ts';

/**
 * `fleetban status [JAIL]`: fail2ban-client's status tree, fleet-wide, from
 * the scorers' `status` endpoint (any replica answers for all: they share
 * Redis).
 */
export const statusCommand = {
  name: 'status',
  register(program, io, done) {
    const command = program
      .command('status')
      .description("the jails, or one jail's failures and bans, fleet-wide, in fail2ban-client's layout (asks a scorer)")
      .argument('[jail]', 'one jail: currently/total failed, currently/total banned, banned list')
      .option('--timeout <ms>', 'how long to wait for a scorer to answer', (v: string) => Number(v), 5000);
    withJson(withConfig(command), "the scorer's reply").action(
      action(io, done, async (jail: string | undefined, opts: StatusOptions) => {
        const { runStatus } = await import('./run.ts');
        return runStatus(io, jail, opts);
      }),
    );
  },
} satisfies CliCommand;

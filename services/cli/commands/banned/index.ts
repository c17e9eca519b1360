import { action, type CliCommand } from '../../command.ts';
import { withConfig, withJson } from '../../options.ts';
import type { BannedOptions } from './run.ts';

/**
 * `fleetban banned [IP|CIDR]`: the bans in force, from the decisions stream
 * (so it answers with Redis and every scorer down); with a target, whether
 * and where it is banned (exit 0) or not (exit 1).
 */
export const bannedCommand = {
  name: 'banned',
  register(program, io, done) {
    const command = program
      .command('banned')
      .description('list the bans in force (jail, remaining time, origin, reason), read from the decisions stream')
      .argument('[target]', 'only bans of this IP address or CIDR (or networks around it); exit 1 when there is none');
    withJson(withConfig(command), 'the bans').action(
      action(io, done, async (target: string | undefined, opts: BannedOptions) => {
        const { runBanned } = await import('./run.ts');
        return runBanned(io, target, opts);
      }),
    );
  },
} satisfies CliCommand;

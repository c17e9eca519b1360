import { Option } from 'commander';
import { action, type CliCommand } from '../../command.ts';
import { withConfig, withJson } from '../../options.ts';
import type { UnbanOptions } from './run.ts';

/**
 * `fleetban unban IP|CIDR`: lifts a ban in one jail (`--jail`), or in every
 * jail where the target is banned (the default, and `--all`), found by
 * folding the decisions stream; needs only NATS.
 */
export const unbanCommand = {
  name: 'unban',
  register(program, io, done) {
    const command = program
      .command('unban')
      .description('lift the ban of an address or network on every enforcer (needs only NATS)')
      .argument('<target>', 'the banned IP address or CIDR, as `fleetban banned` shows it')
      .addOption(new Option('-j, --jail <name>', 'only in this jail (published whether or not it is banned there)').conflicts('all'))
      .option('-a, --all', 'in every jail where it is banned (the default without --jail)')
      .option('-r, --reason <text>', 'why, kept with the decision');
    withJson(withConfig(command), 'the stored decisions').action(
      action(io, done, async (target: string, opts: UnbanOptions) => {
        const { runUnban } = await import('./run.ts');
        return runUnban(io, target, opts);
      }),
    );
  },
} satisfies CliCommand;

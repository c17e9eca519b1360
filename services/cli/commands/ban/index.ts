import { action, type CliCommand } from '../../command.ts';
import { withConfig, withJson } from '../../options.ts';
import type { BanOptions } from './run.ts';

/**
 * `fleetban ban IP|CIDR`: a manual ban, published straight to the decisions
 * stream (no scorer, no Redis), acknowledged by JetStream before it returns.
 */
export const banCommand = {
  name: 'ban',
  register(program, io, done) {
    const command = program
      .command('ban')
      .description('ban an address or network on every enforcer now (needs only NATS)')
      .argument('<target>', 'an IP address or a CIDR (192.0.2.7, 2001:db8::/64)')
      .option('-j, --jail <name>', 'jail of the ban (default: "manual", which enforcers block on every port)')
      .option('-f, --for <duration>', "length: 600, 10m, 1h, 1d, 2w, permanent (default: the jail's bantime from the config, else 1d)")
      .option('-r, --reason <text>', 'why, shown by `fleetban banned` and `status`');
    withJson(withConfig(command), 'the stored decision').action(
      action(io, done, async (target: string, opts: BanOptions) => {
        const { runBan } = await import('./run.ts');
        return runBan(io, target, opts);
      }),
    );
  },
} satisfies CliCommand;

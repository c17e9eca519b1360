import type { Command } from 'commander';
import { ENFORCER_BACKENDS } from '../../../../shared/config/schema/backends.ts';
import { action, type CliCommand } from '../../command.ts';
import { addServiceCommand } from '../../service-command.ts';
import type { SetupFlags } from './setup.ts';

/**
 * `fleetban enforcer --config FILE` runs the enforcer; `fleetban enforcer
 * setup` and `teardown` create and remove its base objects (as root). The
 * sub-commands take `--config` from the parent (`fleetban enforcer setup
 * --config FILE` works as written).
 */
export const enforcerCommand = {
  name: 'enforcer',
  register(program, io, done) {
    const enforcer = addServiceCommand(program, io, done, {
      name: 'enforcer',
      description: 'apply ban decisions in this host\'s firewall (edge and proxy hosts)',
      load: () => import('../../../enforcer/main.ts'),
    });
    const sub = (name: 'setup' | 'teardown', description: string): Command =>
      enforcer
        .command(name)
        .description(description)
        // Also its own: with positional options (the program's), the parent's --config is not seen after `setup`.
        .option('-c, --config <file>', 'configuration file')
        .option('--backend <name>', `only this backend (${ENFORCER_BACKENDS.join(', ')}); default: every backend the config uses`)
        .option('--print', 'print the commands instead of running them');
    const run = (what: 'setup' | 'teardown') =>
      action(io, done, async (_flags: SetupFlags, cmd: Command) => {
        // The config parser and the backends load only when the sub-command runs.
        const { runSetup } = await import('./setup.ts');
        // The sub-command's own options win (commander lets the parent's, defaults included, win otherwise).
        return runSetup(what, { ...cmd.optsWithGlobals<SetupFlags>(), ...cmd.opts<Partial<SetupFlags>>() }, io);
      });
    sub('setup', 'create the base table, sets, chains and rules the enforcer needs (root)')
      .option('--user <name>', 'xt_recent: hand the lists to this user, so the enforcer can run as it')
      .action(run('setup'));
    sub('teardown', 'remove everything the enforcer created, bans included (root)').action(run('teardown'));
  },
} satisfies CliCommand;

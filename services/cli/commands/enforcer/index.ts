import type { Command } from 'commander';
import { loadConfig, ENFORCER_BACKENDS, type EnforcerBackendName } from '../../../../shared/config/index.ts';
import { ConfigError, formatConfigProblem, InvalidInputError } from '../../../../shared/errors.ts';
import { createLogger } from '../../../../shared/telemetry/index.ts';
import { action, EXIT, type CliCommand, type CliIo } from '../../command.ts';
import { addServiceCommand } from '../../service-command.ts';

interface SetupFlags {
  config: string;
  backend?: string;
  user?: string;
  print?: boolean;
}

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
        .option('--backend <name>', `only this backend (${ENFORCER_BACKENDS.join(', ')}); default: every backend the config uses`)
        .option('--print', 'print the commands instead of running them');
    sub('setup', 'create the base table, sets, chains and rules the enforcer needs (root)')
      .option('--user <name>', 'xt_recent: hand the lists to this user, so the enforcer can run as it')
      .action(action(io, done, (_flags: SetupFlags, cmd: Command) => runSetup('setup', cmd.optsWithGlobals<SetupFlags>(), io)));
    sub('teardown', 'remove everything the enforcer created, bans included (root)')
      .action(action(io, done, (_flags: SetupFlags, cmd: Command) => runSetup('teardown', cmd.optsWithGlobals<SetupFlags>(), io)));
  },
} satisfies CliCommand;

async function runSetup(what: 'setup' | 'teardown', flags: SetupFlags, io: CliIo): Promise<number> {
  if (flags.backend !== undefined && !(ENFORCER_BACKENDS as readonly string[]).includes(flags.backend)) {
    io.stderr.write(`fleetban: unknown backend "${flags.backend}" (${ENFORCER_BACKENDS.join(', ')})\n`);
    return EXIT.usage;
  }
  let config;
  try {
    config = await loadConfig(flags.config);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    for (const p of err.problems) io.stderr.write(`${formatConfigProblem(p)}\n`);
    return EXIT.config;
  }
  const { setupEnforcer } = await import('../../../enforcer/setup.ts');
  const log = createLogger({ level: 'warn', part: 'cli', destination: { write: (s: string) => void io.stderr.write(s) } });
  try {
    const reports = await setupEnforcer(what, config, {
      log,
      ...(flags.backend !== undefined && { backend: flags.backend as EnforcerBackendName }),
      ...(flags.user !== undefined && { user: flags.user }),
      ...(flags.print && { print: true }),
    });
    for (const r of reports) {
      if (flags.print) io.stdout.write(`# ${what} ${r.backend}: ${r.sets.join(', ')}\n${r.script}`);
      else io.stdout.write(`${what === 'setup' ? 'set up' : 'tore down'} ${r.backend} for ${r.sets.join(', ')}\n`);
    }
    return EXIT.ok;
  } catch (err) {
    if (err instanceof InvalidInputError) {
      io.stderr.write(`fleetban: ${err.message}\n`);
      return EXIT.usage;
    }
    throw err;
  }
}

import { action, type CliCommand } from '../../command.ts';

/** `fleetban config check FILE`: the resolved configuration, or every error with file, key and line. */
export const configCommand = {
  name: 'config',
  register(program, io, done) {
    const config = program.command('config').description('work with fleetban.yaml');
    config
      .command('check')
      .description('check a configuration file: print it resolved (defaults filled in) or list its errors')
      .argument('<file>', 'the fleetban.yaml to check')
      .option('--json', 'print the resolved configuration as JSON')
      .action(
        action(io, done, async (file: string, opts: { json?: boolean }) => {
          const { checkConfigFile } = await import('./check.ts');
          return checkConfigFile(io, file, opts);
        }),
      );
  },
} satisfies CliCommand;

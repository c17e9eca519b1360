import { readFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { formatConfigProblem, errorMessage } from '../../../../shared/errors.ts';
import { formatConfig, parseConfig, redactConfig } from '../../../../shared/config/index.ts';
import { action, EXIT, type CliCommand } from '../../command.ts';

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
          let text: string;
          try {
            text = await readFile(file, 'utf8');
          } catch (err) {
            io.stderr.write(`${file}: cannot read: ${errorMessage(err)}\n`);
            return EXIT.config;
          }
          const result = parseConfig(text, file, { hostname: hostname() });
          if (!result.ok) {
            for (const problem of result.problems) io.stderr.write(`${formatConfigProblem(problem)}\n`);
            io.stderr.write(`${result.problems.length} error${result.problems.length === 1 ? '' : 's'} in ${file}\n`);
            return EXIT.config;
          }
          io.stdout.write(opts.json ? `${JSON.stringify(redactConfig(result.config), null, 2)}\n` : formatConfig(result.config));
          return EXIT.ok;
        }),
      );
  },
} satisfies CliCommand;

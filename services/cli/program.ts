import { VERSION } from '../../shared/version.ts';
import { EXIT, type CliIo } from './command.ts';
import { commandsFor } from './commands/index.ts';

/**
 * Builds the `fleetban` program and runs it on `argv`; resolves with the exit
 * code. Kept apart from main.ts so tests run commands in-process.
 */
export async function runCli(argv: readonly string[], io: CliIo): Promise<number> {
  // `fleetban --version` alone, as commander would print it, without loading commander.
  if (argv.length === 1 && (argv[0] === '-V' || argv[0] === '--version')) {
    io.stdout.write(`${VERSION}\n`);
    return EXIT.ok;
  }
  const { Command } = await import('commander');
  let code: number = EXIT.ok;
  const program = new Command('fleetban')
    .description('fail2ban for a fleet: shippers, scorers and enforcers over NATS JetStream and Redis')
    .version(VERSION, '-V, --version')
    // fleetban's own options only before the command name, so a command can take -V for itself
    // (`fleetban regex -V` prints the fail2ban version it follows, as fail2ban-regex -V does).
    .enablePositionalOptions()
    .configureOutput({
      writeOut: (s) => io.stdout.write(s),
      writeErr: (s) => io.stderr.write(s),
    })
    .exitOverride()
    .showHelpAfterError('(add --help for usage)');
  // Only the modules of the command that runs load (none for --version), so each starts fast.
  const commands = await Promise.all(commandsFor(argv).map((c) => c.load()));
  for (const command of commands) command.register(program, io, (c) => (code = c));
  for (const sub of program.commands) sub.exitOverride();
  try {
    await program.parseAsync(argv as string[], { from: 'user' });
  } catch (err) {
    const e = err as { code?: string; exitCode?: number };
    if (e.code === 'commander.helpDisplayed' || e.code === 'commander.version' || e.code === 'commander.help') return EXIT.ok;
    if (typeof e.exitCode === 'number') return e.exitCode === 1 ? EXIT.usage : e.exitCode;
    throw err;
  }
  return code;
}

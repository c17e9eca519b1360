import { loadConfig, ENFORCER_BACKENDS, type EnforcerBackendName } from '../../../../shared/config/index.ts';
import { ConfigError, formatConfigProblem, InvalidInputError } from '../../../../shared/errors.ts';
import { createLogger } from '../../../../shared/telemetry/index.ts';
import { EXIT, type CliIo } from '../../command.ts';

export interface SetupFlags {
  config: string;
  backend?: string;
  user?: string;
  print?: boolean;
}

/** `fleetban enforcer setup|teardown`: loaded only when one of them runs. */
export async function runSetup(what: 'setup' | 'teardown', flags: SetupFlags, io: CliIo): Promise<number> {
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

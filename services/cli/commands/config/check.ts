import { readFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { formatConfig, parseConfig, redactConfig } from '../../../../shared/config/index.ts';
import { errorMessage, formatConfigProblem } from '../../../../shared/errors.ts';
import { EXIT, type CliIo } from '../../command.ts';

/** `fleetban config check FILE`: loaded only when it runs. */
export async function checkConfigFile(io: CliIo, file: string, opts: { json?: boolean }): Promise<number> {
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
}

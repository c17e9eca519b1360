import { readFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { formatConfig, parseConfig, redactConfig } from '../../../../shared/config/index.ts';
import { errorMessage, formatConfigProblem, type ConfigProblem } from '../../../../shared/errors.ts';
import { EXIT, type CliIo } from '../../command.ts';
import { checkFilters } from './filters.ts';

/**
 * `fleetban config check FILE`: loaded only when it runs. The pure parse
 * first, then what needs the file system (the shipper's filters). Warnings
 * (a ban capped) go to stderr and do not fail the check.
 */
export async function checkConfigFile(io: CliIo, file: string, opts: { json?: boolean }): Promise<number> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    io.stderr.write(`${file}: cannot read: ${errorMessage(err)}\n`);
    return EXIT.config;
  }
  const result = parseConfig(text, file, { hostname: hostname() });
  const problems = result.ok ? await checkFilters(result.config, file, result.lineOf) : result.problems;
  if (problems.length > 0) return refuse(io, file, problems);
  if (!result.ok) return EXIT.config;
  for (const w of result.warnings) io.stderr.write(`warning: ${formatConfigProblem(w)}\n`);
  io.stdout.write(opts.json ? `${JSON.stringify(redactConfig(result.config), null, 2)}\n` : formatConfig(result.config));
  return EXIT.ok;
}

function refuse(io: CliIo, file: string, problems: readonly ConfigProblem[]): number {
  for (const problem of problems) io.stderr.write(`${formatConfigProblem(problem)}\n`);
  io.stderr.write(`${problems.length} error${problems.length === 1 ? '' : 's'} in ${file}\n`);
  return EXIT.config;
}

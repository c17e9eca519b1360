import { readFile } from 'node:fs/promises';
import { errorMessage } from '../../../../shared/errors.ts';
import { EXIT, type CliIo } from '../../command.ts';
import { loadCommandConfig } from '../../context.ts';
import type { UpOptions } from './index.ts';
import { planUp, writtenKeys } from './plan.ts';
import { Stack } from './stack.ts';

/** `fleetban up`: wiring only — config, plan, then the stack runs until stopped. */
export async function runUp(io: CliIo, opts: UpOptions): Promise<number> {
  let text: string;
  try {
    text = await readFile(opts.config, 'utf8');
  } catch (err) {
    io.stderr.write(`${opts.config}: cannot read: ${errorMessage(err)}\n`);
    return EXIT.config;
  }
  const config = await loadCommandConfig(opts.config, io);
  const planned = planUp(config, writtenKeys(text), { dryRun: Boolean(opts.dryRun), cwd: process.cwd() });
  if (!planned.ok) {
    for (const problem of planned.problems) io.stderr.write(`${opts.config}: ${problem}\n`);
    return EXIT.config;
  }
  return new Stack({ io, config, configFile: opts.config, configText: text, plan: planned.plan }).run();
}

import type { Command } from 'commander';
import { DEFAULT_CONFIG_FILE } from './service-command.ts';

/**
 * Options shared by the commands that talk to the fleet. Declaring them loads
 * nothing but commander; the config is read when the command runs.
 */
export interface FleetOptions {
  config?: string;
  json?: boolean;
}

/** `-c, --config FILE`: without it, the default file when it exists, else the built-in defaults. */
export function withConfig(command: Command): Command {
  return command.option('-c, --config <file>', `configuration file (default: ${DEFAULT_CONFIG_FILE} if it exists, else built-in defaults)`);
}

/** `--json`: print data for scripts instead of text. */
export function withJson(command: Command, what = 'the result'): Command {
  return command.option('--json', `print ${what} as JSON`);
}

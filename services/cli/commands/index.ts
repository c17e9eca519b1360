import type { CliCommand } from '../command.ts';
import { configCommand } from './config/index.ts';
import { scorerCommand } from './scorer/index.ts';

/** Every `fleetban` sub-command, in the order `--help` lists them. */
export const COMMANDS: readonly CliCommand[] = [configCommand, scorerCommand];

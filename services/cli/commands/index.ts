import type { CliCommand } from '../command.ts';
import { configCommand } from './config/index.ts';
import { enforcerCommand } from './enforcer/index.ts';
import { regexCommand } from './regex/index.ts';
import { scorerCommand } from './scorer/index.ts';
import { shipperCommand } from './shipper/index.ts';

/** Every `fleetban` sub-command, in the order `--help` lists them. */
export const COMMANDS: readonly CliCommand[] = [configCommand, regexCommand, shipperCommand, scorerCommand, enforcerCommand];

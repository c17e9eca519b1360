import type { CliCommand } from '../command.ts';
import { banCommand } from './ban/index.ts';
import { bannedCommand } from './banned/index.ts';
import { configCommand } from './config/index.ts';
import { enforcerCommand } from './enforcer/index.ts';
import { regexCommand } from './regex/index.ts';
import { scorerCommand } from './scorer/index.ts';
import { servicesCommand } from './services/index.ts';
import { shipperCommand } from './shipper/index.ts';
import { statusCommand } from './status/index.ts';
import { streamsCommand } from './streams/index.ts';
import { unbanCommand } from './unban/index.ts';
import { upCommand } from './up/index.ts';

/**
 * Every `fleetban` sub-command, in the order `--help` lists them. Each one's
 * `register` only declares options; its implementation loads when it runs.
 */
export const COMMANDS: readonly CliCommand[] = [
  banCommand,
  unbanCommand,
  statusCommand,
  bannedCommand,
  servicesCommand,
  streamsCommand,
  upCommand,
  regexCommand,
  configCommand,
  shipperCommand,
  scorerCommand,
  enforcerCommand,
];

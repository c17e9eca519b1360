import type { CliCommand } from '../command.ts';

/** A sub-command by name; its module (options and help text) loads only when needed. */
export interface CommandEntry {
  readonly name: string;
  load(): Promise<CliCommand>;
}

/**
 * Every `fleetban` sub-command, in the order `--help` lists them. The program
 * loads only the one it runs (and none for `--version`); each one's
 * `register` only declares options, and its implementation loads when it runs.
 */
export const COMMANDS: readonly CommandEntry[] = [
  { name: 'ban', load: async () => (await import('./ban/index.ts')).banCommand },
  { name: 'unban', load: async () => (await import('./unban/index.ts')).unbanCommand },
  { name: 'status', load: async () => (await import('./status/index.ts')).statusCommand },
  { name: 'banned', load: async () => (await import('./banned/index.ts')).bannedCommand },
  { name: 'services', load: async () => (await import('./services/index.ts')).servicesCommand },
  { name: 'streams', load: async () => (await import('./streams/index.ts')).streamsCommand },
  { name: 'up', load: async () => (await import('./up/index.ts')).upCommand },
  { name: 'regex', load: async () => (await import('./regex/index.ts')).regexCommand },
  { name: 'config', load: async () => (await import('./config/index.ts')).configCommand },
  { name: 'shipper', load: async () => (await import('./shipper/index.ts')).shipperCommand },
  { name: 'scorer', load: async () => (await import('./scorer/index.ts')).scorerCommand },
  { name: 'enforcer', load: async () => (await import('./enforcer/index.ts')).enforcerCommand },
];

/**
 * The commands `argv` needs registered: the one it names first, none for a
 * bare `--version`, and every one otherwise (`--help`, `help CMD`, a typo
 * that commander answers with a suggestion).
 */
export function commandsFor(argv: readonly string[]): readonly CommandEntry[] {
  const first = argv[0];
  if (first === '-V' || first === '--version') return [];
  const named = COMMANDS.find((c) => c.name === first);
  return named ? [named] : COMMANDS;
}

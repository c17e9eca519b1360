import type { Command } from 'commander';
import { FleetbanError } from '../../shared/errors.ts';

/** Exit codes scripts can rely on (sysexits.h where one fits). */
export const EXIT = {
  ok: 0,
  /** The command ran and the answer is "no" (e.g. `banned IP` for an address that is not banned). */
  negative: 1,
  usage: 2,
  /**
   * The request is well formed but refused: the target is allowlisted or
   * loopback, or a ban would outlast the decisions stream (EX_DATAERR).
   */
  refused: 65,
  /** NATS, Redis or another service could not be reached. */
  unavailable: 69,
  software: 70,
  /** Needs privileges this process does not have, e.g. root to create a network namespace (EX_NOPERM). */
  noPermission: 77,
  /** The configuration file has errors. */
  config: 78,
} as const;
export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

/** An error that ends a command with a given exit code and a one-line message. */
export class CliError extends FleetbanError {
  constructor(
    message: string,
    readonly exitCode: ExitCode | number,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** What a command writes to; tests pass in-memory streams. */
export interface CliIo {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
  /** Whether stdout is a terminal (progress bars, colour). */
  isTty: boolean;
}

/**
 * A CLI command: a folder under commands/ whose index exports one of these.
 * `register` adds the command (and its sub-commands) to the program; each
 * action returns the process's exit code instead of exiting, because only
 * main.ts ends the process.
 */
export interface CliCommand {
  readonly name: string;
  register(program: Command, io: CliIo, done: (code: ExitCode | number) => void): void;
}

/** Wraps an action so its result (or its error) becomes the exit code. */
export function action<A extends unknown[]>(
  io: CliIo,
  done: (code: number) => void,
  fn: (...args: A) => Promise<number | void>,
): (...args: A) => Promise<void> {
  return async (...args: A) => {
    try {
      done((await fn(...args)) ?? EXIT.ok);
    } catch (err) {
      const e = err as Error & { exitCode?: number };
      io.stderr.write(`fleetban: ${e.message ?? String(err)}\n`);
      done(e.exitCode ?? EXIT.software);
    }
  };
}

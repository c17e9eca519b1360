/**
 * Named errors shared by every part. Each layer wraps the error below it with
 * context (`cause`), so a log line says what was being done and why it failed.
 */
export class FleetbanError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** A value from a user or a config file that cannot be used as given. */
export class InvalidInputError extends FleetbanError {}

/** An address or CIDR that does not parse. */
export class InvalidAddressError extends InvalidInputError {}

/** A duration such as `10m` or `1d12h` that does not parse. */
export class InvalidDurationError extends InvalidInputError {}

/** A message that does not satisfy its wire schema. */
export class MessageValidationError extends FleetbanError {
  constructor(
    readonly kind: string,
    readonly reason: string,
  ) {
    super(`invalid ${kind}: ${reason}`);
  }
}

/** A configuration file with one or more problems; each names file, key and line. */
export class ConfigError extends FleetbanError {
  constructor(
    readonly file: string,
    readonly problems: readonly ConfigProblem[],
  ) {
    super(problems.map(formatConfigProblem).join('\n'));
  }
}

export interface ConfigProblem {
  file: string;
  /** Dotted key path, e.g. `jails.sshd.maxretry`; empty for the whole file. */
  path: string;
  /** 1-based line, when the key exists in the file. */
  line?: number;
  message: string;
}

export function formatConfigProblem(p: ConfigProblem): string {
  const where = p.line ? `${p.file}:${p.line}` : p.file;
  return p.path ? `${where}: ${p.path}: ${p.message}` : `${where}: ${p.message}`;
}

/** A connection to NATS or Redis that could not be set up. */
export class ConnectionError extends FleetbanError {}

export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

import { FleetbanError } from '../errors.ts';

/** A filter that cannot be found, read or understood. */
export class FilterError extends FleetbanError {}

/** A filter name or path that matches no file. */
export class FilterNotFoundError extends FilterError {}

/** A fail2ban configuration file (filter.d) with a syntax or interpolation error. */
export class FilterConfigError extends FilterError {
  constructor(
    message: string,
    readonly file?: string,
    options?: { cause?: unknown },
  ) {
    super(file ? `${file}: ${message}` : message, options);
  }
}

/** A regular expression that Python's `re` would refuse, or that cannot be carried over. */
export class RegexSyntaxError extends FilterError {
  constructor(
    message: string,
    readonly pattern: string,
  ) {
    super(`${message} in regex ${JSON.stringify(pattern.length > 200 ? `${pattern.slice(0, 200)}...` : pattern)}`);
  }
}

/** A datepattern that cannot be used. */
export class DatePatternError extends FilterError {}

/** Lines are cut to this many characters before matching unless configured otherwise (filters.maxLineLength). */
export const DEFAULT_MAX_LINE_LENGTH = 4096;

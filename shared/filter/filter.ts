import { compileFilter, type CompiledFilter } from './compiled.ts';
import type { FilterDefinition } from './config/definition.ts';
import { DEFAULT_MAX_LINE_LENGTH, FilterLineMatcher, zoneSettings, type ZoneSettings } from './matcher.ts';
import type { Filter, FilterOptions, LineMatcher } from './types.ts';

/** A filter translated once; each matcher() has its own buffers and date state. */
export class BuiltFilter implements Filter {
  constructor(
    readonly compiled: CompiledFilter,
    readonly definition: FilterDefinition,
    private readonly zones: ZoneSettings,
    private readonly maxLineLength: number,
  ) {}

  get name(): string {
    return this.compiled.name;
  }

  get maxlines(): number {
    return this.compiled.maxlines;
  }

  get journalmatch(): string[][] {
    return this.compiled.journalmatch;
  }

  matcher(): LineMatcher {
    return new FilterLineMatcher(this.compiled, this.zones, this.maxLineLength);
  }
}

/** A Filter from a resolved definition, without touching files (the pure half of loadFilter). */
export function buildFilter(definition: FilterDefinition, options: FilterOptions = {}): BuiltFilter {
  const compiled = compileFilter(definition, options);
  return new BuiltFilter(compiled, definition, zoneSettings(options), options.maxLineLength ?? DEFAULT_MAX_LINE_LENGTH);
}

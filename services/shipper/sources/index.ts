import type { JailConfig } from '../../../shared/config/index.ts';
import { filesSource } from './files/index.ts';
import { journalSource } from './journal/index.ts';
import { stdinSource } from './stdin/index.ts';
import type { Source, SourceContext, SourceKind } from './types.ts';

/** Every kind of source, by name. A jail uses each kind whose `select` accepts it. */
export const SOURCES = {
  files: filesSource,
  journal: journalSource,
  stdin: stdinSource,
} as const satisfies Record<string, { readonly name: string; select(jail: JailConfig): unknown; create(spec: never, context: SourceContext): Source }>;

export type SourceName = keyof typeof SOURCES;

/** The sources a jail reads from, created but not started. */
export function sourcesFor(jail: JailConfig, context: SourceContext): Source[] {
  const out: Source[] = [];
  for (const kind of Object.values(SOURCES) as SourceKind<unknown>[]) {
    const spec = kind.select(jail);
    if (spec !== undefined) out.push(kind.create(spec, context));
  }
  return out;
}

export type { LineSink, Source, SourceContext, SourceFilter, SourceKind, SourceLine, Stream } from './types.ts';

import { formatDuration, PERMANENT } from '../../shared/time/index.ts';

/** Left-aligned columns separated by two spaces; the last column is not padded. */
export function table(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]) => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!))).join('  ').trimEnd();
  return `${[header, ...rows].map(line).join('\n')}\n`;
}

/** What is left of a ban: `9m42s`, `permanent`, or `0s` once over. */
export function remaining(ms: number): string {
  if (ms === PERMANENT) return 'permanent';
  return ms < 1000 ? '0s' : formatDuration(Math.floor(ms / 1000) * 1000);
}

/** Keeps a free-text cell on one line and within `max` characters. */
export function cell(text: string | undefined, max = 60): string {
  if (text === undefined || text === '') return '-';
  const flat = text.replace(/[\s\u0000-\u001f\u007f]+/g, ' ');
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
}

import { tryParseTarget } from '../../../../shared/ip/index.ts';
import type { KernelEntry } from '../contract.ts';

/**
 * Reads `ipset save` output: `add <name> <entry> timeout <s>` lines of the
 * sets named in `names` (kernel set name → enforced set key). Timeout 0 (or
 * none) means the entry stays until deleted.
 */
export function parseSave(text: string, names: ReadonlyMap<string, string>): Array<KernelEntry & { name: string }> {
  const out: Array<KernelEntry & { name: string }> = [];
  for (const line of text.split('\n')) {
    if (!line.startsWith('add ')) continue;
    const words = line.split(' ');
    const name = words[1]!;
    const key = names.get(name);
    if (key === undefined) continue;
    const target = tryParseTarget(words[2] ?? '');
    if (!target) continue;
    const t = words.indexOf('timeout');
    const seconds = t > 0 ? Number(words[t + 1]) : 0;
    out.push({ name, set: key, target, expiresInMs: Number.isFinite(seconds) && seconds > 0 ? seconds * 1000 : null });
  }
  return out;
}

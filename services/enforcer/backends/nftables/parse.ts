import { tryParseTarget } from '../../../../shared/ip/index.ts';
import type { KernelEntry } from '../contract.ts';
import type { SetKind } from '../names.ts';

interface NftElem {
  val: unknown;
  timeout?: number;
  expires?: number;
}

/**
 * Reads `nft -j list table inet <table>`: the elements of the sets named in
 * `names` (kernel set name → enforced set key and kind). Ranges, which
 * fleetban never writes, are skipped. nft gives timeouts in whole seconds.
 */
export function parseTableJson(json: string, names: ReadonlyMap<string, { key: string; kind: SetKind }>): KernelEntry[] {
  const doc = JSON.parse(json) as { nftables?: Array<Record<string, unknown>> };
  const out: KernelEntry[] = [];
  for (const item of doc.nftables ?? []) {
    const set = item.set as { name?: string; elem?: unknown[] } | undefined;
    if (!set?.name) continue;
    const owner = names.get(set.name);
    if (!owner) continue;
    for (const raw of set.elem ?? []) {
      const elem: NftElem = typeof raw === 'object' && raw !== null && 'elem' in raw ? (raw as { elem: NftElem }).elem : { val: raw };
      const text = valueText(elem.val);
      const target = text === undefined ? undefined : tryParseTarget(text);
      if (!target) continue;
      const expiresInMs = elem.timeout === undefined ? null : Math.max(0, (elem.expires ?? 0) * 1000);
      out.push({ set: owner.key, target, expiresInMs });
    }
  }
  return out;
}

function valueText(val: unknown): string | undefined {
  if (typeof val === 'string') return val;
  if (typeof val === 'object' && val !== null && 'prefix' in val) {
    const p = (val as { prefix: { addr?: unknown; len?: unknown } }).prefix;
    if (typeof p.addr === 'string' && typeof p.len === 'number') return `${p.addr}/${p.len}`;
  }
  return undefined;
}

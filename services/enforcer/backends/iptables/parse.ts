import { tryParseTarget, type Target } from '../../../../shared/ip/index.ts';

export interface ListedRule {
  chain: string;
  target: Target;
  /** The rule as `iptables -S` prints it, after `-A <chain>`: enough to delete exactly this rule. */
  spec: string[];
  /** Epoch ms of its `--datestop`, or null when it has none. */
  until: number | null;
}

/** Reads `iptables -S` output: the `-s` rules of the chains named in `chains`. */
export function parseRules(text: string, chains: ReadonlySet<string>): ListedRule[] {
  const out: ListedRule[] = [];
  for (const line of text.split('\n')) {
    const words = line.trim().split(/\s+/);
    if (words[0] !== '-A' || !chains.has(words[1] ?? '')) continue;
    const s = words.indexOf('-s');
    const target = s > 0 ? tryParseTarget(words[s + 1] ?? '') : undefined;
    if (!target) continue;
    const d = words.indexOf('--datestop');
    const until = d > 0 ? Date.parse(`${words[d + 1]}Z`) : null;
    out.push({ chain: words[1]!, target, spec: words.slice(2), until: until === null || Number.isNaN(until) ? null : until });
  }
  return out;
}

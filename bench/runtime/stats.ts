import { get } from 'node:http';

/** GET /metrics on a fresh connection (no keep-alive: a part closes idle ones, and a reused one fails with EPIPE). */
function scrape(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    get({ host: '127.0.0.1', port, path: '/metrics', agent: false }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (text += c));
      res.on('end', () => resolve(text));
      res.on('error', reject);
    }).on('error', reject);
  });
}

export const median = (xs: readonly number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};
export const min = (xs: readonly number[]): number => Math.min(...xs);
export const max = (xs: readonly number[]): number => Math.max(...xs);

/** A measured figure against its target: "48 MiB (target <= 60: met)". */
export function verdict(measured: number, target: number | undefined, unit: string): string {
  const figure = `${measured.toFixed(0)} ${unit}`;
  if (target === undefined) return figure;
  return `${figure} (target <= ${target}: ${measured <= target ? 'met' : 'NOT met'})`;
}

/** Reads one Prometheus sample (summed over labels) from a part's /metrics. */
export async function metric(port: number, name: string): Promise<number> {
  const text = await scrape(port);
  let sum = 0;
  for (const line of text.split('\n')) {
    if (line.startsWith(`${name}{`) || line.startsWith(`${name} `)) sum += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return sum;
}

export async function until(check: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

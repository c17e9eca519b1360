import { hostAddresses, tryCanonicalIp } from '../../shared/ip/index.ts';
import type { Exec } from './backends/index.ts';

/**
 * The addresses a ban must never cover: this host's own, and with
 * `enforcer.netns` also those of the namespace whose firewall is enforced.
 */
export async function protectedAddresses(exec: Exec): Promise<string[]> {
  const out = new Set(hostAddresses());
  if (exec.netns !== undefined) {
    const json = await exec.run({ tool: 'ip', args: ['-j', 'addr', 'show'] });
    for (const link of JSON.parse(json) as Array<{ addr_info?: Array<{ local?: string }> }>) {
      for (const info of link.addr_info ?? []) {
        const ip = info.local ? tryCanonicalIp(info.local) : undefined;
        if (ip) out.add(ip);
      }
    }
  }
  return [...out];
}

import { networkInterfaces } from 'node:os';
import { tryCanonicalIp } from './address.ts';

/** This host's own addresses (fail2ban's `ignoreself`), canonical, without zones. */
export function hostAddresses(): string[] {
  const out = new Set<string>();
  for (const list of Object.values(networkInterfaces())) {
    for (const info of list ?? []) {
      const ip = tryCanonicalIp(info.address.split('%')[0]!);
      if (ip) out.add(ip);
    }
  }
  return [...out];
}

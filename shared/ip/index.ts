export {
  addressBits,
  banTargetFor,
  bitsOf,
  canonicalIp,
  ipFamily,
  parseTarget,
  tryCanonicalIp,
  tryParseTarget,
  type IpFamily,
  type Target,
} from './address.ts';
export { Allowlist, LOOPBACK_NETWORKS } from './allowlist.ts';
export { hostAddresses } from './host.ts';
export { readCanonical } from './fast.ts';

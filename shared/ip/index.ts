export {
  addressBits,
  banTargetFor,
  bitsOf,
  canonicalIp,
  ipFamily,
  parseTarget,
  readTarget,
  tryCanonicalIp,
  tryParseTarget,
  type IpFamily,
  type ReadTarget,
  type Target,
} from './address.ts';
export { Allowlist, LOOPBACK_NETWORKS } from './allowlist.ts';
export { hostAddresses } from './host.ts';
export { readCanonical } from './fast.ts';

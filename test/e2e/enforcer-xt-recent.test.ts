import { enforcerScenarios } from './enforcer-scenarios.ts';

// xt_recent lists hold addresses (and IPv6 networks of a jail's ipv6prefix), not CIDRs.
enforcerScenarios('xt_recent', { cidr: false });

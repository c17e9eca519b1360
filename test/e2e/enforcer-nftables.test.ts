import { enforcerScenarios } from './enforcer-scenarios.ts';

enforcerScenarios('nftables', { cidr: true });

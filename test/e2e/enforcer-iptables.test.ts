import { enforcerScenarios } from './enforcer-scenarios.ts';

enforcerScenarios('iptables', { cidr: true });

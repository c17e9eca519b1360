import { enforcerScenarios } from './enforcer-scenarios.ts';

enforcerScenarios('ipset', { cidr: true });

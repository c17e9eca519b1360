export { ENFORCER_BACKENDS, jailSchema, type EnforcerBackendName, type JailConfig, type JailInput } from './jail.ts';
export { natsSchema, type NatsConfig, type StreamConfig } from './nats.ts';
export { jailSelection, selects, type JailSelection } from './selection.ts';
export { redisSchema, type RedisConfig } from './redis.ts';
export { LOG_LEVELS, rootSchema, type Config } from './root.ts';
export { upSchema, type UpConfig } from './up.ts';

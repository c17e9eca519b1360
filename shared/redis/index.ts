export { closeRedis, connectRedis, createRedis, type RedisClient, type RedisConnectOptions } from './connect.ts';
export { hashTag, LuaScript } from './scripts.ts';

export { connectNats, drainNats, natsConnectionOptions, type NatsConnectOptions } from './connect.ts';
export { startPartService, type EndpointHandler, type PartService, type PartServiceOptions } from './service.ts';
export { autoMaxAges, ensureStreams, longestBan, wantedStreams, type WantedStream } from './streams.ts';

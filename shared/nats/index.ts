export { connectNats, drainNats, natsConnectionOptions, type NatsConnectOptions } from './connect.ts';
export { startPartService, type EndpointHandler, type PartService, type PartServiceOptions } from './service.ts';
export {
  applyStreams,
  autoMaxAges,
  differences,
  ensureStreams,
  longestBan,
  streamNanos,
  wantedStreams,
  type EnsuredStreams,
  type StreamCheck,
  type WantedStream,
} from './streams.ts';

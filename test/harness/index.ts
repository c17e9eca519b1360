export { BIN, binFleetban, cli, type CliRun } from './cli.ts';
export { testConfig } from './config.ts';
export { memoryLogger, quietLogger } from './log.ts';
export { NatsServer, type NatsServerOptions } from './nats.ts';
export {
  canConnect,
  edgeAndAttacker,
  linkNamespaces,
  Netns,
  netnsSkipReason,
  tcpConnect,
  tcpListener,
  type ConnectOutcome,
  type EdgeAndAttacker,
} from './netns.ts';
export { freePort } from './ports.ts';
export { onProcessExit, startTracked, stopProcess, waitForOutput, type Started } from './processes.ts';
export { RedisServer, type RedisServerOptions } from './redis.ts';
export { tempDir } from './tmp.ts';
export { operatorMode, type OperatorMode } from './jwt.ts';
export { Journald, journaldSkipReason } from './journald.ts';
export { readStream, streamCount, type StoredMessage } from './jetstream.ts';
export { fail2banPackage, fail2banSkipReason, runFail2banRegex, type Fail2banPackage } from './fail2ban.ts';
export { runSamples, sampleFilters, type Expectation, type SamplesReport } from './fail2ban-samples.ts';
export { SecureFleet, type SecureFleetOptions, type Violation } from './secure-fleet.ts';

import type { NatsConnection } from '@nats-io/nats-core';
import { jetstream } from '@nats-io/jetstream';
import type { ConnectionState, PublishTarget } from './publisher.ts';

/** The publisher's view of JetStream: a publish with a message id, a single attempt each. */
export function jetstreamTarget(nc: NatsConnection): PublishTarget {
  const js = jetstream(nc);
  return {
    publish: (subject, data, options) => js.publish(subject, data, { msgID: options.msgID, timeout: options.timeout, retries: 1 }),
  };
}

/** Follows the connection's status events, so publishing can wait for a reconnect instead of piling up retries. */
export function connectionState(nc: NatsConnection): ConnectionState {
  let connected = !nc.isClosed();
  let wake: Array<() => void> = [];
  void (async () => {
    for await (const s of nc.status()) {
      if (s.type === 'disconnect') connected = false;
      if (s.type === 'reconnect') {
        connected = true;
        for (const w of wake.splice(0)) w();
      }
    }
  })().catch(() => undefined);
  void nc.closed().then(() => {
    connected = false;
  });
  return {
    get connected() {
      return connected;
    },
    whenConnected(signal) {
      if (connected || signal.aborted) return Promise.resolve();
      return new Promise((resolve) => {
        const done = () => {
          signal.removeEventListener('abort', done);
          wake = wake.filter((w) => w !== done);
          resolve();
        };
        wake.push(done);
        signal.addEventListener('abort', done, { once: true });
      });
    },
  };
}

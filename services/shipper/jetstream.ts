import { createInbox, headers, type Msg, type NatsConnection } from '@nats-io/nats-core';
import { errorMessage, FleetbanError } from '../../shared/errors.ts';
import type { ConnectionState, PublishTarget } from './publisher.ts';

/** JetStream refused a message, or no acknowledgement came in time. */
export class PublishError extends FleetbanError {}

interface Pending {
  resolve(ack: { duplicate: boolean }): void;
  reject(err: Error): void;
  deadline: number;
}

/**
 * Asynchronous JetStream publishing: each message goes out with a reply
 * subject under one inbox subscription, and acknowledgements are matched to
 * messages by that subject, in whatever order they come. Unlike a request
 * per message (nats.js `js.publish`), nothing is allocated per message beyond
 * its headers and one pending entry, and consecutive publishes leave in one
 * socket write. Timeouts are swept in insertion order: every message has the
 * same timeout, so the oldest expire first.
 */
export function jetstreamTarget(nc: NatsConnection, inboxPrefix?: string): PublishTarget & { close(): void } {
  const prefix = `${createInbox(inboxPrefix)}.`;
  const pending = new Map<string, Pending>();
  let next = 0;
  const settle = (msg: Msg): void => {
    const token = msg.subject.slice(prefix.length);
    const waiting = pending.get(token);
    if (!waiting) return;
    pending.delete(token);
    if (msg.headers?.code === 503) return waiting.reject(new PublishError('no responders: no stream takes this subject (yet)'));
    if (msg.headers?.hasError) return waiting.reject(new PublishError(`JetStream answered ${msg.headers.code} ${msg.headers.description}`));
    let ack: { stream?: string; duplicate?: boolean; error?: { code?: number; description?: string } };
    try {
      ack = msg.json();
    } catch (err) {
      return waiting.reject(new PublishError(`unreadable acknowledgement: ${errorMessage(err)}`, { cause: err }));
    }
    if (ack.error) return waiting.reject(new PublishError(`JetStream refused the message: ${ack.error.description ?? ack.error.code}`));
    if (!ack.stream) return waiting.reject(new PublishError('acknowledgement without a stream'));
    waiting.resolve({ duplicate: ack.duplicate === true });
  };
  const sub = nc.subscribe(`${prefix}*`, { callback: (err, msg) => (err ? undefined : settle(msg)) });
  const sweep = setInterval(() => {
    const now = Date.now();
    for (const [token, waiting] of pending) {
      if (waiting.deadline > now) break;
      pending.delete(token);
      waiting.reject(new PublishError('no acknowledgement in time'));
    }
  }, 100);
  sweep.unref();
  return {
    publish(subject, data, options) {
      return new Promise((resolve, reject) => {
        const token = (next++).toString(36);
        pending.set(token, { resolve, reject, deadline: Date.now() + options.timeout });
        const h = headers();
        h.set('Nats-Msg-Id', options.msgID);
        try {
          nc.publish(subject, data, { headers: h, reply: prefix + token });
        } catch (err) {
          pending.delete(token);
          reject(new PublishError(`cannot publish: ${errorMessage(err)}`, { cause: err }));
        }
      });
    },
    close() {
      clearInterval(sweep);
      sub.unsubscribe();
      for (const waiting of pending.values()) waiting.reject(new PublishError('publishing closed'));
      pending.clear();
    },
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

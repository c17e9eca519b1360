import type { NatsConnection } from '@nats-io/nats-core';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';

/** A message as stored in a stream. */
export interface StoredMessage {
  seq: number;
  subject: string;
  /** The `Nats-Msg-Id` header it was published with. */
  msgId: string | undefined;
  data: Uint8Array;
  json<T = unknown>(): T;
}

/** How many messages a stream holds now (0 when it does not exist yet). */
export async function streamCount(nc: NatsConnection, stream: string): Promise<number> {
  const jsm = await jetstreamManager(nc);
  return jsm.streams.info(stream).then((i) => i.state.messages, () => 0);
}

/** Every message in a stream, in order, read back through an ordered consumer. */
export async function readStream(nc: NatsConnection, stream: string): Promise<StoredMessage[]> {
  const total = await streamCount(nc, stream);
  const out: StoredMessage[] = [];
  if (total === 0) return out;
  const consumer = await jetstream(nc).consumers.get(stream);
  while (out.length < total) {
    const batch = await consumer.fetch({ max_messages: Math.min(1000, total - out.length), expires: 5000 });
    let got = 0;
    for await (const m of batch) {
      got++;
      out.push({ seq: m.seq, subject: m.subject, msgId: m.headers?.get('Nats-Msg-Id') || undefined, data: m.data, json: <T>() => m.json<T>() });
    }
    if (got === 0) break;
  }
  return out;
}

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { MAX_RECONNECT_WAIT_MS, Outage, reconnectDelay } from '../../shared/nats/backoff.ts';

const noJitter = () => 0;

describe('reconnecting to NATS with backoff', () => {
  test('waits reconnectWait at first, then half the time NATS has been down, up to the cap', () => {
    assert.equal(reconnectDelay(1000, 0, 0, noJitter), 1000);
    assert.equal(reconnectDelay(1000, 1500, 0, noJitter), 1000);
    assert.equal(reconnectDelay(1000, 6000, 0, noJitter), 3000);
    assert.equal(reconnectDelay(1000, 60_000, 0, noJitter), MAX_RECONNECT_WAIT_MS);
    assert.equal(reconnectDelay(1000, 24 * 3600_000, 0, noJitter), MAX_RECONNECT_WAIT_MS);
  });

  test('a reconnectWait above the cap is kept as it is', () => {
    assert.equal(reconnectDelay(30_000, 0, 0, noJitter), 30_000);
    assert.equal(reconnectDelay(30_000, 600_000, 0, noJitter), 30_000);
  });

  test('jitter adds up to its bound', () => {
    assert.equal(reconnectDelay(1000, 0, 1000, () => 0.999), 1999);
    assert.equal(reconnectDelay(1000, 0, 1000, () => 0.5), 1500);
  });

  test('the outage clock starts at the first loss and stops when the connection is back', () => {
    let now = 10_000;
    const outage = new Outage(() => now);
    assert.equal(outage.downFor(), 0);
    outage.lost();
    now += 4000;
    outage.lost();
    now += 1000;
    assert.equal(outage.downFor(), 5000, 'a second loss report does not restart the clock');
    outage.restored();
    assert.equal(outage.downFor(), 0);
  });
});

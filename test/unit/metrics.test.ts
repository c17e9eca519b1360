import assert from 'node:assert/strict';
import { test } from 'node:test';
import { PartMetrics, serveMetrics } from '../../shared/telemetry/index.ts';
import { quietLogger } from '../harness/index.ts';

test('metrics are named fleetban_<part>_<what> and served on /metrics', async () => {
  const metrics = new PartMetrics('shipper');
  const lines = metrics.counter('lines_read_total', 'Log lines read', ['jail']);
  lines.inc({ jail: 'sshd' }, 3);
  assert.throws(() => metrics.counter('lines_read', 'no suffix'), /must end in _total/);
  const server = await serveMetrics({ host: '127.0.0.1', port: 0 }, metrics.registry, quietLogger());
  try {
    const res = await fetch(`http://127.0.0.1:${server.port}/metrics`);
    assert.equal(res.status, 200);
    const body = await res.text();
    assert.match(body, /fleetban_shipper_lines_read_total\{jail="sshd"\} 3/);
    assert.match(body, /fleetban_shipper_process_resident_memory_bytes/);
    assert.equal((await fetch(`http://127.0.0.1:${server.port}/other`)).status, 404);
  } finally {
    await server.close();
  }
});

import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { PositionStore, type PositionEvents } from '../../services/shipper/positions.ts';
import { tempDir } from '../harness/index.ts';

function events(): PositionEvents & { log: string[] } {
  const log: string[] = [];
  return {
    log,
    positionsFailed: () => log.push('failed'),
    positionsWritten: () => log.push('written'),
    positionsUnreadable: (_f, _e, moved) => log.push(`unreadable ${moved ? 'moved' : 'kept'}`),
  };
}

describe('saved read positions', () => {
  test('positions written by one run are what the next run reads, and nothing else is left in the directory', async () => {
    const dir = tempDir();
    try {
      const file = join(dir.path, 'shipper', 'sshd.json');
      const first = await PositionStore.open(file, events());
      assert.equal(first.saved.size, 0);
      let offset = 10;
      first.store.track('f:1-2', () => ({ offset }));
      await first.store.flush();
      offset = 20;
      await first.store.flush();
      const second = await PositionStore.open(file, events());
      assert.deepEqual([...second.saved], [['f:1-2', { offset: 20 }]]);
      assert.deepEqual(readdirSync(join(dir.path, 'shipper')), ['sshd.json']);
    } finally {
      dir.remove();
    }
  });

  test('an unchanged state is not written again', async () => {
    const dir = tempDir();
    try {
      const ev = events();
      const { store } = await PositionStore.open(join(dir.path, 'p.json'), ev);
      store.track('k', () => 1);
      await store.flush();
      await store.flush();
      assert.deepEqual(ev.log, ['written']);
    } finally {
      dir.remove();
    }
  });

  test('a newer generation keeps its key when the older one is forgotten', async () => {
    const dir = tempDir();
    try {
      const file = join(dir.path, 'p.json');
      const { store } = await PositionStore.open(file, events());
      const old = () => 'old';
      const current = () => 'new';
      store.track('f:1-2', old);
      store.track('f:1-2', current);
      store.forget('f:1-2', old);
      await store.flush();
      assert.deepEqual(JSON.parse(readFileSync(file, 'utf8')).streams, { 'f:1-2': 'new' });
    } finally {
      dir.remove();
    }
  });

  test('an unreadable positions file is moved aside and the run starts without positions', async () => {
    const dir = tempDir();
    try {
      const file = join(dir.path, 'p.json');
      writeFileSync(file, '{"v":1,"streams":');
      const ev = events();
      const { saved } = await PositionStore.open(file, ev);
      assert.equal(saved.size, 0);
      assert.deepEqual(ev.log, ['unreadable moved']);
      assert.equal(existsSync(file), false);
      assert.equal(readdirSync(dir.path).filter((f) => f.startsWith('p.json.unreadable-')).length, 1);
    } finally {
      dir.remove();
    }
  });

  test('a failed write is reported and rejected, and a later write succeeds', async () => {
    const dir = tempDir();
    try {
      const file = join(dir.path, 'p.json');
      const ev = events();
      const { store } = await PositionStore.open(file, ev);
      store.track('k', () => 1);
      // A directory where the temporary file must go makes the write fail.
      const { mkdirSync, rmdirSync } = await import('node:fs');
      mkdirSync(`${file}.tmp`);
      await assert.rejects(store.flush(), /cannot write positions/);
      rmdirSync(`${file}.tmp`);
      await store.flush();
      assert.deepEqual(ev.log, ['failed', 'written']);
    } finally {
      dir.remove();
    }
  });
});

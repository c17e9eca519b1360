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
    positionsUnreadable: (_f, _e, moved, fallback) => log.push(`unreadable ${moved ? 'moved' : 'kept'} ${fallback}`),
  };
}

describe('saved read positions', () => {
  test('positions written by one run are what the next run reads; beside them only the previous copy is left', async () => {
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
      assert.deepEqual(readdirSync(join(dir.path, 'shipper')).sort(), ['sshd.json', 'sshd.json.bak']);
      assert.deepEqual(JSON.parse(readFileSync(`${file}.bak`, 'utf8')).streams, { 'f:1-2': { offset: 10 } });
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

  test('an unreadable positions file without a previous copy is moved aside, and the run is told its positions are lost', async () => {
    const dir = tempDir();
    try {
      const file = join(dir.path, 'p.json');
      writeFileSync(file, '{"v":1,"streams":');
      const ev = events();
      const { saved, lost } = await PositionStore.open(file, ev);
      assert.equal(saved.size, 0);
      assert.equal(lost, true);
      assert.deepEqual(ev.log, ['unreadable moved start']);
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
  for (const [name, damage] of [['truncated', (t: string) => t.slice(0, 9)], ['garbage', () => '\u0000\u0000\u0000 not json'], ['empty', () => '']] as const) {
    test(`a ${name} positions file falls back to the previous good copy`, async () => {
      const dir = tempDir();
      try {
        const file = join(dir.path, 'p.json');
        const first = await PositionStore.open(file, events());
        let offset = 10;
        first.store.track('f:1-2', () => ({ offset }));
        await first.store.flush();
        offset = 20;
        await first.store.flush();
        writeFileSync(file, damage(readFileSync(file, 'utf8')));
        const ev = events();
        const second = await PositionStore.open(file, ev);
        assert.equal(second.lost, false);
        assert.deepEqual([...second.saved], [['f:1-2', { offset: 10 }]]);
        assert.deepEqual(ev.log, ['unreadable moved backup']);
      } finally {
        dir.remove();
      }
    });
  }

  test('a missing positions file beside a previous copy uses the copy; neither is a first run', async () => {
    const dir = tempDir();
    try {
      const file = join(dir.path, 'p.json');
      const fresh = await PositionStore.open(file, events());
      assert.deepEqual([fresh.saved.size, fresh.lost], [0, false]);
      writeFileSync(`${file}.bak`, JSON.stringify({ v: 1, streams: { journal: { cursor: 'c' } } }));
      const ev = events();
      const { saved, lost } = await PositionStore.open(file, ev);
      assert.equal(lost, false);
      assert.deepEqual([...saved], [['journal', { cursor: 'c' }]]);
      assert.deepEqual(ev.log, ['unreadable kept backup']);
    } finally {
      dir.remove();
    }
  });
});

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { failureId, fileWhere, journalWhere, stdinWhere } from '../../services/shipper/ids.ts';
import { failureEventSchema } from '../../shared/schema/index.ts';

const valid = (id: string) => failureEventSchema.shape.id.safeParse(id).success;

describe('message ids from where a line was read', () => {
  test('the same place gives the same id, and every part of the place changes it', () => {
    const base = failureId('sshd', 'web-1', fileWhere('2049-131', 'lq3x9a', 1024), 0);
    assert.equal(base, 'sshd@web-1:f2049-131.lq3x9a.1024');
    assert.equal(failureId('sshd', 'web-1', fileWhere('2049-131', 'lq3x9a', 1024), 0), base);
    const others = [
      failureId('sshd-ddos', 'web-1', fileWhere('2049-131', 'lq3x9a', 1024), 0),
      failureId('sshd', 'web-2', fileWhere('2049-131', 'lq3x9a', 1024), 0),
      failureId('sshd', 'web-1', fileWhere('2049-132', 'lq3x9a', 1024), 0),
      failureId('sshd', 'web-1', fileWhere('2049-131', 'lq3x9b', 1024), 0),
      failureId('sshd', 'web-1', fileWhere('2049-131', 'lq3x9a', 1025), 0),
      failureId('sshd', 'web-1', fileWhere('2049-131', 'lq3x9a', 1024), 1),
    ];
    assert.equal(new Set([base, ...others]).size, 7);
  });

  test('ids are valid on the wire, also for long or unusual host names and journal cursors', () => {
    const cursor = 's=936738a6eaec4d3ea35e9ee6d946dcdb;i=15b;b=1c057373a06742b189aa772cb7f9da02;m=58ab3296;t=660d48ce4e7b3;x=343c3449ea8cbd13';
    const ids = [
      failureId('sshd', 'web-1', journalWhere(cursor), 0),
      failureId('a'.repeat(64), 'h'.repeat(255), fileWhere('18446744073709551615-18446744073709551615', 'zzzzzzzzz', Number.MAX_SAFE_INTEGER), 99),
      failureId('sshd', 'host with spaces;and=odd', stdinWhere('lq3x9a', 0), 0),
    ];
    for (const id of ids) assert.ok(valid(id), id);
    assert.notEqual(journalWhere(cursor), journalWhere(cursor.replace('i=15b', 'i=15c')));
  });
});

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { LineSplitter } from '../../services/shipper/sources/lines.ts';

const bytes = (s: string) => Buffer.from(s, 'utf8');

describe('cutting a byte stream into lines', () => {
  test('complete lines come out with the offsets they span, newline included', () => {
    const s = new LineSplitter(1000);
    assert.deepEqual(s.push(bytes('one\ntwo\n')), [
      { text: 'one', start: 0, end: 4 },
      { text: 'two', start: 4, end: 8 },
    ]);
    assert.equal(s.resumeAt, 8);
    assert.equal(s.holding, false);
  });

  test('a line written in two parts is held until its newline, and resuming starts at its beginning', () => {
    const s = new LineSplitter(1000, 100);
    assert.deepEqual(s.push(bytes('Failed pass')), []);
    assert.equal(s.holding, true);
    assert.equal(s.resumeAt, 100);
    assert.equal(s.readTo, 111);
    assert.deepEqual(s.push(bytes('word from 192.0.2.10\nnext')), [{ text: 'Failed password from 192.0.2.10', start: 100, end: 132 }]);
    assert.equal(s.resumeAt, 132);
  });

  test('CRLF endings lose their CR, also when the CR ends one chunk and the LF starts the next', () => {
    const s = new LineSplitter(1000);
    assert.deepEqual(s.push(bytes('a\r\nb\r')), [{ text: 'a', start: 0, end: 3 }]);
    assert.deepEqual(s.push(bytes('\n')), [{ text: 'b', start: 3, end: 6 }]);
  });

  test('an endless line keeps only its first bytes in memory, and its offsets stay exact', () => {
    const s = new LineSplitter(10);
    for (let i = 0; i < 1000; i++) assert.deepEqual(s.push(bytes('x'.repeat(100))), []);
    const [line] = s.push(bytes('yyy\nz\n'));
    assert.equal(line!.text, 'x'.repeat(10));
    assert.equal(line!.end, 100_004);
    assert.deepEqual(s.push(bytes('')), []);
  });

  test('a multi-byte character split across chunks is decoded whole', () => {
    const s = new LineSplitter(1000);
    const text = bytes('user é\n');
    assert.deepEqual(s.push(text.subarray(0, 6)), []);
    assert.deepEqual(s.push(text.subarray(6)), [{ text: 'user é', start: 0, end: 8 }]);
  });

  test('flush hands on a last line without newline, and reset starts over', () => {
    const s = new LineSplitter(1000);
    s.push(bytes('a\nlast'));
    assert.deepEqual(s.flush(), { text: 'last', start: 2, end: 6 });
    assert.equal(s.flush(), undefined);
    s.reset(0);
    assert.deepEqual(s.push(bytes('new\n')), [{ text: 'new', start: 0, end: 4 }]);
  });
});

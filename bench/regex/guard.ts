/**
 * The ways to keep an attacker's line from stalling a regex, measured:
 * per-line cost of a synchronous round trip to a worker thread (what a
 * watchdog that can terminate the worker needs), of `vm` with a timeout, of
 * a backtrack-limited regex against a plain one, and how long a limited
 * regex takes to give up on a runaway line.
 *
 *   node --import tsx bench/regex/guard.ts
 */
import vm from 'node:vm';
import { Worker } from 'node:worker_threads';
import { PyRegex } from '../../shared/filter/regex/compile.ts';
import { guardedRegExp } from '../../shared/filter/regex/guard.ts';
import { resolveTags } from '../../shared/filter/regex/tags.ts';

const LINE = 'Failed password for invalid user admin from 192.0.2.7 port 2222 ssh2\n';
const SOURCE = new PyRegex(resolveTags('^Failed \\S+ for (?:invalid user )?(?P<user>\\S+) from <HOST> port \\d+(?: ssh\\d*)?$')).jsSource;

function perCall(label: string, n: number, fn: () => void): void {
  fn();
  const t = performance.now();
  for (let i = 0; i < n; i++) fn();
  console.log(`${label.padEnd(58)} ${(((performance.now() - t) / n) * 1000).toFixed(2).padStart(9)} µs per line`);
}

// Plain and limited regexes on the happy path.
const plain = new RegExp(SOURCE, 'u');
const limited = guardedRegExp(SOURCE, 'u');
perCall('plain RegExp exec', 200_000, () => plain.exec(LINE));
perCall('backtrack-limited RegExp exec (chosen)', 200_000, () => limited.exec(LINE));

// Giving up on a runaway line.
const runaway = guardedRegExp(new PyRegex(resolveTags('^\\s*user (?:\\w+\\s?)+ from <HOST>$')).jsSource, 'u');
perCall('limited RegExp giving up on a crafted line', 50, () => runaway.exec(` user ${'a'.repeat(60)}!\n`));

// vm with a timeout, per line.
const context = vm.createContext({ re: plain, line: LINE });
const script = new vm.Script('re.exec(line)');
perCall('vm.Script.runInContext with a timeout', 2_000, () => script.runInContext(context, { timeout: 50 }));

// A synchronous round trip to a worker, per line.
const shared = new SharedArrayBuffer(8 + 4096);
const control = new Int32Array(shared, 0, 2);
const bytes = new Uint8Array(shared, 8);
const worker = new Worker(
  `const { workerData } = require('node:worker_threads');
   const control = new Int32Array(workerData.shared, 0, 2); const bytes = new Uint8Array(workerData.shared, 8);
   const re = new RegExp(workerData.source, 'u'); const dec = new TextDecoder();
   for (;;) { Atomics.wait(control, 0, 0); control[1] = re.exec(dec.decode(bytes.subarray(0, control[1]))) ? 1 : 0; Atomics.store(control, 0, 0); Atomics.notify(control, 0); }`,
  { eval: true, workerData: { shared, source: SOURCE } },
);
await new Promise((resolve) => setTimeout(resolve, 300));
const encoder = new TextEncoder();
perCall('synchronous round trip to a worker (watchdog design)', 20_000, () => {
  control[1] = encoder.encodeInto(LINE, bytes).written;
  Atomics.store(control, 0, 1);
  Atomics.notify(control, 0);
  Atomics.wait(control, 0, 1, 1000);
});
await worker.terminate();

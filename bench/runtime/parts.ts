import type { ChildProcess } from 'node:child_process';
import { spawn } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { BIN, stopProcess } from '../../test/harness/index.ts';
import { descendants, rssMiB } from './proc.ts';
import { metric } from './stats.ts';

export type PartName = 'shipper' | 'scorer' | 'enforcer';

/** A running part as the benchmark sees it. */
export interface BenchPart {
  name: PartName;
  child: ChildProcess;
  pid: number;
  metricsPort: number;
  /** From spawn to its "fleetban <part> running" log line, ms. */
  readyMs: number;
  output(): string;
  stop(): Promise<void>;
}

/** Starts `fleetban <part> --config FILE` (the build) and resolves once it logs that it runs. */
export async function startPart(name: PartName, configFile: string, metricsPort: number, env: NodeJS.ProcessEnv = process.env): Promise<BenchPart> {
  const t0 = performance.now();
  const child = spawn(BIN, [name, '--config', configFile], { stdio: ['ignore', 'pipe', 'pipe'], env });
  let out = '';
  const ready = new Promise<number>((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      out += chunk.toString();
      if (out.length > 1_000_000) out = out.slice(-200_000);
      if (out.includes(`fleetban ${name} running`)) resolve(performance.now() - t0);
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('exit', (code) => reject(new Error(`${name} exited (${code}) before it ran:\n${out.slice(-2000)}`)));
    setTimeout(() => reject(new Error(`${name} not running after 60 s:\n${out.slice(-2000)}`)), 60_000).unref();
  });
  const readyMs = await ready;
  return { name, child, pid: child.pid!, metricsPort, readyMs, output: () => out, stop: () => stopProcess(child, 'SIGTERM') };
}

/** What a part holds, from /proc and from its own process metrics (prom-client's defaults). */
export interface MemoryFigures {
  rss: number;
  heapTotal: number;
  heapUsed: number;
  external: number;
  children: string[];
}

export async function memoryOf(part: BenchPart): Promise<MemoryFigures> {
  const m = (what: string) => metric(part.metricsPort, `fleetban_${part.name}_${what}`).then((b) => b / 1024 / 1024);
  const [heapTotal, heapUsed, external] = await Promise.all([m('nodejs_heap_size_total_bytes'), m('nodejs_heap_size_used_bytes'), m('nodejs_external_memory_bytes')]);
  return { rss: rssMiB(part.pid), heapTotal, heapUsed, external, children: descendants(part.pid).map((c) => `${c.name}[${c.pid}]`) };
}

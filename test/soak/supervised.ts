import { once } from 'node:events';
import { createWriteStream, type WriteStream } from 'node:fs';
import { startTracked, waitForOutput, type Started } from '../harness/index.ts';
import type { Timeline } from './timeline.ts';

/** How to start one process of the stack, and the output that says it is ready. */
export interface Launcher {
  command: string;
  args: readonly string[];
  ready: RegExp;
}

/** Something the soak did not cause and did not expect; each one fails the soak. */
export interface Surprise {
  target: string;
  atMs: number;
  what: string;
  /** The end of the process's output at the time. */
  output: string;
}

const RESTART_DELAY_MS = 1000;
const READY_TIMEOUT_MS = 180_000;

/**
 * One process of the stack (nats-server, redis-server or a fleetban part)
 * that the chaos loop may kill, freeze and restart. It is started again, with
 * the same arguments, store and state directory, after each stop. An exit the
 * soak did not cause is a surprise: noted, and the process is started again
 * so the soak goes on. One operation at a time (`busy`).
 */
export class Supervised {
  private current: Started | undefined;
  private expectingExit = false;
  private closing = false;
  private frozen = false;
  private ready = false;
  private operation: Promise<void> | undefined;
  private readonly log: WriteStream;
  /** Milliseconds each SIGTERM took to end the process. */
  readonly stopTimes: number[] = [];

  constructor(
    readonly name: string,
    readonly role: 'server' | 'part',
    private readonly launcher: Launcher,
    private readonly timeline: Timeline,
    logFile: string,
    private readonly surprises: Surprise[],
  ) {
    this.log = createWriteStream(logFile, { flags: 'a' });
  }

  get pid(): number | undefined {
    return this.current?.child.pid;
  }

  /** Running, ready and not frozen. */
  get healthy(): boolean {
    return this.alive && this.ready && !this.frozen;
  }

  get busy(): boolean {
    return this.operation !== undefined;
  }

  output(): string {
    return this.current?.output() ?? '';
  }

  private get alive(): boolean {
    const child = this.current?.child;
    return child !== undefined && child.exitCode === null && child.signalCode === null;
  }

  /** Runs `work` as this process's one operation; the chaos loop skips a busy process. */
  async exclusive(work: () => Promise<void>): Promise<void> {
    while (this.operation) await this.operation.catch(() => undefined);
    const running = work().finally(() => {
      if (this.operation === running) this.operation = undefined;
    });
    this.operation = running;
    await running;
  }

  /** Starts the process and waits until it says it is ready; a start that fails is noted and tried again. */
  async start(): Promise<void> {
    for (let attempt = 1; !this.closing; attempt++) {
      const started = this.spawn();
      try {
        await waitForOutput(started, this.launcher.ready, READY_TIMEOUT_MS, this.name);
        this.ready = true;
        return;
      } catch (err) {
        if (this.closing) return;
        this.surprise(`did not start (attempt ${attempt}): ${(err as Error).message.split('\n')[0]}`);
        if (this.alive) await this.signalAndWait('SIGKILL');
        if (attempt >= 5) throw err;
        await sleep(RESTART_DELAY_MS);
      }
    }
  }

  private spawn(): Started {
    this.expectingExit = false;
    this.ready = false;
    this.frozen = false;
    const started = startTracked(this.launcher.command, this.launcher.args);
    this.current = started;
    this.log.write(`\n===== ${new Date().toISOString()} start ${this.name} (pid ${started.child.pid})\n`);
    started.child.stdout?.on('data', (c: Buffer) => this.log.write(c));
    started.child.stderr?.on('data', (c: Buffer) => this.log.write(c));
    started.child.once('exit', (code, signal) => {
      this.log.write(`===== ${new Date().toISOString()} exit ${this.name}: ${signal ?? code}\n`);
      if (this.expectingExit || this.closing || this.current !== started) return;
      this.surprise(`exited on its own (${signal ?? `code ${code}`})`);
      // Started again so that the soak goes on; the surprise fails it at the end.
      void this.exclusive(async () => {
        await sleep(RESTART_DELAY_MS);
        if (!this.closing) await this.start();
      });
    });
    return started;
  }

  freeze(): void {
    if (this.alive && this.pid) process.kill(this.pid, 'SIGSTOP');
    this.frozen = true;
  }

  thaw(): void {
    if (this.alive && this.pid) process.kill(this.pid, 'SIGCONT');
    this.frozen = false;
  }

  /** SIGKILL, and wait for the exit. */
  async kill(): Promise<void> {
    await this.signalAndWait('SIGKILL');
  }

  /**
   * SIGTERM, and wait up to `graceMs` for the exit; a process still there
   * then has ignored the signal (a surprise) and is killed.
   */
  async terminate(graceMs: number): Promise<number> {
    const began = Date.now();
    const exited = await this.signalAndWait('SIGTERM', graceMs);
    const took = Date.now() - began;
    if (!exited) {
      this.surprise(`still running ${(graceMs / 1000).toFixed(0)} s after SIGTERM; killed`);
      await this.signalAndWait('SIGKILL');
    } else {
      this.stopTimes.push(took);
      const code = this.current?.child.exitCode;
      if (this.role === 'part' && code !== 0 && code !== null && code !== undefined) {
        this.timeline.note(this.name, `exited with code ${code} after SIGTERM`);
      }
    }
    return took;
  }

  /** The final stop: thawed, SIGTERM, SIGKILL after `graceMs`; never restarted. */
  async close(graceMs: number): Promise<void> {
    this.closing = true;
    if (this.frozen) this.thaw();
    if (this.alive) await this.terminate(graceMs);
    await new Promise<void>((resolve) => this.log.end(resolve));
  }

  private async signalAndWait(signal: NodeJS.Signals, timeoutMs = 30_000): Promise<boolean> {
    const child = this.current?.child;
    if (!child || !this.alive || !child.pid) return true;
    this.expectingExit = true;
    this.ready = false;
    const exited = once(child, 'exit').then(() => true);
    process.kill(child.pid, signal);
    if (this.frozen && signal !== 'SIGKILL') process.kill(child.pid, 'SIGCONT');
    this.frozen = false;
    return Promise.race([exited, sleep(timeoutMs).then(() => false)]);
  }

  private surprise(what: string): void {
    this.timeline.note(this.name, `SURPRISE: ${what}`);
    this.surprises.push({ target: this.name, atMs: this.timeline.elapsedMs, what, output: this.output().slice(-3000) });
  }
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

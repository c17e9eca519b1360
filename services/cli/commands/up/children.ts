import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { timerDelay } from '../../../../shared/time/index.ts';

export interface ChildOptions {
  env?: NodeJS.ProcessEnv;
  /** Open an IPC channel (a fleetban part reports "running" through it). */
  ipc?: boolean;
  /** Each line the child writes, stdout and stderr alike. */
  onLine?(line: string): void;
}

/** Lines of output kept for an error message. */
const TAIL_LINES = 40;

/**
 * A process `fleetban up` started: spawned from an argument vector (no
 * shell), in its own process group so that a terminal's Ctrl-C reaches only
 * `fleetban up`, which then stops its children in order, each by its PID.
 */
export class Child {
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  private readonly tail: string[] = [];

  private constructor(
    readonly name: string,
    readonly process: ChildProcess,
    onLine: ((line: string) => void) | undefined,
  ) {
    this.exited = new Promise((resolve) => {
      process.once('exit', (code, signal) => resolve({ code, signal }));
      // A command that cannot be started (ENOENT) gets an 'error' and may never get an 'exit'.
      process.on('error', (err) => {
        this.keep(`${name}: ${err.message}`);
        if (process.pid === undefined) resolve({ code: null, signal: null });
      });
    });
    for (const stream of [process.stdout, process.stderr]) {
      if (!stream) continue;
      createInterface({ input: stream, crlfDelay: Infinity }).on('line', (line) => {
        this.keep(line);
        onLine?.(line);
      });
    }
  }

  static spawn(name: string, command: string, args: readonly string[], options: ChildOptions = {}): Child {
    const proc = spawn(command, args, {
      stdio: options.ipc ? ['ignore', 'pipe', 'pipe', 'ipc'] : ['ignore', 'pipe', 'pipe'],
      detached: true,
      ...(options.env && { env: options.env }),
    });
    return new Child(name, proc, options.onLine);
  }

  get pid(): number | undefined {
    return this.process.pid;
  }

  get running(): boolean {
    return this.process.exitCode === null && this.process.signalCode === null && this.process.pid !== undefined;
  }

  /** The last lines it wrote. */
  output(): string {
    return this.tail.join('\n');
  }

  /** Sends `signal` to its PID, then SIGKILL if it is still there after `graceMs`. */
  async stop(signal: NodeJS.Signals = 'SIGTERM', graceMs = 10_000): Promise<void> {
    if (!this.running) return;
    this.signal(signal);
    const timer = setTimeout(() => this.signal('SIGKILL'), timerDelay(graceMs));
    await this.exited;
    clearTimeout(timer);
  }

  /** At once, synchronously: for process exit, when nothing can be awaited. */
  kill(): void {
    if (this.running) this.signal('SIGKILL');
  }

  private signal(signal: NodeJS.Signals): void {
    try {
      process.kill(this.process.pid!, signal);
    } catch {
      // it exited in the meantime
    }
  }

  private keep(line: string): void {
    this.tail.push(line);
    if (this.tail.length > TAIL_LINES) this.tail.shift();
  }
}

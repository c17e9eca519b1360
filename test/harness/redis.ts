import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePort } from './ports.ts';
import { startTracked, stopProcess, waitForOutput, type Started } from './processes.ts';
import { tempDir } from './tmp.ts';

export interface RedisServerOptions {
  /** `requirepass` for the default user. */
  password?: string;
  /** Extra redis.conf lines, e.g. `user scorer on >pw ~fleetban:* +evalsha`. */
  extraConfig?: string[];
  /** Keep data across restart (appendonly); off by default. */
  persist?: boolean;
}

/** A real `redis-server` on a free loopback port, stopped by PID; restartable on the same port. */
export class RedisServer {
  readonly dir = tempDir('fleetban-redis');
  port = 0;
  private proc?: Started;

  private constructor(private readonly options: RedisServerOptions) {}

  static async start(options: RedisServerOptions = {}): Promise<RedisServer> {
    const server = new RedisServer(options);
    await server.start();
    return server;
  }

  get node(): string {
    return `127.0.0.1:${this.port}`;
  }

  get pid(): number | undefined {
    return this.proc?.child.pid;
  }

  async start(): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      if (this.port === 0 || attempt > 0) this.port = await freePort();
      const file = join(this.dir.path, 'redis.conf');
      const lines = [
        'bind 127.0.0.1',
        `port ${this.port}`,
        `dir ${this.dir.path}`,
        'save ""',
        `appendonly ${this.options.persist ? 'yes' : 'no'}`,
        'daemonize no',
        'protected-mode yes',
        ...(this.options.password ? [`requirepass ${this.options.password}`] : []),
        ...(this.options.extraConfig ?? []),
      ];
      writeFileSync(file, `${lines.join('\n')}\n`);
      this.proc = startTracked('redis-server', [file]);
      try {
        await waitForOutput(this.proc, /Ready to accept connections/, 15_000, 'redis-server');
        return;
      } catch (err) {
        await stopProcess(this.proc.child, 'SIGKILL');
        if (attempt >= 3 || !/Address already in use/i.test(this.proc.output())) throw err;
      }
    }
  }

  async stop(): Promise<void> {
    if (this.proc) await stopProcess(this.proc.child, 'SIGTERM');
  }

  async dispose(): Promise<void> {
    await this.stop();
    this.dir.remove();
  }
}

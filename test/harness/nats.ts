import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePort } from './ports.ts';
import { startTracked, stopProcess, waitForOutput, type Started } from './processes.ts';
import { tempDir } from './tmp.ts';

export interface NatsServerOptions {
  /** Require this user and password. */
  user?: { name: string; password: string };
  /** Require this token. */
  token?: string;
  /** Extra nats-server configuration text (accounts, permissions, TLS). */
  extraConfig?: string;
}

/**
 * A real `nats-server -js` on a free loopback port with its own store, stopped
 * by PID. `stop()` + `start()` restarts it on the same port with the same
 * store, as an outage would.
 */
export class NatsServer {
  readonly dir = tempDir('fleetban-nats');
  port = 0;
  private proc?: Started;

  private constructor(private readonly options: NatsServerOptions) {}

  static async start(options: NatsServerOptions = {}): Promise<NatsServer> {
    const server = new NatsServer(options);
    await server.start();
    return server;
  }

  get url(): string {
    return `nats://127.0.0.1:${this.port}`;
  }

  get pid(): number | undefined {
    return this.proc?.child.pid;
  }

  output(): string {
    return this.proc?.output() ?? '';
  }

  async start(): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      if (this.port === 0 || attempt > 0) this.port = await freePort();
      const file = join(this.dir.path, 'nats.conf');
      writeFileSync(file, this.configText());
      this.proc = startTracked('nats-server', ['-c', file]);
      try {
        await waitForOutput(this.proc, /Server is ready/, 15_000, 'nats-server');
        return;
      } catch (err) {
        await stopProcess(this.proc.child, 'SIGKILL');
        if (attempt >= 3 || !/address already in use/i.test(this.proc.output())) throw err;
      }
    }
  }

  private configText(): string {
    const lines = [
      `listen: "127.0.0.1:${this.port}"`,
      `jetstream { store_dir: "${join(this.dir.path, 'store')}" }`,
      `server_name: "fleetban_test_${this.port}"`,
    ];
    if (this.options.user) {
      lines.push(`authorization { user: "${this.options.user.name}", password: "${this.options.user.password}" }`);
    }
    if (this.options.token) lines.push(`authorization { token: "${this.options.token}" }`);
    if (this.options.extraConfig) lines.push(this.options.extraConfig);
    return `${lines.join('\n')}\n`;
  }

  /** Graceful stop (SIGTERM); the store stays for a restart. */
  async stop(): Promise<void> {
    if (this.proc) await stopProcess(this.proc.child, 'SIGTERM');
  }

  /** Stops it and removes its store. */
  async dispose(): Promise<void> {
    await this.stop();
    this.dir.remove();
  }
}

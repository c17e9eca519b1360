import { execFile } from 'node:child_process';
import { existsSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';
import { startTracked, stopProcess, waitForOutput, type Started } from './processes.ts';

const JOURNALD = ['/lib/systemd/systemd-journald', '/usr/lib/systemd/systemd-journald'];

/**
 * Why a private journald cannot run here, or undefined when it can. Tests
 * pass this to `skip`, so a machine that cannot run one says why.
 */
export function journaldSkipReason(): string | undefined {
  if (process.getuid?.() !== 0) return 'needs root to start a private journald in its own mount namespace';
  if (!JOURNALD.some(existsSync)) return 'systemd-journald is not installed';
  for (const tool of ['unshare', 'nsenter', 'journalctl', 'systemd-cat']) {
    if (!(process.env.PATH ?? '').split(':').some((dir) => dir !== '' && existsSync(join(dir, tool)))) return `${tool} is not installed`;
  }
  return undefined;
}

/** Waits until the process runs in a mount namespace other than ours. */
async function inOwnNamespace(pid: number | undefined): Promise<void> {
  const ours = readlinkSync('/proc/self/ns/mnt');
  for (let i = 0; i < 200; i++) {
    const theirs = (() => {
      try {
        return readlinkSync(`/proc/${pid}/ns/mnt`);
      } catch {
        return ours;
      }
    })();
    if (theirs !== ours) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error('unshare did not create a mount namespace');
}

function run(command: string, args: readonly string[], input?: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = execFile(command, args, { timeout: 20_000 }, (err, _stdout, stderr) => (err ? reject(new Error(`${command} ${args.join(' ')}: ${String(stderr).trim() || err.message}`)) : resolve()));
    if (input !== undefined) child.stdin?.end(input);
  });
}

/**
 * A real systemd-journald of its own, so tests never write to (or depend on)
 * the host's journal: it runs in a new mount and network namespace, with
 * tmpfs over /run and /var/log/journal, so its sockets and files vanish with
 * it. The host reads its files through `/proc/<pid>/root` (journalctl
 * `--directory`), and test entries are written inside its namespace.
 */
export class Journald {
  private constructor(
    private readonly holder: Started,
    private readonly daemon: Started,
  ) {}

  static async start(): Promise<Journald> {
    const holder = startTracked('unshare', ['--mount', '--net', '--propagation', 'private', 'sleep', 'infinity']);
    const pid = String(holder.child.pid);
    try {
      await inOwnNamespace(holder.child.pid);
      await run('nsenter', ['-t', pid, '-m', '--', 'mount', '-t', 'tmpfs', 'fleetban-test', '/run']);
      if (existsSync('/var/log/journal')) await run('nsenter', ['-t', pid, '-m', '--', 'mount', '-t', 'tmpfs', 'fleetban-test', '/var/log/journal']);
      const binary = JOURNALD.find(existsSync)!;
      const daemon = startTracked('nsenter', ['-t', pid, '-m', '-n', '--', binary], { env: { ...process.env, SYSTEMD_LOG_TARGET: 'console' } });
      const journald = new Journald(holder, daemon);
      await waitForOutput(daemon, /Journal started|Runtime Journal/i, 15_000, 'systemd-journald').catch(async (err: unknown) => {
        // Some builds log nothing on start: the socket appearing is enough.
        if (!existsSync(`${journald.root}/run/systemd/journal/socket`)) throw err;
      });
      return journald;
    } catch (err) {
      await stopProcess(holder.child, 'SIGKILL');
      throw err;
    }
  }

  private get root(): string {
    return `/proc/${this.holder.child.pid}/root`;
  }

  /** The journal files, for `journalctl --directory` (the shipper's `journal.directory`). */
  get directory(): string {
    return `${this.root}/run/log/journal`;
  }

  /** Writes each line as one entry with this SYSLOG_IDENTIFIER (through journald's stdout transport). */
  async log(identifier: string, lines: readonly string[]): Promise<void> {
    await run('nsenter', ['-t', String(this.holder.child.pid), '-m', '--', 'systemd-cat', '-t', identifier], `${lines.join('\n')}\n`);
  }

  async stop(): Promise<void> {
    await stopProcess(this.daemon.child, 'SIGTERM');
    await stopProcess(this.holder.child, 'SIGKILL');
  }
}

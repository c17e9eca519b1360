import { spawn } from 'node:child_process';
import { FleetbanError } from '../../../shared/errors.ts';

/** A firewall tool run with an argument vector and, for batches, its input on stdin. Never a shell string. */
export interface ToolCommand {
  tool: string;
  args: readonly string[];
  stdin?: string;
}

export interface ToolResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** A firewall command that failed; carries the tool's own message. */
export class FirewallCommandError extends FleetbanError {
  constructor(
    readonly command: string,
    readonly result: ToolResult,
    options?: { cause?: unknown },
  ) {
    super(`${command} failed (exit ${result.code}): ${result.stderr.trim().split('\n').slice(0, 3).join(' | ') || 'no message'}`, options);
  }
}

/**
 * The one place that starts firewall tools. With a network namespace, every
 * command becomes `ip netns exec <ns> <tool> ...`, so an enforcer running in
 * the host namespace (next to NATS) changes only the namespace's firewall.
 */
export interface Exec {
  readonly netns: string | undefined;
  /** Runs a command; throws {@link FirewallCommandError} unless it exits 0. Returns stdout. */
  run(command: ToolCommand): Promise<string>;
  /** Runs a command and returns whatever happened. */
  attempt(command: ToolCommand): Promise<ToolResult>;
}

export function createExec(options: { netns?: string | undefined; timeoutMs?: number } = {}): Exec {
  const netns = options.netns;
  const attempt = (command: ToolCommand): Promise<ToolResult> => {
    const [file, args] = netns ? ['ip', ['netns', 'exec', netns, command.tool, ...command.args]] : [command.tool, [...command.args]];
    return runProcess(file, args, command.stdin, options.timeoutMs ?? 120_000);
  };
  return {
    netns,
    attempt,
    async run(command) {
      const result = await attempt(command);
      if (result.code !== 0) throw new FirewallCommandError(describeCommand(command, netns), result);
      return result.stdout;
    },
  };
}

function runProcess(file: string, args: string[], stdin: string | undefined, timeoutMs: number): Promise<ToolResult> {
  return new Promise((resolve) => {
    const child = spawn(file, args, { stdio: ['pipe', 'pipe', 'pipe'], timeout: timeoutMs });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (c: Buffer) => out.push(c));
    child.stderr.on('data', (c: Buffer) => err.push(c));
    // A tool that exits before reading all of its input closes the pipe; its exit code tells why.
    child.stdin.on('error', () => undefined);
    child.once('error', (e) => resolve({ code: 127, stdout: '', stderr: `cannot run ${file}: ${e.message}` }));
    child.once('close', (code, signal) => {
      resolve({ code: code ?? (signal ? 128 : 1), stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString() + (signal ? `killed by ${signal}` : '') });
    });
    child.stdin.end(stdin ?? '');
  });
}

/** A readable form of a command for logs and `setup --print` (quoted for a human's shell; never executed by fleetban). */
export function describeCommand(command: ToolCommand, netns?: string): string {
  const words = [...(netns ? ['ip', 'netns', 'exec', netns] : []), command.tool, ...command.args].map(quote).join(' ');
  return command.stdin === undefined ? words : `${words} <<'EOF'\n${command.stdin.endsWith('\n') ? command.stdin : `${command.stdin}\n`}EOF`;
}

function quote(word: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(word) ? word : `'${word.replaceAll("'", `'\\''`)}'`;
}

import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { runCli } from '../../services/cli/program.ts';
import { ensureBuilt } from './build.ts';

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `fleetban ARGS` in-process with captured output. */
export async function cli(...args: string[]): Promise<CliRun> {
  const capture = () => {
    const stream = new PassThrough();
    let text = '';
    stream.on('data', (c: Buffer) => (text += c.toString()));
    return { stream, text: () => text };
  };
  const out = capture();
  const err = capture();
  const code = await runCli(args, { stdout: out.stream, stderr: err.stream, isTty: false });
  return { code, stdout: out.text(), stderr: err.text() };
}

/** The executable as installed: it runs the build in dist/, made current here before any test spawns it. */
export const BIN = join(import.meta.dirname, '..', '..', 'bin', 'fleetban');
ensureBuilt();

/** Runs the real `./bin/fleetban ARGS` as a child process. */
export async function binFleetban(args: readonly string[], options: { timeoutMs?: number; env?: NodeJS.ProcessEnv } = {}): Promise<CliRun> {
  return new Promise((resolve) => {
    execFile(BIN, args, { timeout: options.timeoutMs ?? 60_000, env: options.env ?? process.env }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : 1) : 0;
      resolve({ code, stdout: String(stdout), stderr: String(stderr) });
    });
  });
}

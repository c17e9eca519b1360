import { execFile, execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { promisify } from 'node:util';
import { errorMessage } from '../../../../shared/errors.ts';
import { CliError, EXIT } from '../../command.ts';

const run = promisify(execFile);

/** Where iproute2 keeps a named namespace. */
export function netnsExists(name: string): boolean {
  return existsSync(`/run/netns/${name}`);
}

/** Creates the namespace with its loopback up; needs root (CAP_SYS_ADMIN). */
export async function createNetns(name: string): Promise<void> {
  if (process.getuid?.() !== 0) {
    throw new CliError(`creating network namespace ${name} (enforcer.netns) needs root: run as root, or with --dry-run`, EXIT.noPermission);
  }
  try {
    await run('ip', ['netns', 'add', name]);
  } catch (err) {
    throw new CliError(`cannot create network namespace ${name}: ${errorMessage(err)}; try --dry-run`, EXIT.noPermission, { cause: err });
  }
  try {
    await run('ip', ['-n', name, 'link', 'set', 'lo', 'up']);
  } catch (err) {
    removeNetnsSync(name);
    throw new CliError(`cannot bring up loopback in network namespace ${name}: ${errorMessage(err)}`, EXIT.software, { cause: err });
  }
}

/** Synchronous, so it also runs from an exit handler. */
export function removeNetnsSync(name: string): void {
  try {
    execFileSync('ip', ['netns', 'del', name], { stdio: 'ignore' });
  } catch {
    // already gone
  }
}

import { spawn } from 'node:child_process';
import { FleetbanError } from '../../../../shared/errors.ts';
import { LineSplitter } from '../lines.ts';
import { MAX_ENTRY_BYTES, parseJournalLine, readArgs, type JournalEntry, type JournalReadOptions } from './parse.ts';

/** journalctl could not be started, or it exited with an error. */
export class JournalReadError extends FleetbanError {}

/**
 * Every entry that matches, oldest first, read once through `journalctl
 * --output=json` (no `--follow`): what `fleetban regex systemd-journal`
 * tests a filter on. journalctl's output is read one chunk at a time, so a
 * big journal is never held in memory. `onSkipped` hears of each line that
 * is not an entry (too large, not JSON). Throws JournalReadError when
 * journalctl cannot run or ends with an error.
 */
export async function* readJournal(
  command: string,
  options: JournalReadOptions,
  onSkipped?: (reason: string) => void,
): AsyncGenerator<JournalEntry> {
  const args = readArgs(options);
  const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (c: Buffer) => {
    stderr = (stderr + c.toString()).slice(-2000);
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; error?: Error }>((resolve) => {
    child.once('error', (error) => resolve({ code: null, signal: null, error }));
    child.once('close', (code, signal) => resolve({ code, signal }));
  });
  const splitter = new LineSplitter(MAX_ENTRY_BYTES);
  let done = false;
  try {
    for await (const chunk of child.stdout as AsyncIterable<Buffer>) {
      for (const raw of splitter.push(chunk)) {
        const parsed = parseJournalLine(raw.text);
        if (parsed.ok) yield parsed.entry;
        else onSkipped?.(raw.end - raw.start > MAX_ENTRY_BYTES ? 'entry too large' : parsed.reason);
      }
    }
    done = true;
  } finally {
    // A consumer that stops early (an error, a break) must not leave journalctl running.
    if (!done && child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
  }
  const end = await exited;
  if (end.error) throw new JournalReadError(`could not start ${command}: ${end.error.message}`, { cause: end.error });
  if (end.code !== 0) {
    throw new JournalReadError(`${command} ${args.join(' ')} exited (${end.signal ?? end.code})${stderr.trim() ? `: ${stderr.trim()}` : ''}`);
  }
}

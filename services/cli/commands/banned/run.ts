import { EXIT, type CliIo } from '../../command.ts';
import { loadCommandConfig, withFleet } from '../../context.ts';
import { bansFor, manualTarget } from '../../manual.ts';
import type { FleetOptions } from '../../options.ts';
import { foldDecisionsStream } from '../../stream.ts';
import { bannedEntries, renderBanned } from './render.ts';

export type BannedOptions = FleetOptions;

export async function runBanned(io: CliIo, targetText: string | undefined, opts: BannedOptions): Promise<number> {
  const target = targetText === undefined ? undefined : manualTarget(targetText);
  const config = await loadCommandConfig(opts.config, io);
  const folded = await withFleet(config, io, ({ nc, subjects }) => foldDecisionsStream(nc, subjects));
  const now = Date.now();
  let active = [...folded.bans.active(now)];
  if (target) {
    const { exact, overlapping } = bansFor(active, target);
    active = [...exact, ...overlapping];
  }
  const entries = bannedEntries(active, now);
  if (opts.json) {
    io.stdout.write(`${JSON.stringify({ time: now, stream: folded.stream.name, decisionsRead: folded.read, invalid: folded.invalid, bans: entries }, null, 2)}\n`);
  } else if (entries.length > 0) {
    io.stdout.write(renderBanned(entries));
  } else {
    io.stdout.write(target ? `${target.text} is not banned\n` : 'no bans in force\n');
  }
  if (folded.invalid > 0) io.stderr.write(`fleetban: skipped ${folded.invalid} invalid message${folded.invalid === 1 ? '' : 's'} in ${folded.stream.name}\n`);
  return target && entries.length === 0 ? EXIT.negative : EXIT.ok;
}

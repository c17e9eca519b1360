import { EXIT, type CliIo } from '../../command.ts';
import { loadCommandConfig, withFleet } from '../../context.ts';
import { parseTarget } from '../../../../shared/ip/index.ts';
import { bansFor, fleetRefusals, manualTarget } from '../../manual.ts';
import type { FleetOptions } from '../../options.ts';
import { foldDecisionsStream } from '../../stream.ts';
import { bannedEntries, renderBanned, renderRefused } from './render.ts';

export type BannedOptions = FleetOptions;

/**
 * Lists the bans in force. A stored ban that every enforcer running this
 * config refuses (loopback, `enforcer.ignoreip`, the jail's `ignoreip`) is
 * not in force: it is listed apart with the reason (`refused` in `--json`),
 * and `banned TARGET` answers 1 for it.
 */
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
  const refusalOf = fleetRefusals(config);
  const all = bannedEntries(active, now, (ban) => {
    const refusal = refusalOf(parseTarget(ban.target), ban.jail);
    return refusal && `covers ${refusal.entry} (${refusal.what})`;
  });
  const entries = all.filter((e) => e.refused === undefined);
  const refused = all.filter((e) => e.refused !== undefined);
  if (opts.json) {
    const body = { time: now, stream: folded.stream.name, decisionsRead: folded.read, invalid: folded.invalid, bans: entries, refused };
    io.stdout.write(`${JSON.stringify(body, null, 2)}\n`);
  } else {
    if (entries.length > 0) io.stdout.write(renderBanned(entries));
    else io.stdout.write(target ? `${target.text} is not banned\n` : 'no bans in force\n');
    if (refused.length > 0) io.stdout.write(`\nstored but refused by every enforcer, so not in force:\n${renderRefused(refused)}`);
  }
  if (folded.invalid > 0) io.stderr.write(`fleetban: skipped ${folded.invalid} invalid message${folded.invalid === 1 ? '' : 's'} in ${folded.stream.name}\n`);
  return target && entries.length === 0 ? EXIT.negative : EXIT.ok;
}

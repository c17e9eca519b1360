import { randomBytes } from 'node:crypto';
import { EXIT, type CliIo } from '../../command.ts';
import { loadCommandConfig, operator, withFleet } from '../../context.ts';
import { bansFor, manualJail, manualReason, manualTarget, manualUnban } from '../../manual.ts';
import type { FleetOptions } from '../../options.ts';
import { publishDecision, type Published } from '../../publish.ts';
import { foldDecisionsStream } from '../../stream.ts';

export interface UnbanOptions extends FleetOptions {
  jail?: string;
  all?: boolean;
  reason?: string;
}

/**
 * With `--jail`, publishes one unban there. Otherwise folds the decisions
 * stream and publishes an unban in each jail where the target is banned;
 * when it is banned nowhere, publishes nothing, says which bans overlap it,
 * and exits 1.
 */
export async function runUnban(io: CliIo, targetText: string, opts: UnbanOptions): Promise<number> {
  const target = manualTarget(targetText);
  const reason = manualReason(opts.reason);
  const jail = opts.jail === undefined ? undefined : manualJail(opts.jail);
  const config = await loadCommandConfig(opts.config, io);
  const result = await withFleet(config, io, async ({ nc, subjects }) => {
    const ctx = () => ({ now: Date.now(), by: operator(config), nonce: randomBytes(4).toString('hex') });
    if (jail !== undefined) return { published: [await publishDecision(nc, subjects, manualUnban(target.text, jail, reason, ctx()))], overlapping: [] };
    const folded = await foldDecisionsStream(nc, subjects);
    const { exact, overlapping } = bansFor(folded.bans.active(Date.now()), target);
    const published: Published[] = [];
    for (const ban of exact) published.push(await publishDecision(nc, subjects, manualUnban(ban.target, ban.jail, reason, ctx())));
    return { published, overlapping };
  });
  if (opts.json) {
    io.stdout.write(`${JSON.stringify({ published: result.published, overlapping: result.overlapping.map((b) => ({ jail: b.jail, target: b.target })) }, null, 2)}\n`);
  } else {
    for (const p of result.published) io.stdout.write(`unbanned ${p.decision.target} in jail ${p.decision.jail} (${p.stream} #${p.seq}${p.duplicate ? ', already stored' : ''})\n`);
    if (result.published.length === 0) {
      io.stderr.write(`${target.text} is not banned in any jail\n`);
      for (const b of result.overlapping) io.stderr.write(`  it overlaps ${b.target}, banned in jail ${b.jail}: fleetban unban ${b.target} --jail ${b.jail}\n`);
    }
  }
  return result.published.length > 0 ? EXIT.ok : EXIT.negative;
}

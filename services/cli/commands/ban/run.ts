import { randomBytes } from 'node:crypto';
import { hostAddresses } from '../../../../shared/ip/index.ts';
import { formatDuration, PERMANENT } from '../../../../shared/time/index.ts';
import { EXIT, type CliIo } from '../../command.ts';
import { loadCommandConfig, operator, withFleet } from '../../context.ts';
import { banLength, checkAllowed, checkRetention, manualBan, manualJail, manualReason, manualTarget } from '../../manual.ts';
import type { FleetOptions } from '../../options.ts';
import { publishDecision, type Published } from '../../publish.ts';
import { decisionsStream } from '../../stream.ts';

export interface BanOptions extends FleetOptions {
  jail?: string;
  for?: string;
  reason?: string;
}

/** Checks everything that can be checked before connecting, then publishes and waits for the acknowledgement. */
export async function runBan(io: CliIo, targetText: string, opts: BanOptions): Promise<number> {
  const target = manualTarget(targetText);
  const jail = manualJail(opts.jail);
  const reason = manualReason(opts.reason);
  const config = await loadCommandConfig(opts.config, io);
  const duration = banLength(opts.for, config.jails[jail]);
  checkAllowed(target, jail, config, hostAddresses());
  const published = await withFleet(config, io, async ({ nc, subjects }) => {
    checkRetention(duration, await decisionsStream(nc, subjects));
    const decision = manualBan(target, jail, duration, reason, { now: Date.now(), by: operator(config), nonce: randomBytes(4).toString('hex') });
    return publishDecision(nc, subjects, decision);
  });
  io.stdout.write(opts.json ? `${JSON.stringify({ published: [published] }, null, 2)}\n` : `${describeBan(published)}\n`);
  return EXIT.ok;
}

export function describeBan(p: Published): string {
  const d = p.decision;
  if (d.action !== 'ban') return '';
  const until = d.duration === PERMANENT ? 'permanently' : `for ${formatDuration(d.duration)}, until ${new Date(d.time + d.duration).toISOString()}`;
  return `banned ${d.target} in jail ${d.jail} ${until} (${p.stream} #${p.seq}${p.duplicate ? ', already stored' : ''})`;
}

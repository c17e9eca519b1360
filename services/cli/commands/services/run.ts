import { Empty, type NatsConnection } from '@nats-io/nats-core';
import type { Subjects } from '../../../../shared/schema/index.ts';
import { CliError, EXIT, type CliIo } from '../../command.ts';
import { loadCommandConfig, withFleet } from '../../context.ts';
import type { FleetOptions } from '../../options.ts';
import { LISTED_PARTS, renderServices, serviceEntry, sortEntries, type ServiceEntry, type StatsReply } from './render.ts';

export interface ServicesOptions extends FleetOptions {
  wait: number;
}

export async function runServices(io: CliIo, opts: ServicesOptions): Promise<number> {
  if (!Number.isInteger(opts.wait) || opts.wait <= 0) throw new CliError('--wait: a number of ms above 0', EXIT.usage);
  const config = await loadCommandConfig(opts.config, io);
  const entries = await withFleet(config, io, ({ nc, subjects }) => collect(nc, subjects, opts.wait));
  if (opts.json) io.stdout.write(`${JSON.stringify(entries, null, 2)}\n`);
  else if (entries.length > 0) io.stdout.write(renderServices(entries));
  else io.stdout.write('no fleetban service answered\n');
  return entries.length > 0 ? EXIT.ok : EXIT.negative;
}

/**
 * `$SRV.STATS.<prefix>-<part>` for each part, all at once; every instance
 * answers, so answers are gathered for `waitMs`. STATS carries what INFO
 * and PING do (name, id, version, metadata with the host) plus the start
 * time and the part's figures, so one request per part is enough.
 */
async function collect(nc: NatsConnection, subjects: Subjects, waitMs: number): Promise<ServiceEntry[]> {
  const now = Date.now();
  const perPart = await Promise.all(
    LISTED_PARTS.map(async (part) => {
      const found: ServiceEntry[] = [];
      const replies = await nc.requestMany(`$SRV.STATS.${subjects.serviceName(part)}`, Empty, { strategy: 'timer', maxWait: waitMs });
      try {
        for await (const m of replies) {
          let reply: StatsReply;
          try {
            reply = m.json<StatsReply>();
          } catch {
            continue;
          }
          const entry = serviceEntry(part, reply, now);
          if (entry) found.push(entry);
        }
      } catch {
        // "no responders": nobody runs this part
      }
      return found;
    }),
  );
  return sortEntries(perPart.flat());
}

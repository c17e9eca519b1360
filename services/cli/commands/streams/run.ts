import { jetstreamManager, JetStreamApiCodes, JetStreamApiError } from '@nats-io/jetstream';
import { applyStreams, differences, wantedStreams } from '../../../../shared/nats/index.ts';
import { errorMessage } from '../../../../shared/errors.ts';
import { CliError, EXIT, type CliIo } from '../../command.ts';
import { loadCommandConfig, withFleet } from '../../context.ts';
import type { FleetOptions } from '../../options.ts';

export interface StreamsOptions extends FleetOptions {
  apply?: boolean;
}

interface StreamReport {
  name: string;
  /** Settings whose value on the server is not what the config wants; every one when the stream is missing. */
  differs: string[];
  exists: boolean;
}

/** 0 when the streams are as wanted (or were made so), 1 when they differ and `--apply` was not given. */
export async function runStreams(io: CliIo, opts: StreamsOptions): Promise<number> {
  const config = await loadCommandConfig(opts.config, io);
  const reports = await withFleet(config, io, async ({ nc, log }) => {
    if (opts.apply) {
      try {
        await applyStreams(nc, config, log);
      } catch (err) {
        throw new CliError(`cannot create or update the streams: ${errorMessage(err)}`, /permission/i.test(errorMessage(err)) ? EXIT.noPermission : EXIT.unavailable, { cause: err });
      }
    }
    const jsm = await jetstreamManager(nc, { checkAPI: false });
    const wanted = wantedStreams(config);
    return Promise.all([wanted.failures, wanted.decisions].map(async (want): Promise<StreamReport> => {
      const have = await jsm.streams.info(want.name).then((i) => i.config, (err: unknown) => {
        if (err instanceof JetStreamApiError && err.code === JetStreamApiCodes.StreamNotFound) return undefined;
        throw new CliError(`cannot read stream ${want.name}: ${errorMessage(err)}`, EXIT.unavailable, { cause: err });
      });
      return { name: want.name, exists: have !== undefined, differs: differences(want, have) };
    }));
  });
  if (opts.json) io.stdout.write(`${JSON.stringify(reports, null, 2)}\n`);
  else for (const r of reports) io.stdout.write(`${r.name}: ${!r.exists ? 'missing' : r.differs.length > 0 ? `differs (${r.differs.join(', ')})` : 'as configured'}\n`);
  return reports.every((r) => r.exists && r.differs.length === 0) ? EXIT.ok : EXIT.negative;
}

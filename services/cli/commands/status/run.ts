import type { Msg, NatsConnection } from '@nats-io/nats-core';
import { errorMessage } from '../../../../shared/errors.ts';
import { JAIL_NAME, parseStatusResponse, STATUS_MAX_LIST, type StatusRequest, type StatusResponse, type Subjects } from '../../../../shared/schema/index.ts';
import { CliError, EXIT, type CliIo } from '../../command.ts';
import { loadCommandConfig, withFleet } from '../../context.ts';
import type { FleetOptions } from '../../options.ts';
import { renderJail, renderOverview } from './render.ts';

export interface StatusOptions extends FleetOptions {
  timeout: number;
}

/** The header the NATS service API puts on an endpoint's error reply. */
const SERVICE_ERROR = 'Nats-Service-Error';
const SERVICE_ERROR_CODE = 'Nats-Service-Error-Code';

export async function runStatus(io: CliIo, jail: string | undefined, opts: StatusOptions): Promise<number> {
  if (jail !== undefined && !JAIL_NAME.test(jail)) throw new CliError(`invalid jail name "${jail}"`, EXIT.usage);
  if (!Number.isInteger(opts.timeout) || opts.timeout <= 0) throw new CliError('--timeout: a number of ms above 0', EXIT.usage);
  const config = await loadCommandConfig(opts.config, io);
  const request: StatusRequest = { ...(jail !== undefined && { jail }), limit: STATUS_MAX_LIST };
  const status = await withFleet(config, io, ({ nc, subjects }) => askScorer(nc, subjects, request, opts.timeout));
  if (opts.json) {
    io.stdout.write(`${JSON.stringify(status, null, 2)}\n`);
    return EXIT.ok;
  }
  if (jail === undefined) {
    io.stdout.write(renderOverview(status));
    return EXIT.ok;
  }
  const one = status.jails.find((j) => j.jail === jail);
  if (!one) throw new CliError(`the scorer's reply has no jail "${jail}"`, EXIT.software);
  io.stdout.write(renderJail(one));
  if (one.truncated) io.stderr.write(`(the list shows ${one.banned.length} of ${one.currentlyBanned} bans; \`fleetban banned\` lists every one)\n`);
  return EXIT.ok;
}

/** One request to `<prefix>.svc.scorer.status`; the service's queue group makes one replica answer. */
async function askScorer(nc: NatsConnection, subjects: Subjects, request: StatusRequest, timeout: number): Promise<StatusResponse> {
  const subject = `${subjects.prefix}.svc.scorer.status`;
  let reply: Msg;
  try {
    reply = await nc.request(subject, JSON.stringify(request), { timeout });
  } catch (err) {
    const why = /no responders|503/i.test(errorMessage(err)) ? 'no scorer is running' : `no answer within ${timeout} ms`;
    throw new CliError(`${why} (asked ${subject}); \`fleetban banned\` works without scorers`, EXIT.unavailable, { cause: err });
  }
  const failure = reply.headers?.get(SERVICE_ERROR);
  if (failure) {
    if (/^no jail /.test(failure)) throw new CliError(failure, EXIT.negative);
    // 400: the scorer refused the request itself (this CLI and the scorer disagree on the contract).
    if (reply.headers?.get(SERVICE_ERROR_CODE) === '400') throw new CliError(`the scorer refused the request: ${failure}`, EXIT.software);
    throw new CliError(`the scorer could not answer: ${failure}`, EXIT.unavailable);
  }
  const parsed = parseStatusResponse(reply.data);
  if (!parsed.ok) throw new CliError(`the scorer's reply does not match the status contract: ${parsed.reason}`, EXIT.software);
  return parsed.value;
}

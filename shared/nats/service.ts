import type { NatsConnection } from '@nats-io/nats-core';
import { Svcm, type Service, type ServiceMsg } from '@nats-io/services';
import type { Logger } from 'pino';
import { errorMessage, InvalidInputError } from '../errors.ts';
import type { Part, Subjects } from '../schema/index.ts';

export interface PartServiceOptions {
  subjects: Subjects;
  part: Part;
  host: string;
  version: string;
  description: string;
  log: Logger;
  /** Key figures shown by `$SRV.STATS` (and `fleetban services`). */
  stats: () => unknown;
}

export type EndpointHandler = (request: unknown) => unknown | Promise<unknown>;

/** A part's presence in the NATS service API (`$SRV.PING/INFO/STATS`). */
export interface PartService {
  readonly service: Service;
  /** Subject of an endpoint: `<prefix>.svc.<part>.<name>`. */
  subjectOf(name: string): string;
  /** Adds a request/reply endpoint; the handler's result is sent as JSON, a throw as a service error. */
  endpoint(name: string, handler: EndpointHandler): void;
  stop(): Promise<void>;
}

/**
 * Registers a part under its service name (`fleetban-scorer`) with its host
 * in the metadata and a `stats` endpoint whose data is the part's key figures.
 */
export async function startPartService(nc: NatsConnection, options: PartServiceOptions): Promise<PartService> {
  const group = `${options.subjects.prefix}.svc.${options.part}`;
  const service = await new Svcm(nc).add({
    name: options.subjects.serviceName(options.part),
    version: options.version,
    description: options.description,
    metadata: { host: options.host, part: options.part },
    statsHandler: async () => options.stats(),
  });
  const endpoint = (name: string, handler: EndpointHandler): void => {
    service.addEndpoint(name, {
      subject: `${group}.${name}`,
      handler: (err, msg) => {
        if (err) {
          options.log.error({ err, endpoint: name }, 'service endpoint failed');
          return;
        }
        void answer(msg, handler, options.log, name);
      },
    });
  };
  endpoint('stats', () => options.stats());
  return {
    service,
    subjectOf: (name) => `${group}.${name}`,
    endpoint,
    async stop() {
      if (!service.isStopped) await service.stop();
    },
  };
}

/** A bad request (not JSON, or refused by the handler with InvalidInputError) is answered 400 with the reason; other errors 500. */
async function answer(msg: ServiceMsg, handler: EndpointHandler, log: Logger, name: string): Promise<void> {
  let request: unknown;
  try {
    request = msg.data.length > 0 ? msg.json<unknown>() : undefined;
  } catch (err) {
    msg.respondError(400, `the request is not JSON: ${errorMessage(err)}`);
    return;
  }
  try {
    msg.respond(JSON.stringify((await handler(request)) ?? null));
  } catch (err) {
    if (err instanceof InvalidInputError) {
      msg.respondError(400, errorMessage(err));
      return;
    }
    log.warn({ err, endpoint: name }, 'service request failed');
    msg.respondError(500, errorMessage(err));
  }
}

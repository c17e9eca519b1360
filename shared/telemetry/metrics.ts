import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { Logger } from 'pino';

const METRIC_NAME = /^[a-z][a-z0-9_]*$/;

/**
 * The metrics of one part, named `fleetban_<part>_<what>_<unit>` (`_total`
 * for counters). Each part creates its own so tests can read them in isolation.
 */
export class PartMetrics {
  readonly registry = new Registry();

  constructor(readonly part: string, options: { processMetrics?: boolean } = {}) {
    if (options.processMetrics ?? true) collectDefaultMetrics({ register: this.registry, prefix: `fleetban_${part}_` });
  }

  private name(what: string): string {
    const full = `fleetban_${this.part}_${what}`;
    if (!METRIC_NAME.test(full)) throw new Error(`bad metric name ${full}`);
    return full;
  }

  counter<L extends string = never>(what: string, help: string, labelNames: readonly L[] = []): Counter<L> {
    if (!what.endsWith('_total')) throw new Error(`counter ${what} must end in _total`);
    return new Counter({ name: this.name(what), help, labelNames, registers: [this.registry] });
  }

  gauge<L extends string = never>(what: string, help: string, labelNames: readonly L[] = [], collect?: (this: Gauge<L>) => void | Promise<void>): Gauge<L> {
    return new Gauge({ name: this.name(what), help, labelNames, registers: [this.registry], ...(collect && { collect }) });
  }

  histogram<L extends string = never>(what: string, help: string, buckets: number[], labelNames: readonly L[] = []): Histogram<L> {
    return new Histogram({ name: this.name(what), help, buckets, labelNames, registers: [this.registry] });
  }
}

export interface MetricsServer {
  readonly port: number;
  close(): Promise<void>;
}

/** Serves `GET /metrics` in the Prometheus text format on `listen` (`metrics.listen` in the config). */
export async function serveMetrics(listen: { host: string; port: number }, registry: Registry, log: Logger): Promise<MetricsServer> {
  const server: Server = createServer((req, res) => {
    if (req.method !== 'GET' || (req.url ?? '').split('?')[0] !== '/metrics') {
      res.writeHead(404).end('not found\n');
      return;
    }
    registry.metrics().then(
      (text) => res.writeHead(200, { 'content-type': registry.contentType }).end(text),
      (err: unknown) => {
        log.error({ err }, 'cannot collect metrics');
        res.writeHead(500).end('error\n');
      },
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(listen.port, listen.host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  log.info({ host: listen.host, port }, 'serving metrics on /metrics');
  return {
    port,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

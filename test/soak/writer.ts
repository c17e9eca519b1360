import { appendFileSync } from 'node:fs';
import { canonicalIp } from '../../shared/ip/index.ts';
import type { Rng } from './rng.ts';

/**
 * What an address is meant to get: `ban` exactly maxretry failures, `near`
 * one fewer, `over` one or two more than maxretry (the later ones arrive
 * while it is banned).
 */
export type Plan = 'ban' | 'near' | 'over';

export interface PlannedAddress {
  ip: string;
  plan: Plan;
  planned: number;
  written: number;
}

/** A line as written: the user name `u<seq>` makes it findable in the failures stream. */
export interface WrittenLine {
  user: string;
  ip: string;
  host: string;
  time: number;
}

export interface LogFile {
  host: string;
  path: string;
}

export interface WriterOptions {
  files: readonly LogFile[];
  maxretry: number;
  /** Lines per second over all files. */
  rate: number;
  /** Each line is dated up to this long before it is written (out of order, within findtime). */
  backdateMaxMs: number;
  /** Addresses being written at once; each line goes to one of them at random. */
  pool?: number;
}

const PLAN_WEIGHTS: Record<Plan, number> = { ban: 4, near: 4, over: 2 };
const TICK_MS = 50;

/** Documentation addresses, each used once: IPv4 first from two /24s, IPv6 from 2001:db8:500::/40. */
class AddressSource {
  private v4 = 0;
  private v6 = 0;
  private static readonly V4 = ['198.51.100', '203.0.113'].flatMap((net) =>
    Array.from({ length: 245 }, (_, i) => `${net}.${i + 10}`),
  );

  next(rng: Rng): string {
    if (this.v4 < AddressSource.V4.length && rng.next() < 0.3) return AddressSource.V4[this.v4++]!;
    const n = this.v6++;
    const hex = (x: number) => x.toString(16);
    return canonicalIp(`2001:db8:${hex(0x500 + (n >> 16))}:${hex(n & 0xffff)}::${hex(rng.int(1, 0xffff))}`);
  }
}

/**
 * The steady writer: appends sshd-style "Failed password" lines at a fixed
 * rate to the log files of several hosts, each address on a known plan, so
 * that which addresses must end up banned is known exactly. An address's
 * failures go to the hosts at random, so only counting across hosts bans it.
 */
export class FailureWriter {
  readonly addresses: PlannedAddress[] = [];
  readonly lines: WrittenLine[] = [];
  private readonly active: PlannedAddress[] = [];
  private readonly source = new AddressSource();
  private timer: NodeJS.Timeout | undefined;
  private startedAt = 0;

  constructor(
    private readonly rng: Rng,
    private readonly options: WriterOptions,
  ) {}

  start(): void {
    this.startedAt = Date.now();
    for (let i = 0; i < (this.options.pool ?? 16); i++) this.active.push(this.newAddress());
    this.timer = setInterval(() => this.tick(), TICK_MS);
  }

  /** Stops the steady rate and writes what each address still has to get, so every plan is complete. */
  stop(): void {
    clearInterval(this.timer);
    for (const address of this.active.splice(0)) {
      while (address.written < address.planned) this.writeOne(address);
    }
  }

  private tick(): void {
    const due = Math.floor(((Date.now() - this.startedAt) / 1000) * this.options.rate) - this.lines.length;
    for (let i = 0; i < due; i++) {
      const slot = this.rng.int(0, this.active.length - 1);
      const address = this.active[slot]!;
      this.writeOne(address);
      if (address.written >= address.planned) this.active[slot] = this.newAddress();
    }
  }

  private newAddress(): PlannedAddress {
    const plan = this.rng.weighted(PLAN_WEIGHTS);
    const { maxretry } = this.options;
    const planned = plan === 'ban' ? maxretry : plan === 'near' ? maxretry - 1 : maxretry + this.rng.int(1, 2);
    const address = { ip: this.source.next(this.rng), plan, planned, written: 0 };
    this.addresses.push(address);
    return address;
  }

  private writeOne(address: PlannedAddress): void {
    const file = this.rng.pick(this.options.files);
    const seq = this.lines.length + 1;
    const time = Date.now() - this.rng.int(0, this.options.backdateMaxMs);
    const user = `u${seq}`;
    const invalid = this.rng.next() < 0.5 ? 'invalid user ' : '';
    const line = `${new Date(time).toISOString()} ${file.host} sshd[${1000 + (seq % 9000)}]: `
      + `Failed password for ${invalid}${user} from ${address.ip} port ${this.rng.int(1024, 65535)} ssh2\n`;
    appendFileSync(file.path, line);
    this.lines.push({ user, ip: address.ip, host: file.host, time });
    address.written++;
  }
}

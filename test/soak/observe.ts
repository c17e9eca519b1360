import { jetstreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/nats-core';
import { canonicalIp } from '../../shared/ip/index.ts';
import { parseStatusResponse, type JailStatus, type Subjects } from '../../shared/schema/index.ts';
import type { Netns } from '../harness/index.ts';
import { JAIL, TABLE } from './stack.ts';

/** What one enforcer's kernel holds for the jail: address → seconds left (null: no timeout). */
export type KernelSet = Map<string, number | null>;

/** The figures the soak polls while the stack settles. */
export interface Progress {
  failuresStored: number;
  /** Failures the scorers have not yet taken, and taken but not acknowledged. */
  pending: number;
  ackPending: number;
  decisionsStored: number;
  kernel: KernelSet[];
}

const SET_KINDS = ['a4', 'a6', 'n4', 'n6'] as const;

/** Reads one enforcer's sets (`nft -j list table`) inside its namespace, independently of the enforcer's own parser. */
export async function readKernel(ns: Netns): Promise<KernelSet> {
  const listed = await ns.exec('nft', ['-j', 'list', 'table', 'inet', TABLE]);
  const out: KernelSet = new Map();
  if (listed.code !== 0) return out;
  const names = new Set(SET_KINDS.map((k) => `s_${JAIL}_${k}`));
  const doc = JSON.parse(listed.stdout) as { nftables?: Array<{ set?: { name: string; elem?: unknown[] } }> };
  for (const item of doc.nftables ?? []) {
    if (!item.set || !names.has(item.set.name)) continue;
    for (const raw of item.set.elem ?? []) {
      type Elem = { val: unknown; expires?: number; timeout?: number };
      const elem: Elem = typeof raw === 'object' && raw !== null && 'elem' in raw ? (raw as { elem: Elem }).elem : { val: raw };
      const text = typeof elem.val === 'string' ? canonicalIp(elem.val) : JSON.stringify(elem.val);
      out.set(text, 'timeout' in elem && elem.timeout !== undefined ? (elem.expires ?? 0) : null);
    }
  }
  return out;
}

export async function readProgress(nc: NatsConnection, subjects: Subjects, namespaces: readonly Netns[]): Promise<Progress> {
  const jsm = await jetstreamManager(nc, { timeout: 5000 });
  const [failures, decisions, consumer] = await Promise.all([
    jsm.streams.info(subjects.failuresStream),
    jsm.streams.info(subjects.decisionsStream),
    jsm.consumers.info(subjects.failuresStream, 'scorer'),
  ]);
  return {
    failuresStored: failures.state.messages,
    pending: consumer.num_pending,
    ackPending: consumer.num_ack_pending,
    decisionsStored: decisions.state.messages,
    kernel: await Promise.all(namespaces.map(readKernel)),
  };
}

/** The jail's status as a scorer answers `fleetban status` (any replica answers for the fleet). */
export async function readStatus(nc: NatsConnection, subjects: Subjects): Promise<JailStatus> {
  const request = JSON.stringify({ jail: JAIL, limit: 0 });
  const reply = await nc.request(`${subjects.prefix}.svc.scorer.status`, request, { timeout: 5000 });
  const parsed = parseStatusResponse(reply.data);
  if (!parsed.ok) throw new Error(`status reply: ${parsed.reason}`);
  const jail = parsed.value.jails.find((j) => j.jail === JAIL);
  if (!jail) throw new Error(`status reply has no jail ${JAIL}`);
  return jail;
}

import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { describe, test } from 'node:test';
import { jetstream } from '@nats-io/jetstream';
import { connectNats, drainNats } from '../../shared/nats/index.ts';
import { runPart } from '../../shared/runtime/index.ts';
import { decisionCodec, type Decision } from '../../shared/schema/index.ts';
import type { XtRecentStatus } from '../../services/enforcer/backends/index.ts';
import { startEnforcer } from '../../services/enforcer/enforcer.ts';
import { cli, NatsServer, Netns, netnsSkipReason, quietLogger, tempDir, testConfig } from '../harness/index.ts';

const IP_LIST_TOT = '/sys/module/xt_recent/parameters/ip_list_tot';
const LIST = 'fbx-web-v4-3600s';

/** The kernel's ip_list_tot, when it can be read and is small enough to fill with documentation addresses. */
function capacity(): number | string {
  let n: number;
  try {
    n = Number(readFileSync(IP_LIST_TOT, 'utf8').trim());
  } catch {
    return `cannot read ${IP_LIST_TOT} (the xt_recent module is not loaded, or not root)`;
  }
  return n > 700 ? `ip_list_tot is ${n}: filling a list takes more documentation addresses than the 768 IPv4 ones` : n;
}

/** The n-th address of the three IPv4 documentation /24s. */
const docV4 = (n: number) => `${['198.51.100', '203.0.113', '192.0.2'][Math.floor(n / 256)]}.${n % 256}`;

const found = netnsSkipReason() ?? capacity();
const skip = typeof found === 'string' ? found : undefined;

describe('an xt_recent list that fills up, with a running enforcer', { skip }, () => {
  test('the enforcer warns, refuses the adds instead of letting the kernel evict, and its stats and `fleetban services` name the full list', async () => {
    const tot = found as number;
    const nats = await NatsServer.start();
    const ns = await Netns.create('xtfull');
    const dir = tempDir('fleetban-xt-full');
    const stop = new AbortController();
    let exit: Promise<number> | undefined;
    try {
      const file = join(dir.path, 'enforcer.yaml');
      writeFileSync(file, [
        'prefix: xtfull',
        'host: edge-1',
        `nats: { servers: ["${nats.url}"] }`,
        'log: { level: info }',
        'jails: { web: { port: "8080" } }',
        `enforcer: { backend: xt_recent, netns: ${ns.name}, table: fbx, batchDelayMs: 5, xtRecent: { lists: [1m, 1h] } }`,
        '',
      ].join('\n'));
      const lines: Array<Record<string, unknown>> = [];
      const sink = new Writable({ write(chunk, _e, cb) { for (const l of String(chunk).split('\n')) if (l) lines.push(JSON.parse(l) as Record<string, unknown>); cb(); } });
      let running = false;
      exit = runPart({
        part: 'enforcer', description: 'test', configFile: file, stopSignal: stop.signal, logDestination: sink,
        async start(ctx) {
          const part = await startEnforcer(ctx);
          running = true;
          return part;
        },
      });
      let exited = false;
      void exit.then(() => (exited = true));
      await until('the enforcer to run', async () => {
        if (exited) assert.fail(`the enforcer exited:\n${lines.map((l) => l.msg).join('\n')}`);
        return running;
      });

      const nc = await connectNats(testConfig({ nats: { servers: [nats.url] } }).nats, { name: 'test', log: quietLogger(), mode: 'command' });
      try {
        const js = jetstream(nc);
        // Two more bans than the list holds, all of the same length, so all for the same list.
        for (let i = 0; i < tot + 2; i++) {
          const d: Decision = { v: 1, id: `f${i}`, action: 'ban', jail: 'web', target: docV4(i), time: Date.now(), duration: 30 * 60_000, origin: 'scorer' };
          await js.publish(`xtfull.ban.web`, decisionCodec.encode(d));
        }
        type Stats = { refused: Record<string, number>; backends: { xt_recent: XtRecentStatus } };
        const stats = async () => (await nc.request('xtfull.svc.enforcer.stats', '', { timeout: 5000 })).json<Stats>();
        await until('two refused adds', async () => ((await stats()).refused.set_full ?? 0) >= 2);

        const warning = lines.find((l) => l.msg === 'kernel set full: ban not applied (will retry)');
        assert.ok(warning, 'a warning is logged');
        assert.equal(warning.level, 'warn');
        assert.match(String(warning.detail), new RegExp(`xt_recent list ${LIST} holds ip_list_tot=${tot} addresses`));
        assert.equal(lines.filter((l) => l.msg === warning.msg).length, 1, 'one warning for the list, not one per ban');

        const now = (await stats()).backends.xt_recent;
        assert.equal(now.ipListTot, tot);
        assert.equal(now.entriesPerList[LIST], tot);
        assert.ok((now.refusedPerList[LIST] ?? 0) >= 2);
        assert.deepEqual(now.full.map((f) => [f.name, f.entries, f.capacity]), [[LIST, tot, tot]]);
        assert.ok(now.full[0]!.refused >= 2);
        // The list holds what it can, and every ban the enforcer applied is still in it: nothing was evicted.
        const inKernel = async () => new Set((await ns.ok('cat', [`/proc/net/xt_recent/${LIST}`])).split('\n').flatMap((l) => /^src=(\S+)/.exec(l)?.[1] ?? []));
        const applied = async () => new Set((await nc.request('xtfull.svc.enforcer.entries', '', { timeout: 5000 })).json<{ entries: Array<{ target: string }> }>().entries.map((e) => e.target));
        await until('the batch in the kernel', async () => (await inKernel()).size === tot && (await applied()).size === tot);
        assert.deepEqual(await inKernel(), await applied());

        const services = await cli('services', '--config', file, '--wait', '500');
        assert.equal(services.code, 0, services.stderr);
        assert.match(services.stdout, new RegExp(`^enforcer +edge-1 .*, refused \\d+, xt_recent list ${LIST} full ${tot}/${tot} \\(\\d+ adds refused\\)$`, 'm'));
      } finally {
        await drainNats(nc);
      }
    } finally {
      stop.abort();
      await exit;
      await ns.remove();
      await nats.dispose();
      dir.remove();
    }
  });
});

async function until(what: string, check: () => Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

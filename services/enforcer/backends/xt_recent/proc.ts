import { readFile, writeFile } from 'node:fs/promises';
import { FleetbanError } from '../../../../shared/errors.ts';
import { tryCanonicalIp } from '../../../../shared/ip/index.ts';
import type { Exec } from '../exec.ts';

export const XT_RECENT_DIR = '/proc/net/xt_recent';

/** One write to a list: `+addr` or `-addr`. */
export interface ListWrite {
  list: string;
  line: string;
}

/** Reading and writing xt_recent lists: the only module that touches /proc/net/xt_recent. */
export interface ProcLists {
  /** The addresses in a list, canonical; undefined when the list does not exist. */
  read(list: string): Promise<string[] | undefined>;
  write(writes: readonly ListWrite[]): Promise<void>;
}

export class ListWriteError extends FleetbanError {}

const LIST_NAME = /^[A-Za-z0-9_.-]{1,200}$/;
const LINE = /^[+-][0-9a-fA-F:.]{2,45}$/;

/**
 * The kernel reads one command per write() and refuses a second write on
 * the same open file, so every address is its own open-write-close. Inside a
 * network namespace the writes must come from a process in it: a small fixed
 * node script run through `ip netns exec`, taking `list +addr` lines on stdin.
 */
const NETNS_WRITER = `
const fs = require('node:fs');
const dir = process.argv[1];
let input = '';
let failed = 0;
process.stdin.on('data', (c) => (input += c));
process.stdin.on('end', () => {
  for (const line of input.split('\\n')) {
    if (!line) continue;
    const m = /^([A-Za-z0-9_.-]{1,200}) ([+-][0-9a-fA-F:.]{2,45})$/.exec(line);
    if (!m) { console.error('refused line: ' + line); failed++; continue; }
    try { fs.writeFileSync(dir + '/' + m[1], m[2]); } catch (e) { console.error(m[1] + ' ' + m[2] + ': ' + e.message); failed++; }
  }
  process.exit(failed ? 1 : 0);
});`;

export function procLists(exec: Exec, dir = XT_RECENT_DIR): ProcLists {
  const check = (w: ListWrite) => {
    if (!LIST_NAME.test(w.list) || !LINE.test(w.line)) throw new ListWriteError(`refusing to write "${w.line}" to "${w.list}"`);
  };
  if (exec.netns === undefined) {
    return {
      async read(list) {
        const text = await readFile(`${dir}/${list}`, 'utf8').catch((err: NodeJS.ErrnoException) => {
          if (err.code === 'ENOENT') return undefined;
          throw err;
        });
        return text === undefined ? undefined : parseList(text);
      },
      async write(writes) {
        const failures: string[] = [];
        for (const w of writes) {
          check(w);
          await writeFile(`${dir}/${w.list}`, w.line).catch((err: Error) => failures.push(`${w.list} ${w.line}: ${err.message}`));
        }
        if (failures.length > 0) throw new ListWriteError(`xt_recent writes failed: ${failures.slice(0, 3).join('; ')}`);
      },
    };
  }
  return {
    async read(list) {
      const r = await exec.attempt({ tool: 'cat', args: [`${dir}/${list}`] });
      if (r.code !== 0) {
        if (/No such file/.test(r.stderr)) return undefined;
        throw new ListWriteError(`cannot read xt_recent list ${list}: ${r.stderr.trim()}`);
      }
      return parseList(r.stdout);
    },
    async write(writes) {
      writes.forEach(check);
      if (writes.length === 0) return;
      await exec.run({ tool: process.execPath, args: ['-e', NETNS_WRITER, dir], stdin: `${writes.map((w) => `${w.list} ${w.line}`).join('\n')}\n` });
    },
  };
}

/** `src=192.0.2.10 ttl: 0 last_seen: ...` lines; IPv6 comes fully written out. */
export function parseList(text: string): string[] {
  const out: string[] = [];
  for (const line of text.split('\n')) {
    const m = /^src=(\S+)/.exec(line);
    const ip = m ? tryCanonicalIp(m[1]!) : undefined;
    if (ip) out.push(ip);
  }
  return out;
}

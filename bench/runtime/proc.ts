import { readdirSync, readFileSync } from 'node:fs';

/** Reads `/proc/<pid>/status` fields in kB and returns MiB. */
function statusMiB(pid: number, field: 'VmRSS' | 'VmHWM'): number {
  const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
}

/** Resident set size now, MiB. */
export const rssMiB = (pid: number): number => statusMiB(pid, 'VmRSS');
/** Highest resident set size since the process started, MiB. */
export const peakRssMiB = (pid: number): number => statusMiB(pid, 'VmHWM');

/** CPU seconds (user + system) the process has used. */
export function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/** Every descendant of `pid` (name and pid), e.g. an esbuild child that tsx left behind. */
export function descendants(pid: number): Array<{ pid: number; name: string }> {
  const parentOf = new Map<number, { ppid: number; name: string }>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const name = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      parentOf.set(Number(entry), { ppid, name });
    } catch {
      // exited while we looked
    }
  }
  const out: Array<{ pid: number; name: string }> = [];
  const visit = (parent: number) => {
    for (const [child, { ppid, name }] of parentOf) {
      if (ppid === parent) {
        out.push({ pid: child, name });
        visit(child);
      }
    }
  };
  visit(pid);
  return out;
}

/** Samples a process's RSS every `everyMs` until stopped; the highest sample, MiB. */
export function sampleRss(pid: number, everyMs = 50): { stop(): number } {
  let peak = 0;
  const tick = () => {
    try {
      peak = Math.max(peak, rssMiB(pid));
    } catch {
      // the process is gone
    }
  };
  tick();
  const timer = setInterval(tick, everyMs);
  return {
    stop() {
      clearInterval(timer);
      tick();
      return peak;
    },
  };
}

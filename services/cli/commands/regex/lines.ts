import { createReadStream, statSync } from 'node:fs';
import { decodedStrictly, lineDecoder, type Codec } from './encoding.ts';

/**
 * Reads a log file line by line without holding it in memory. A last line
 * without a newline is not passed on: fail2ban-regex waits for the line end
 * there too (it treats the file as one still being written).
 *
 * Lines are split at the `\n` byte and decoded one by one, as fail2ban's
 * FileContainer does: every codec fleetban takes (see encoding.ts) has `\n`
 * as that one byte and never inside a sequence. Buffer gives one-byte
 * strings for ASCII text, which the regex engine scans faster; and a line is
 * its own string, not a slice that would keep a whole chunk alive while the
 * filter remembers the line (its connection cache holds lines for minutes).
 * A line keeps its `\n` (the matcher wants the text with it).
 */
export async function forEachLine(
  file: string,
  codec: Codec,
  onLine: (line: string) => void,
  onProgress?: (bytes: number, total: number) => void,
  onBadLine?: (bytes: Buffer) => void,
): Promise<{ incompleteLast: boolean }> {
  const total = statSync(file).size;
  const decode = lineDecoder(codec);
  let pending: Buffer | undefined;
  let bytes = 0;
  let nextReport = 0;
  for await (const chunk of createReadStream(file, { highWaterMark: 1 << 18 })) {
    const buf = chunk as Buffer;
    bytes += buf.length;
    const data = pending ? Buffer.concat([pending, buf]) : buf;
    let start = 0;
    for (let nl = data.indexOf(10); nl >= 0; nl = data.indexOf(10, start)) {
      const line = decode(data, start, nl + 1);
      if (onBadLine && !decodedStrictly(codec, line, data, start, nl + 1)) onBadLine(data.subarray(start, nl + 1));
      onLine(line);
      start = nl + 1;
    }
    pending = start < data.length ? Buffer.from(data.subarray(start)) : undefined;
    if (onProgress && bytes >= nextReport) {
      onProgress(bytes, total);
      nextReport = bytes + (total >> 6);
    }
  }
  return { incompleteLast: pending !== undefined };
}

/** A progress bar on stderr for a terminal; `done()` clears it. */
export function progressBar(stream: NodeJS.WritableStream): { update(bytes: number, total: number): void; done(): void } {
  let last = 0;
  return {
    update(bytes, total) {
      const t = Date.now();
      if (t - last < 200 && bytes < total) return;
      last = t;
      const pct = total ? Math.min(100, Math.floor((bytes / total) * 100)) : 100;
      const width = 30;
      const fill = Math.round((pct / 100) * width);
      stream.write(`\r[${'#'.repeat(fill)}${'.'.repeat(width - fill)}] ${String(pct).padStart(3)}%  ${(bytes / 1048576).toFixed(1)} MiB`);
    },
    done() {
      stream.write('\r\x1b[K');
    },
  };
}

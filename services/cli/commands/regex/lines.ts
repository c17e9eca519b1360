import { createReadStream, statSync } from 'node:fs';

/**
 * Reads a log file line by line without holding it in memory. A last line
 * without a newline is not passed on: fail2ban-regex waits for the line end
 * there too (it treats the file as one still being written).
 *
 * UTF-8 is decoded by Buffer line by line: a `\n` byte never occurs inside
 * a UTF-8 sequence; Buffer gives one-byte strings for ASCII text, which the
 * regex engine scans faster than TextDecoder's; and a line is its own
 * string, not a slice that would keep a whole chunk alive while the filter
 * remembers the line (its connection cache holds lines for minutes).
 */
export async function forEachLine(
  file: string,
  encoding: string,
  onLine: (line: string) => void,
  onProgress?: (bytes: number, total: number) => void,
): Promise<{ incompleteLast: boolean }> {
  const total = statSync(file).size;
  const utf8 = /^utf-?8$/i.test(encoding);
  const decoder = utf8 ? undefined : new TextDecoder(encoding);
  let pending: Buffer | undefined;
  let rest = '';
  let bytes = 0;
  let nextReport = 0;
  const emit = (text: string): string => {
    let start = 0;
    for (let nl = text.indexOf('\n'); nl >= 0; nl = text.indexOf('\n', start)) {
      onLine(text.slice(start, nl));
      start = nl + 1;
    }
    return text.slice(start);
  };
  for await (const chunk of createReadStream(file, { highWaterMark: 1 << 18 })) {
    const buf = chunk as Buffer;
    bytes += buf.length;
    if (decoder) {
      rest = emit(rest + decoder.decode(buf, { stream: true }));
    } else {
      const data = pending ? Buffer.concat([pending, buf]) : buf;
      let start = 0;
      for (let nl = data.indexOf(10); nl >= 0; nl = data.indexOf(10, start)) {
        onLine(data.toString('utf8', start, nl));
        start = nl + 1;
      }
      pending = start < data.length ? Buffer.from(data.subarray(start)) : undefined;
    }
    if (onProgress && bytes >= nextReport) {
      onProgress(bytes, total);
      nextReport = bytes + (total >> 6);
    }
  }
  if (decoder) rest += decoder.decode();
  else rest = pending ? pending.toString('utf8') : '';
  return { incompleteLast: rest !== '' };
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

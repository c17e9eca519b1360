/** A complete line with the byte offsets it spans (its newline included in `end`). */
export interface SplitLine {
  text: string;
  start: number;
  end: number;
}

const NEWLINE = 0x0a;
const CR = 0x0d;

/**
 * Cuts a byte stream into lines and knows each line's offsets. A line without
 * its newline yet is held (only its first `maxBytes` bytes: a log line is
 * attacker-controlled, so an endless line must not grow memory) until the
 * newline arrives. Pure: bytes in, lines out.
 */
export class LineSplitter {
  private held: Buffer[] = [];
  private heldBytes = 0;
  private lineStart: number;
  private offset: number;

  constructor(
    private readonly maxBytes: number,
    start = 0,
  ) {
    this.lineStart = start;
    this.offset = start;
  }

  /** Where the line being assembled starts: the position to resume from. */
  get resumeAt(): number {
    return this.lineStart;
  }

  /** Bytes consumed so far (the next chunk starts here). */
  get readTo(): number {
    return this.offset;
  }

  /** Whether part of a line is held waiting for its newline. */
  get holding(): boolean {
    return this.offset > this.lineStart;
  }

  /** Lines completed by `chunk`, which continues the bytes pushed before it. */
  push(chunk: Uint8Array): SplitLine[] {
    const buf = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    const out: SplitLine[] = [];
    let from = 0;
    for (let nl = buf.indexOf(NEWLINE, from); nl >= 0; nl = buf.indexOf(NEWLINE, from)) {
      const end = this.offset + nl + 1;
      out.push({ text: this.take(buf, from, nl), start: this.lineStart, end });
      this.lineStart = end;
      from = nl + 1;
    }
    if (from < buf.length) this.hold(buf.subarray(from));
    this.offset += buf.length;
    return out;
  }

  /** The held partial line as a line of its own (a file that will not grow again), if any. */
  flush(): SplitLine | undefined {
    if (!this.holding) return undefined;
    const text = this.decodeHeld(Buffer.alloc(0), 0, 0);
    const line = { text, start: this.lineStart, end: this.offset };
    this.lineStart = this.offset;
    return line;
  }

  /** Starts again at `offset`, dropping anything held (truncation, a new generation). */
  reset(offset = 0): void {
    this.held = [];
    this.heldBytes = 0;
    this.lineStart = offset;
    this.offset = offset;
  }

  private take(buf: Buffer, from: number, nl: number): string {
    if (this.heldBytes === 0 && this.held.length === 0) {
      const to = nl > from && buf[nl - 1] === CR ? nl - 1 : nl;
      return buf.toString('utf8', from, Math.min(to, from + this.maxBytes));
    }
    return this.decodeHeld(buf, from, nl);
  }

  private decodeHeld(buf: Buffer, from: number, to: number): string {
    const room = Math.max(0, this.maxBytes - this.heldBytes);
    const parts = [...this.held, buf.subarray(from, from + Math.min(to - from, room))];
    let joined = Buffer.concat(parts);
    if (joined.length > 0 && joined[joined.length - 1] === CR && this.heldBytes + (to - from) <= this.maxBytes) joined = joined.subarray(0, -1);
    this.held = [];
    this.heldBytes = 0;
    return joined.toString('utf8');
  }

  private hold(rest: Buffer): void {
    const room = this.maxBytes - this.heldBytes;
    if (room <= 0) return;
    // Copy: the caller's read buffer is reused for the next chunk.
    const kept = Buffer.from(rest.subarray(0, room));
    this.held.push(kept);
    this.heldBytes += kept.length;
  }
}

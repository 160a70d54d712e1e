// How a component's output is cut into lines, shared by the log (output.ts) and the in-memory
// buffers (buffer.ts), which must cut at the same places: one LineSplitter per pipe and per
// reader, the same code for both.
import { loadNative } from '../process/native.js';

/** the longest piece of a line kept in memory, and so the longest message of one record */
export const MAX_LINE = 64 * 1024;

const NEWLINE = 0x0a;
const NEWLINE_BYTE = Buffer.from([NEWLINE]);

/**
 * Where to cut `bytes` (longer than MAX_LINE) so that the piece is at most MAX_LINE long and no
 * UTF-8 character is torn between two pieces (MAX_LINE itself when the bytes are not UTF-8).
 */
export function utf8CutAt(bytes: Buffer): number {
  let cut = MAX_LINE;
  for (let back = 0; back < 3 && cut > 0 && (bytes[cut]! & 0xc0) === 0x80; back++) cut--;
  return cut > 0 && (bytes[cut]! & 0xc0) !== 0x80 ? cut : MAX_LINE;
}

/** the bytes before an unfinished UTF-8 character at the end (all of them when there is none) */
export function utf8CompleteLength(bytes: Buffer): number {
  let start = bytes.length - 1;
  while (start > 0 && bytes.length - start < 4 && (bytes[start]! & 0xc0) === 0x80) start--;
  const lead = bytes[start]!;
  const size = lead >= 0xf0 ? 4 : lead >= 0xe0 ? 3 : lead >= 0xc0 ? 2 : 1;
  return bytes.length - start >= size ? bytes.length : start;
}

/** What a LineSplitter hands its lines to. Both calls are synchronous: `ends` is reused after. */
export interface LineConsumer {
  /**
   * The consumer takes several lines as one (it needs only where the last one ends): the
   * splitter then finds no line ends in a region that cannot hold a line longer than MAX_LINE.
   */
  readonly linesAsOne?: boolean;
  /**
   * n complete lines of `bytes`: the first starts at `start`, line i ends with the newline at
   * ends[i] (each next line starts after the previous newline). No line is longer than MAX_LINE.
   */
  lines(bytes: Buffer, start: number, ends: Int32Array, n: number, time: number): void;
  /**
   * Part of a line, without a newline: with `partial`, more of the same line follows (a line
   * longer than MAX_LINE, or one held back too long); without, the stream ended in its middle.
   */
  piece(bytes: Buffer, partial: boolean, time: number): void;
}

/**
 * Line ends of a region: at most MAX_LINE + 1 lines fit in a region of MAX_LINE bytes. One array
 * for every splitter (JavaScript runs one of them at a time, and consumers do not keep it).
 */
const lineEnds = new Int32Array(MAX_LINE + 1);
/** ends of a single line (a carried line completed, the last piece of a long one) */
const oneEnd = new Int32Array(1);

/**
 * Splits a byte stream into lines. Complete lines are handed over in bulk, their ends found by the
 * addon in one call per chunk (native/lines.c: at millions of lines a second a JavaScript call
 * per line costs more than the bytes). A pending partial line is kept, copied, until its newline
 * comes; it is cut into pieces as soon as it is longer than MAX_LINE, never tearing a UTF-8
 * character, so memory stays bounded whatever a child prints.
 */
export class LineSplitter {
  private carry: Buffer[] = [];
  private carryLength = 0;

  constructor(private readonly consumer: LineConsumer) {}

  push(chunk: Buffer, time = Date.now()): void {
    let start = 0;
    if (this.carryLength > 0) {
      const newline = chunk.indexOf(NEWLINE);
      if (newline < 0) {
        this.addToCarry(chunk, 0, chunk.length, time);
        return;
      }
      this.addToCarry(chunk, 0, newline, time);
      // the carried beginning and its end go on as one line, its newline included (added after
      // the cut above: a line of exactly MAX_LINE bytes stays one line)
      this.carry.push(NEWLINE_BYTE);
      this.carryLength += 1;
      const line = this.takeCarry();
      oneEnd[0] = line.length - 1;
      this.consumer.lines(line, 0, oneEnd, 1, time);
      start = newline + 1;
    }
    const last = chunk.lastIndexOf(NEWLINE);
    if (last >= start) {
      this.region(chunk, start, last, time);
      start = last + 1;
    }
    if (start < chunk.length) this.addToCarry(chunk, start, chunk.length, time);
  }

  /** the stream ended: what is held of an unfinished line goes on as it is */
  end(time = Date.now()): void {
    if (this.carryLength > 0) this.consumer.piece(this.takeCarry(), false, time);
  }

  /** true while part of a line waits for its end */
  get holding(): boolean {
    return this.carryLength > 0;
  }

  /** forgets what is held of an unfinished line (its beginning was skipped: see LogBuffers.stage) */
  discard(): void {
    this.carry = [];
    this.carryLength = 0;
  }

  /** lets out what is held of an unfinished line as a piece (more of the line may follow) */
  flushHeld(time = Date.now()): void {
    if (this.carryLength === 0) return;
    const held = this.takeCarry();
    const cut = utf8CompleteLength(held);
    if (cut > 0) this.consumer.piece(held.subarray(0, cut), true, time);
    this.keep(held.subarray(cut));
  }

  /** bytes start..last hold complete lines, chunk[last] is a newline */
  private region(chunk: Buffer, start: number, last: number, time: number): void {
    let from = start;
    if (this.consumer.linesAsOne && !mayHoldLongLine(chunk, from, last)) {
      oneEnd[0] = last;
      this.consumer.lines(chunk, from, oneEnd, 1, time);
      return;
    }
    const native = loadNative();
    while (from <= last) {
      const n = native.scanLines(chunk, from, last + 1, lineEnds);
      // only a region longer than MAX_LINE (not one read of a pipe) can hold a line too long
      const long = last + 1 - from > MAX_LINE ? firstLongLine(from, n) : -1;
      if (long < 0) {
        this.consumer.lines(chunk, from, lineEnds, n, time);
        from = lineEnds[n - 1]! + 1;
        continue;
      }
      if (long > 0) this.consumer.lines(chunk, from, lineEnds, long, time);
      const lineStart = long === 0 ? from : lineEnds[long - 1]! + 1;
      from = lineEnds[long]! + 1;
      this.longLine(chunk.subarray(lineStart, from), time);
    }
  }

  /** a line longer than MAX_LINE (its newline included): pieces, then the rest as a line */
  private longLine(line: Buffer, time: number): void {
    let rest = line;
    while (rest.length - 1 > MAX_LINE) {
      const cut = utf8CutAt(rest);
      this.consumer.piece(rest.subarray(0, cut), true, time);
      rest = rest.subarray(cut);
    }
    oneEnd[0] = rest.length - 1;
    this.consumer.lines(rest, 0, oneEnd, 1, time);
  }

  private addToCarry(chunk: Buffer, start: number, end: number, time: number): void {
    if (end <= start) return;
    // copied: a small rest must not keep the whole 64 KiB chunk alive
    this.carry.push(Buffer.from(chunk.subarray(start, end)));
    this.carryLength += end - start;
    // strictly more: where a character ends can only be told from the byte after the cut
    while (this.carryLength > MAX_LINE) {
      const held = this.takeCarry();
      const cut = utf8CutAt(held);
      this.consumer.piece(held.subarray(0, cut), true, time);
      this.keep(held.subarray(cut));
    }
  }

  /** what is left of a held line after a piece went out waits again (nothing when it is empty) */
  private keep(rest: Buffer): void {
    if (rest.length === 0) return;
    this.carry.push(rest);
    this.carryLength = rest.length;
  }

  private takeCarry(): Buffer {
    const whole = this.carry.length === 1 ? this.carry[0]! : Buffer.concat(this.carry, this.carryLength);
    this.carry = [];
    this.carryLength = 0;
    return whole;
  }
}

/** half a longest line: a newline in every such stretch means no line is longer than MAX_LINE */
const STRETCH = MAX_LINE / 2;

/**
 * false when no line of bytes start..last (chunk[last] a newline) is longer than MAX_LINE, told
 * without finding every line: every STRETCH bytes from the start hold a newline, so two newlines
 * are never more than MAX_LINE bytes apart. true when that cannot be told so (find the lines).
 */
function mayHoldLongLine(chunk: Buffer, start: number, last: number): boolean {
  if (last + 1 - start <= MAX_LINE) return false;
  for (let at = start; at + STRETCH <= last; at += STRETCH) {
    const newline = chunk.indexOf(NEWLINE, at);
    if (newline < 0 || newline >= at + STRETCH) return true;
  }
  return false;
}

/** index of the first of n lines in lineEnds (the first starting at `from`) longer than MAX_LINE, or -1 */
function firstLongLine(from: number, n: number): number {
  let lineStart = from;
  for (let i = 0; i < n; i++) {
    if (lineEnds[i]! - lineStart > MAX_LINE) return i;
    lineStart = lineEnds[i]! + 1;
  }
  return -1;
}

// A component's stdout/stderr into the log (design.md §7). `json`: one record per line, with
// `component` and `stream`; `raw`: the bytes go to our own stdout/stderr unchanged, whole lines at a
// time so two components never interleave mid-line. The last partial line is flushed when the
// stream ends (a crash loses nothing); a line longer than MAX_LINE is cut into pieces, so memory
// stays bounded whatever a child prints; and when the destination is full we stop reading the
// child (it then blocks on its own write) instead of buffering.
import { hostname } from 'node:os';
import type { Readable } from 'node:stream';
import { loadNative } from '../process/native.js';
import type { LogBuffers, OutputTap } from './buffer.js';
import { MAX_LINE, utf8CompleteLength, utf8CutAt } from './line.js';
import type { LogSink, StdStream } from './sink.js';

export { MAX_LINE };

export type OutputMode = 'json' | 'raw';

export interface OutputMeta {
  component: string;
  stream: StdStream;
  mode: OutputMode;
  /** the pid of the run that printed it (its records carry it, not the supervisor's) */
  pid?: number;
}

const NEWLINE = 0x0a;
/**
 * A partial line that has waited this long with nothing more coming is let out as a piece (a
 * prompt such as "Password: ", a progress dot): a line is never held back for long.
 */
export const IDLE_FLUSH_MS = 1000;

/**
 * Copies `source` into `sink` until it ends. Resolves once the stream has ended and everything it
 * gave is in the sink's writers (call sink.flush() to wait for the OS as well). Never rejects: a
 * broken pipe from the child just ends the copy.
 */
export function attachOutput(
  source: Readable,
  meta: OutputMeta,
  sink: LogSink,
  tap?: OutputTap,
): Promise<void> {
  const lines = meta.mode === 'raw' ? new RawLines(sink, meta.stream) : new JsonLines(sink, meta);
  // the in-memory buffer (buffer.ts) sees every chunk, and learns what of it the log dropped
  const logged = (write: () => void): number => {
    const before = sinkDroppedBytes(sink);
    write();
    return sinkDroppedBytes(sink) - before;
  };
  return new Promise((resolve) => {
    let paused = false;
    let finished = false;
    let lastDataAt = 0;
    let idleTimer: NodeJS.Timeout | undefined;
    const resume = () => {
      paused = false;
      lastDataAt = Date.now();
      source.resume();
    };
    const onIdle = () => {
      idleTimer = undefined;
      if (finished || !lines.holding) return;
      // while we hold the child back, the rest of its line may be waiting in the pipe: not idle
      const waited = paused ? 0 : Date.now() - lastDataAt;
      if (waited >= IDLE_FLUSH_MS) {
        lines.flushHeld();
        tap?.idle();
      } else idleTimer = setTimeout(onIdle, IDLE_FLUSH_MS - waited).unref();
    };
    source.on('data', (data: Buffer | string) => {
      const chunk = typeof data === 'string' ? Buffer.from(data) : data;
      if (tap)
        tap.data(
          chunk,
          logged(() => lines.push(chunk)),
        );
      else lines.push(chunk);
      lastDataAt = Date.now();
      // one timer while a partial line is held, not one per chunk
      if (lines.holding && !idleTimer) idleTimer = setTimeout(onIdle, IDLE_FLUSH_MS).unref();
      if (!paused && sink.needsDrain()) {
        // the child blocks on its own write once the pipe between us fills: that is the backpressure
        paused = true;
        source.pause();
        void sink.whenWritable().then(resume);
      }
    });
    const finish = () => {
      if (finished) return;
      finished = true;
      clearTimeout(idleTimer);
      if (tap) tap.end(logged(() => lines.end()));
      else lines.end();
      resolve();
    };
    source.once('end', finish);
    // an abrupt close or a read error: keep what we have, and never reject (callers do not await)
    source.once('close', finish);
    source.once('error', finish);
  });
}

/** output bytes the sink could not take so far (stdout and stderr; the file is the log's own) */
function sinkDroppedBytes(sink: LogSink): number {
  return sink.stdout.droppedBytes + sink.stderr.droppedBytes;
}

/** attachOutput bound to one sink (and the in-memory buffers): the shape the supervision core takes */
export function outputAttacher(
  sink: LogSink,
  buffers?: LogBuffers,
): (source: Readable, meta: OutputMeta) => Promise<void> {
  return (source, meta) => attachOutput(source, meta, sink, buffers?.tap(meta));
}

/**
 * Splits a byte stream into lines. Complete lines are handed over in bulk (`region`: bytes
 * start..end hold one or more lines, end being the index of the last newline), a pending partial
 * line is kept in `carry` and cut into pieces as soon as it reaches MAX_LINE.
 */
abstract class LineSplitter {
  private carry: Buffer[] = [];
  private carryLength = 0;

  push(chunk: Buffer): void {
    let start = 0;
    if (this.carryLength > 0) {
      const newline = chunk.indexOf(NEWLINE);
      if (newline < 0) {
        this.addToCarry(chunk, 0, chunk.length);
        return;
      }
      this.addToCarry(chunk, 0, newline);
      this.lineEnd(this.takeCarry());
      start = newline + 1;
    }
    const last = chunk.lastIndexOf(NEWLINE);
    if (last >= start) {
      this.region(chunk, start, last);
      start = last + 1;
    }
    if (start < chunk.length) this.addToCarry(chunk, start, chunk.length);
  }

  end(): void {
    if (this.carryLength > 0) this.partialEnd(this.takeCarry());
  }

  /** true while part of a line waits for its end */
  get holding(): boolean {
    return this.carryLength > 0;
  }

  /** lets out what is held of an unfinished line as a piece (more of the line may follow) */
  flushHeld(): void {
    if (this.carryLength === 0) return;
    const held = this.takeCarry();
    const cut = this.completeLength(held);
    if (cut > 0) this.piece(held.subarray(0, cut));
    if (cut < held.length) {
      this.carry.push(held.subarray(cut));
      this.carryLength = held.length - cut;
    }
  }

  /** bytes start..end (exclusive) are complete lines separated by newlines; `end` is a newline */
  protected abstract region(chunk: Buffer, start: number, end: number): void;
  /** the rest of a line whose beginning was carried over (without its newline) */
  protected abstract lineEnd(line: Buffer): void;
  /** a piece of a line too long to hold, more of the same line follows */
  protected abstract piece(bytes: Buffer): void;
  /** the stream ended in the middle of a line */
  protected abstract partialEnd(bytes: Buffer): void;
  /** how much of `bytes` can go out now without tearing a character (raw: all of it) */
  protected completeLength(bytes: Buffer): number {
    return bytes.length;
  }

  /** where to cut `bytes` so that the piece is at most MAX_LINE long */
  protected cutAt(_bytes: Buffer): number {
    return MAX_LINE;
  }

  private addToCarry(chunk: Buffer, start: number, end: number): void {
    if (end <= start) return;
    // copied: a small rest must not keep the whole 64 KiB chunk alive
    this.carry.push(Buffer.from(chunk.subarray(start, end)));
    this.carryLength += end - start;
    // strictly more: where a character ends can only be told from the byte after the cut
    while (this.carryLength > MAX_LINE) {
      const held = this.takeCarry();
      const cut = this.cutAt(held);
      this.piece(held.subarray(0, cut));
      if (cut < held.length) {
        this.carry.push(held.subarray(cut));
        this.carryLength = held.length - cut;
      }
    }
  }

  private takeCarry(): Buffer {
    const whole = this.carry.length === 1 ? this.carry[0]! : Buffer.concat(this.carry, this.carryLength);
    this.carry = [];
    this.carryLength = 0;
    return whole;
  }
}

/** raw mode: bytes unchanged, never more than MAX_LINE held */
class RawLines extends LineSplitter {
  constructor(
    private readonly sink: LogSink,
    private readonly stream: StdStream,
  ) {
    super();
  }

  protected region(chunk: Buffer, start: number, end: number): void {
    this.sink.writeRaw(this.stream, chunk.subarray(start, end + 1));
  }

  protected lineEnd(line: Buffer): void {
    // the carried start of the line and its end go out as one write: nothing can come between
    const withNewline = Buffer.allocUnsafe(line.length + 1);
    line.copy(withNewline);
    withNewline[line.length] = NEWLINE;
    this.sink.writeRaw(this.stream, withNewline);
  }

  protected piece(bytes: Buffer): void {
    this.sink.writeRaw(this.stream, bytes);
  }

  protected partialEnd(bytes: Buffer): void {
    this.sink.writeRaw(this.stream, bytes);
  }
}

/**
 * json mode: one record per line, `partial: true` on every piece of a cut line but the last.
 *
 * A record is what pino would write for `logger.child({ component, stream, pid }).info(line)`
 * with the supervisor's base ({ hostname }), byte for byte: a fixed prefix, the time, the fields
 * of this stream, the line as a JSON string, and a suffix. Built here without pino, whose
 * general-purpose path (level check, bindings, serializers, hooks) costs more than the line
 * itself at millions of lines a second; pino stays for the supervisor's own records.
 */
class JsonLines extends LineSplitter {
  /** `,"hostname":…,"component":…,"stream":…,"pid":…` of every record of this stream */
  private readonly fields: string;
  private headTime = -1;
  private headBytes = Buffer.alloc(0);

  constructor(
    private readonly sink: LogSink,
    meta: OutputMeta,
  ) {
    super();
    this.fields = outputRecordFields(meta);
  }

  protected region(chunk: Buffer, start: number, end: number): void {
    if (end - start <= MAX_LINE) {
      // Lines that arrived in one read get the same time, and their records go out as one write.
      const time = Date.now();
      const native = loadNative();
      // one pass in C finds the lines and builds their records (a region of at most MAX_LINE
      // bytes has at most as many lines as lineEnds holds)
      const n = native.scanLines(chunk, start, end + 1, lineEnds);
      const records = native.jsonRecords(chunk, start, lineEnds, n, this.head(time), RECORD_TAIL);
      if (records) this.sink.writeRecordBytes(records);
      else this.decoded(chunk, start, end, time);
      return;
    }
    let from = start;
    while (from <= end) {
      const newline = chunk.indexOf(NEWLINE, from);
      this.longLine(chunk.subarray(from, newline));
      from = newline + 1;
    }
  }

  /** lines that are not all valid UTF-8: decoded as Node decodes them (U+FFFD for what is not) */
  private decoded(chunk: Buffer, start: number, end: number, time: number): void {
    // decoding once and slicing the string is much cheaper than a decode per line
    const text = chunk.toString('utf8', start, end);
    let records = '';
    let from = 0;
    for (;;) {
      const newline = text.indexOf('\n', from);
      if (newline < 0) {
        records += this.record(text.slice(from), time);
        break;
      }
      records += this.record(text.slice(from, newline), time);
      from = newline + 1;
    }
    this.sink.writeRecords(records);
  }

  /** the bytes of a record up to its message (its opening quote included) at `time` */
  private head(time: number): Buffer {
    if (time !== this.headTime) {
      this.headBytes = Buffer.from(`${recordHead(this.fields, time, false)}"`);
      this.headTime = time;
    }
    return this.headBytes;
  }

  protected lineEnd(line: Buffer): void {
    this.longLine(line);
  }

  protected piece(bytes: Buffer): void {
    this.sink.writeRecords(outputRecord(this.fields, bytes.toString('utf8'), true));
  }

  protected partialEnd(bytes: Buffer): void {
    this.line(bytes.toString('utf8'));
  }

  /** the bytes before an unfinished UTF-8 character at the end (all of them when there is none) */
  protected override completeLength(bytes: Buffer): number {
    return utf8CompleteLength(bytes);
  }

  /** backs off to the start of a UTF-8 character, so no character is torn between two records */
  protected override cutAt(bytes: Buffer): number {
    return utf8CutAt(bytes);
  }

  private longLine(line: Buffer): void {
    let rest = line;
    while (rest.length > MAX_LINE) {
      const cut = this.cutAt(rest);
      this.piece(rest.subarray(0, cut));
      rest = rest.subarray(cut);
    }
    this.line(rest.toString('utf8'));
  }

  private line(text: string): void {
    this.sink.writeRecords(this.record(text, Date.now()));
  }

  /** the record of one line (a CR before its newline is not part of it) */
  private record(text: string, time: number): string {
    return outputRecord(this.fields, text.endsWith('\r') ? text.slice(0, -1) : text, false, time);
  }
}

let hostnameJson: string | undefined;

/**
 * The fields after `time` of a record of this stream, as pino writes a child's bindings over the
 * supervisor's base: hostname, component, stream, pid. Component output is not the supervisor's
 * tracing: it is recorded at info (30) whatever the tracelevel says.
 */
export function outputRecordFields(meta: Pick<OutputMeta, 'component' | 'stream' | 'pid'>): string {
  hostnameJson ??= JSON.stringify(hostname());
  const pid = meta.pid !== undefined ? `,"pid":${meta.pid}` : '';
  return `,"hostname":${hostnameJson},"component":${JSON.stringify(meta.component)},"stream":"${meta.stream}"${pid}`;
}

/** what JSON.stringify would escape in a string */
// biome-ignore lint/suspicious/noControlCharactersInRegex: JSON escapes exactly these
const NEEDS_ESCAPING = /["\\\u0000-\u001f\ud800-\udfff]/;

/** where each line of a region ends (a region holds at most MAX_LINE bytes, so as many lines) */
const lineEnds = new Int32Array(MAX_LINE + 1);
const RECORD_TAIL = Buffer.from('"}\n');

/** a record up to its message's opening quote (excluded) */
function recordHead(fields: string, time: number, partial: boolean): string {
  return `{"level":30,"time":${time}${fields}${partial ? ',"partial":true' : ''},"msg":`;
}

/** one newline-terminated record: the same bytes as pino's for the same fields, time and message */
export function outputRecord(fields: string, msg: string, partial: boolean, time = Date.now()): string {
  // JSON.stringify escapes exactly as pino does (quotes, backslashes, control characters); most
  // lines need none of it, and a test is cheaper than the copy
  const quoted = NEEDS_ESCAPING.test(msg) ? JSON.stringify(msg) : `"${msg}"`;
  return `${recordHead(fields, time, partial)}${quoted}}\n`;
}

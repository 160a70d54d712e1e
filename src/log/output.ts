// A component's stdout/stderr into the log (design.md §7). `json`: one record per line, with
// `component` and `stream`; `raw`: the bytes go to our own stdout/stderr unchanged, whole lines at a
// time so two components never interleave mid-line (by a thread of the addon: relay.ts, or here
// where no relay can be). The last partial line is flushed when the stream ends (a crash loses
// nothing); a line longer than MAX_LINE is cut into pieces, so memory stays bounded whatever a
// child prints; and when the destination is full we stop reading the child (it then blocks on its
// own write) instead of buffering.
import { hostname } from 'node:os';
import type { Readable } from 'node:stream';
import { loadNative } from '../process/native.js';
import { OutputPipe, RelayablePipe } from '../process/output-pipe.js';
import type { LogBuffers, OutputTap } from './buffer.js';
import { type LineConsumer, LineSplitter, MAX_LINE } from './line.js';
import { relayOutput } from './relay.js';
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
  if (source instanceof RelayablePipe) {
    // raw output to a descriptor of ours: a thread relays it (relay.ts); else we read it here
    const relayed = meta.mode === 'raw' ? relayOutput(source, sink.writer(meta.stream), tap) : undefined;
    if (relayed) return relayed;
    // a relay that failed once it had the pipe closed it: nothing more to read
    if (source.destroyed) return Promise.resolve();
    source = source.asPipe();
  }
  const lines = new LineSplitter(
    meta.mode === 'raw' ? new RawLines(sink, meta.stream) : new JsonLines(sink, meta),
  );
  // the in-memory buffer (buffer.ts) sees every chunk, and learns what of it the log dropped
  const logged = (write: () => void): number => {
    const before = sinkDroppedBytes(sink);
    write();
    return sinkDroppedBytes(sink) - before;
  };
  // The next chunk is read only once what the last one gave is handed to the OS. The bytes then
  // wait in the child's pipe rather than in a copy of ours (chunks are lent), as a C relay's would
  // (and json's records, made in one buffer for every read: see recordsBuffer)
  const destination: StdStream = meta.mode === 'raw' ? meta.stream : 'stdout';
  const mustWait = () => sink.holding(destination) || sink.needsDrain();
  const whenWritable = () => sink.handedOver(destination).then(() => sink.whenWritable());
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
    // `chunk` is lent for the call (OutputPipe reads every pipe into one buffer): the splitter,
    // the sink and the tap copy what they keep
    const onChunk = (chunk: Buffer) => {
      if (tap)
        tap.data(
          chunk,
          logged(() => lines.push(chunk)),
        );
      else lines.push(chunk);
      lastDataAt = Date.now();
      // one timer while a partial line is held, not one per chunk
      if (lines.holding && !idleTimer) idleTimer = setTimeout(onIdle, IDLE_FLUSH_MS).unref();
      if (!paused && mustWait()) {
        // the child blocks on its own write once the pipe between us fills: that is the backpressure
        paused = true;
        source.pause();
        void whenWritable().then(resume);
      }
    };
    if (source instanceof OutputPipe) source.onChunk(onChunk);
    else
      source.on('data', (data: Buffer | string) =>
        onChunk(typeof data === 'string' ? Buffer.from(data) : data),
      );
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

/** raw mode: bytes unchanged, whole lines at a time (a piece only for a line too long to hold) */
class RawLines implements LineConsumer {
  readonly linesAsOne = true;

  constructor(
    private readonly sink: LogSink,
    private readonly stream: StdStream,
  ) {}

  lines(bytes: Buffer, start: number, ends: Int32Array, n: number): void {
    this.sink.writeRaw(this.stream, bytes.subarray(start, ends[n - 1]! + 1));
  }

  piece(bytes: Buffer): void {
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
class JsonLines implements LineConsumer {
  /** `,"hostname":…,"component":…,"stream":…,"pid":…` of every record of this stream */
  private readonly fields: string;
  private headTime = -1;
  private headBytes = Buffer.alloc(0);

  constructor(
    private readonly sink: LogSink,
    meta: OutputMeta,
  ) {
    this.fields = outputRecordFields(meta);
  }

  lines(bytes: Buffer, start: number, ends: Int32Array, n: number, time: number): void {
    // Lines that arrived in one read get the same time, and their records go out as one write,
    // made in C in one call (native/lines.c), escaped as JSON.stringify escapes
    const native = loadNative();
    const head = this.head(time);
    if (!recordsBuffer && givenRecords && !givenRecords.to.holding('stdout')) {
      // everything that stdout kept is written: the buffer it was given is free again
      recordsBuffer = givenRecords.buffer;
      givenRecords = undefined;
    }
    // one of the size of the buffer stdout still holds (none at first: the first read sizes it)
    recordsBuffer ??= Buffer.allocUnsafe(givenRecords?.buffer.length ?? 0);
    let out = recordsBuffer;
    let length = native.jsonRecords(bytes, start, ends, n, head, RECORD_TAIL, out);
    if (length !== null && length < 0) {
      // kept for the next reads only up to RECORDS_BUFFER_KEPT: a read of empty lines makes
      // records a hundred times its size, which a quiet supervisor must not hold for good
      out = Buffer.allocUnsafe(Math.max(-length, Math.min(2 * out.length, RECORDS_BUFFER_KEPT)));
      if (out.length <= RECORDS_BUFFER_KEPT) recordsBuffer = out;
      length = native.jsonRecords(bytes, start, ends, n, head, RECORD_TAIL, out);
    }
    if (length === null) this.decoded(bytes, start, ends[n - 1]!, time);
    // the sink kept the records to write them later: the next read gets a new buffer
    else if (this.sink.writeRecordBytes(out.subarray(0, length)) && out === recordsBuffer) {
      givenRecords = { buffer: recordsBuffer, to: this.sink };
      recordsBuffer = undefined;
    }
  }

  piece(bytes: Buffer, partial: boolean, time: number): void {
    const text = bytes.toString('utf8');
    if (partial) this.sink.writeRecords(outputRecord(this.fields, text, true, time));
    else this.sink.writeRecords(this.record(text, time));
  }

  /** lines that are not all valid UTF-8: decoded as Node decodes them (U+FFFD for what is not) */
  private decoded(bytes: Buffer, start: number, end: number, time: number): void {
    // decoding once and slicing the string is much cheaper than a decode per line
    const text = bytes.toString('utf8', start, end);
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

  /** the record of one line (a CR before its newline is not part of it) */
  private record(text: string, time: number): string {
    return outputRecord(this.fields, text.endsWith('\r') ? text.slice(0, -1) : text, false, time);
  }
}

/**
 * Where the records of a read are made (native/lines.c), for every component's output: given to
 * the sink, which writes them at once (then the buffer serves the next read) or keeps them until
 * the destination takes them (then the next read gets a new one, of the same size). It grows to
 * what reads need (about twice a read of 100-byte lines), up to RECORDS_BUFFER_KEPT; a read that
 * needs more gets a buffer of its own.
 */
let recordsBuffer: Buffer | undefined;
/**
 * The last records buffer a sink's stdout kept: used again once it holds nothing (a new buffer for
 * every read that had to wait cost more in page faults and garbage collections than the copy).
 * The sink is named: a supervisor has one, but a process may make several.
 */
let givenRecords: { buffer: Buffer; to: LogSink } | undefined;
const RECORDS_BUFFER_KEPT = 1024 * 1024;

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

/** the end of a record after its message */
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

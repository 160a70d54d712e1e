// The last lines each component printed, kept in memory for `s7supervisor logs`, the logs API
// and the status page (design.md §7 rev. 2), whatever its <output> is (json or raw).
//
// One ring per component, bounded twice: at most <logBuffer lines> lines, and at most
// LOG_BUFFER_BYTES counting each line's text plus LOG_LINE_OVERHEAD bytes of bookkeeping. The
// text lives in one byte ring (a Buffer that grows by doubling up to the bound, so a quiet
// component costs little), the bookkeeping in one Float64Array (sequence, time, pid and stream,
// offset: 32 bytes a line). No object per line is kept, so the garbage collector has nothing to
// walk; objects are made only for what a reader asks for.
//
// output.ts hands every chunk a component writes to a tap (one per pipe of one run), which splits
// it into lines as the log does (a line longer than MAX_LINE is cut into pieces marked partial, a
// held partial line is let out after the same idle second) and appends the complete lines of the
// chunk with one copy. Sequence numbers are global and monotonic, so lines of several components
// merge in the order they arrived; they also let a follower that reconnects resume where it was.
//
// During a burst, chunks wait (LogBuffers.stage) and are cut into lines together a little later,
// or as soon as anyone reads: a chunk followed by more than <logBuffer lines> newer lines of the
// same pipe could only be evicted, so it is dropped unread. A component printing megabytes a
// second then costs the ring a copy of its last lines, not a pass over every line.
import { loadNative } from '../process/native.js';
import { LOG_BUFFER_BYTES, LOG_LINE_OVERHEAD } from '../registry/defaults.js';
import { type LineConsumer, LineSplitter } from './line.js';
import type { StdStream } from './sink.js';

/** one buffered line as readers see it */
export interface LogLine {
  /** global, monotonic over every component: the order lines arrived in */
  seq: number;
  /** epoch ms when the supervisor read it */
  time: number;
  component: string;
  stream: StdStream;
  /** pid of the run that printed it */
  pid: number;
  /** the line without its newline (a trailing \r dropped too); invalid UTF-8 shows as U+FFFD */
  msg: string;
  /** a piece of a line longer than 64 KiB, or one held back too long: more of it follows */
  partial?: true;
}

export type LinesListener = (lines: LogLine[]) => void;

/** fields per line in the bookkeeping array */
const STRIDE = 4;
const SEQ = 0;
const TIME = 1;
/** pid * 4 + flags */
const PID_FLAGS = 2;
/** absolute offset of the line's first byte in the byte ring */
const START = 3;
const FLAG_STDERR = 1;
/** the stored bytes have no newline at their end (a piece, or the last unfinished line) */
const FLAG_UNTERMINATED = 2;
/** a piece: more of the same line follows */
const FLAG_PARTIAL = 4;
/** PID_FLAGS holds pid * FLAG_RANGE + flags (exact in a double: pids are below 2^22) */
const FLAG_RANGE = 8;
const MIN_BYTES = 16 * 1024;
const MIN_LINES = 64;

/** One component's ring. Lines are contiguous in the byte ring: a line ends where the next begins. */
class ComponentLog {
  private meta = new Float64Array(0);
  private lineCapacity = 0;
  /** index (in lines) of the oldest line in `meta` */
  private first = 0;
  count = 0;
  private data = Buffer.alloc(0);
  /** absolute offsets: bytes [head, tail) are held */
  private head = 0;
  private tail = 0;
  /** set when the component is removed: late output of its last run is not kept */
  removed = false;

  constructor(
    readonly id: string,
    private maxLines: number,
    private readonly maxBytes: number,
  ) {}

  setMaxLines(lines: number): void {
    this.maxLines = lines;
    this.evict(this.count - lines);
    if (lines === 0) {
      this.meta = new Float64Array(0);
      this.lineCapacity = 0;
      this.data = Buffer.alloc(0);
      this.first = 0;
    }
  }

  /** bytes held (text plus bookkeeping), as counted against the bound */
  get cost(): number {
    return this.tail - this.head + this.count * LOG_LINE_OVERHEAD;
  }

  /** memory allocated for this ring */
  get allocated(): number {
    return this.data.length + this.meta.byteLength;
  }

  /**
   * Appends `n` lines of `bytes`: the first starts at `from`, line i ends at ends[i], the index
   * of its newline; when `lastOpen`, the last one has no newline and ends[n-1] is its end
   * (exclusive), and `partial` says more of it follows. Lines are copied with one copy.
   * Returns how many lines were kept (the newest of a burst larger than the ring).
   */
  append(
    bytes: Buffer,
    from: number,
    ends: ArrayLike<number>,
    n: number,
    lastOpen: boolean,
    partial: boolean,
    stream: StdStream,
    pid: number,
    time: number,
    /** the sequence number given last: the kept lines get the next ones, in order */
    lastSeq: number,
  ): number {
    if (this.maxLines === 0 || this.removed || n === 0) return 0;
    const startOf = (i: number) => (i === 0 ? from : ends[i - 1]! + 1);
    const end = lastOpen ? ends[n - 1]! : ends[n - 1]! + 1;
    // only the newest lines of a burst larger than the ring itself are worth copying
    let skip = Math.max(0, n - this.maxLines);
    while (skip < n && end - startOf(skip) + (n - skip) * LOG_LINE_OVERHEAD > this.maxBytes) skip++;
    let start: number;
    if (skip === n) {
      // one line larger than the whole bound (only with a tiny bound): its end is kept
      skip = n - 1;
      start = end - (this.maxBytes - LOG_LINE_OVERHEAD);
    } else {
      start = startOf(skip);
    }
    const size = end - start;
    const kept = n - skip;
    // what is kept is always the newest lines: older ones go before a newer one is skipped. The
    // line bound at once (a burst evicts hundreds of lines a chunk), the byte bound line by line
    if (skip > 0) this.evict(this.count);
    else this.evict(Math.max(0, this.count + kept - this.maxLines));
    while (this.count > 0 && this.cost + size + kept * LOG_LINE_OVERHEAD > this.maxBytes) this.evict(1);
    this.reserve(this.tail - this.head + size, this.count + kept);
    this.writeAt(this.tail, bytes, start, end);
    const pidFlags = pid * FLAG_RANGE + (stream === 'stderr' ? FLAG_STDERR : 0);
    const lastFlags = (lastOpen ? FLAG_UNTERMINATED : 0) | (partial ? FLAG_PARTIAL : 0);
    const shift = this.tail - start;
    // one tight loop over plain locals: it runs for every line a component prints
    const meta = this.meta;
    const capacity = this.lineCapacity;
    let slot = ((this.first + this.count) % capacity) * STRIDE;
    let seq = lastSeq + 1;
    let lineStart = this.tail;
    for (let i = skip; i < n; i++) {
      meta[slot + SEQ] = seq++;
      meta[slot + TIME] = time;
      meta[slot + PID_FLAGS] = i === n - 1 ? pidFlags + lastFlags : pidFlags;
      meta[slot + START] = lineStart;
      lineStart = ends[i]! + 1 + shift;
      slot += STRIDE;
      if (slot === capacity * STRIDE) slot = 0;
    }
    this.count += kept;
    this.tail += size;
    return kept;
  }

  /** the lines from index `from` (0 = oldest) to the newest */
  read(from: number): LogLine[] {
    const lines: LogLine[] = [];
    for (let i = Math.max(0, from); i < this.count; i++) lines.push(this.line(i));
    return lines;
  }

  /** index of the first line whose sequence number is above `seq` (count when none is) */
  indexAfter(seq: number): number {
    let low = 0;
    let high = this.count;
    while (low < high) {
      const mid = (low + high) >>> 1;
      if (this.field(mid, SEQ) <= seq) low = mid + 1;
      else high = mid;
    }
    return low;
  }

  line(index: number): LogLine {
    const start = this.field(index, START);
    const end = index + 1 < this.count ? this.field(index + 1, START) : this.tail;
    const packed = this.field(index, PID_FLAGS);
    const flags = packed % FLAG_RANGE;
    const terminated = (flags & FLAG_UNTERMINATED) === 0;
    let msg = this.text(start, terminated ? end - 1 : end);
    if (terminated && msg.endsWith('\r')) msg = msg.slice(0, -1);
    return {
      seq: this.field(index, SEQ),
      time: this.field(index, TIME),
      component: this.id,
      stream: flags & FLAG_STDERR ? 'stderr' : 'stdout',
      pid: Math.floor(packed / FLAG_RANGE),
      msg,
      ...(flags & FLAG_PARTIAL ? { partial: true as const } : {}),
    };
  }

  private field(index: number, field: number): number {
    return this.meta[((this.first + index) % this.lineCapacity) * STRIDE + field]!;
  }

  /** forgets the `lines` oldest lines */
  private evict(lines: number): void {
    if (lines <= 0) return;
    this.first = (this.first + lines) % this.lineCapacity;
    this.count -= lines;
    this.head = this.count === 0 ? this.tail : this.field(0, START);
  }

  /**
   * Grows the rings so that `bytes` and `lines` fit. Bookkeeping grows fourfold; the byte ring
   * doubles from 16 KiB, and once it has seen MIN_LINES lines grows straight to what
   * <logBuffer lines> lines of the size seen so far need (an eighth more for lines that vary)
   * when that is more: few steps, so little garbage, and no power-of-two slack. Both stay within
   * their bounds.
   */
  private reserve(bytes: number, lines: number): void {
    if (lines > this.lineCapacity) {
      let capacity = Math.max(MIN_LINES, this.lineCapacity);
      while (capacity < lines) capacity *= 4;
      capacity = Math.min(capacity, Math.max(lines, this.maxLines));
      const meta = new Float64Array(capacity * STRIDE);
      for (let i = 0; i < this.count; i++) {
        const at = ((this.first + i) % this.lineCapacity) * STRIDE;
        meta.set(this.meta.subarray(at, at + STRIDE), i * STRIDE);
      }
      this.meta = meta;
      this.lineCapacity = capacity;
      this.first = 0;
    }
    if (bytes > this.data.length) {
      // the size seen so far says something once a few dozen lines were seen: a component that
      // printed two lines must not get room for a thousand
      const expected = lines >= MIN_LINES ? Math.ceil((bytes / lines) * this.maxLines * 1.125) : 0;
      const doubled = Math.max(MIN_BYTES, this.data.length * 2);
      const capacity = Math.min(Math.max(bytes, expected, doubled), Math.max(bytes, this.maxBytes));
      // the held bytes keep their absolute offsets: laid out again modulo the new size
      const held = Buffer.from(this.copyOut(this.head, this.tail));
      this.data = Buffer.allocUnsafe(capacity);
      this.writeAt(this.head, held, 0, held.length);
    }
  }

  private writeAt(offset: number, bytes: Buffer, start: number, end: number): void {
    if (end <= start) return;
    const capacity = this.data.length;
    const at = offset % capacity;
    const first = Math.min(end - start, capacity - at);
    bytes.copy(this.data, at, start, start + first);
    if (first < end - start) bytes.copy(this.data, 0, start + first, end);
  }

  private copyOut(start: number, end: number): Buffer {
    if (end <= start) return Buffer.alloc(0);
    const capacity = this.data.length;
    const at = start % capacity;
    if (at + (end - start) <= capacity) return this.data.subarray(at, at + (end - start));
    return Buffer.concat([this.data.subarray(at), this.data.subarray(0, end - start - (capacity - at))]);
  }

  private text(start: number, end: number): string {
    if (end <= start) return '';
    const at = start % this.data.length;
    if (at + (end - start) <= this.data.length) return this.data.toString('utf8', at, at + (end - start));
    return this.copyOut(start, end).toString('utf8');
  }
}

export interface LogBuffersOptions {
  /** <logBuffer lines> */
  lines: number;
  /** the byte bound of each component (default LOG_BUFFER_BYTES) */
  bytes?: number;
  /** told once per component, the first time its output is dropped */
  onFirstDrop?: (component: string, bytes: number) => void;
}

/**
 * Chunks smaller than this are cut into lines at once when nothing waits: output that trickles
 * costs no timer, and only a burst waits.
 */
const STAGE_FROM = 16 * 1024;
/** how long a chunk waits at most to be cut into lines (unless someone reads first) */
export const STAGE_MS = 20;
/** the most that waits, every component together: beyond it, everything is cut into lines at once */
const STAGE_MAX_BYTES = 4 * 1024 * 1024;

/** the most of a pipe's copy of last lines (LineTap.copyOfLastLines) kept between bursts */
const LAST_LINES_KEPT = 256 * 1024;

/** A chunk waiting to be cut into lines (see LogBuffers.stage). */
interface WaitingChunk {
  tap: LineTap;
  /** undefined once dropped: newer chunks of the same pipe hold more lines than the ring keeps */
  chunk: Buffer | undefined;
  time: number;
  /** newlines in it */
  lines: number;
}

/** What output.ts tells about one pipe of one run (see attachOutput). */
export interface OutputTap {
  /** a chunk the component wrote, lent for the call; `dropped`: bytes of it the log could not take */
  data(chunk: Buffer, dropped: number): void;
  /** the held partial line waited long enough: let it out as a piece */
  idle(): void;
  /** the pipe ended; `dropped` as for data */
  end(dropped: number): void;
  /**
   * A relay (src/log/relay.ts) went past lines that could not stay in the buffer: what comes next
   * begins at a newline, after bytes never given to data()
   */
  skipped(): void;
  /** the lines a relay should give data(): the last keepLines of a burst, or -1 for every line */
  keepLines(): number;
}

/** Every component's ring, the followers, and the count of dropped output bytes. */
export class LogBuffers {
  private readonly logs = new Map<string, ComponentLog>();
  private readonly listeners = new Set<{ ids: ReadonlySet<string> | undefined; listener: LinesListener }>();
  private readonly drops = new Map<string, number>();
  private lines: number;
  private readonly bytes: number;
  private seq = 0;
  /** chunks of every pipe waiting to be cut into lines, in the order they arrived */
  private queue: WaitingChunk[] = [];
  private queuedBytes = 0;
  private settleTimer: NodeJS.Timeout | undefined;

  constructor(private readonly options: LogBuffersOptions) {
    this.lines = Math.max(0, Math.floor(options.lines));
    this.bytes = Math.max(LOG_LINE_OVERHEAD + 1, options.bytes ?? LOG_BUFFER_BYTES);
  }

  /** a new <logBuffer lines> (reload): applies to every buffer at once */
  configure(lines: number): void {
    this.settle();
    this.lines = Math.max(0, Math.floor(lines));
    for (const log of this.logs.values()) log.setMaxLines(this.lines);
  }

  get maxLines(): number {
    return this.lines;
  }

  /** the tap for one pipe of one run of `component` */
  tap(meta: { component: string; stream: StdStream; pid?: number }): OutputTap {
    let log = this.logs.get(meta.component);
    if (!log) {
      log = new ComponentLog(meta.component, this.lines, this.bytes);
      this.logs.set(meta.component, log);
    }
    return new LineTap(this, log, meta.stream, meta.pid ?? 0);
  }

  /** a component left the registry (reload): its lines and counters are freed */
  remove(component: string): void {
    this.settle();
    const log = this.logs.get(component);
    if (log) log.removed = true;
    this.logs.delete(component);
    this.drops.delete(component);
  }

  /** the ids that have a buffer */
  components(): string[] {
    return [...this.logs.keys()];
  }

  /**
   * The last `n` lines of each of `ids` (every component when undefined), merged in the order
   * they arrived; with `after`, only lines whose seq is above it.
   */
  tail(ids: readonly string[] | undefined, n: number, after?: number): LogLine[] {
    this.settle();
    const logs = ids ? ids.flatMap((id) => this.logs.get(id) ?? []) : [...this.logs.values()];
    const parts: LogLine[][] = [];
    for (const log of logs) {
      let from = Math.max(0, log.count - Math.max(0, n));
      if (after !== undefined) from = Math.max(from, log.indexAfter(after));
      parts.push(log.read(from));
    }
    if (parts.length === 1) return parts[0]!;
    return parts.flat().sort((a, b) => a.seq - b.seq);
  }

  /** the sequence number of the newest line anywhere (0 before the first) */
  get lastSeq(): number {
    this.settle();
    return this.seq;
  }

  /**
   * Calls `listener` with every batch of new lines of `ids` (every component, present and
   * future, when undefined), synchronously as they arrive. Returns the unsubscribe function.
   */
  follow(ids: readonly string[] | undefined, listener: LinesListener): () => void {
    // from now on every chunk is cut into lines as it comes, so the follower sees each line
    this.settle();
    const entry = { ids: ids ? new Set(ids) : undefined, listener };
    this.listeners.add(entry);
    // raw output's relays (relay.ts) likewise give every line, at once, while anyone follows
    if (this.listeners.size === 1) loadNative().relayFollow(true);
    return () => {
      if (this.listeners.delete(entry) && this.listeners.size === 0) loadNative().relayFollow(false);
    };
  }

  /** how many followers there are (for tests and the debug endpoint) */
  get followers(): number {
    return this.listeners.size;
  }

  /** output bytes dropped so far, per component (s7supervisor_log_dropped_bytes_total) */
  droppedBytes(): ReadonlyMap<string, number> {
    return this.drops;
  }

  /** bytes allocated for all rings */
  allocatedBytes(): number {
    this.settle();
    let total = 0;
    for (const log of this.logs.values()) total += log.allocated;
    return total;
  }

  /** bytes of output waiting to be cut into lines (for tests and the debug endpoint) */
  get waitingBytes(): number {
    return this.queuedBytes;
  }

  /**
   * @internal LineTap: a chunk of `tap`'s pipe, cut into lines now or a little later. It waits
   * only during a burst, and only while nobody follows (a follower sees every line as it comes).
   * While it waits, a chunk of the same pipe followed by more than <logBuffer lines> newer lines
   * is dropped: each of those lines gives the ring one entry at least (a long line gives several
   * pieces), so nothing of the dropped chunk, nor of the line the next chunk begins in the middle
   * of, could stay in the ring; so is the beginning of a chunk that alone holds more (its last
   * lines go in at once). The ring ends up exactly as if every line had gone through; only the
   * sequence numbers of lines nobody could ever see are not given.
   */
  stage(tap: LineTap, chunk: Buffer): void {
    const time = Date.now();
    if (this.listeners.size > 0 || (this.queue.length === 0 && chunk.length < STAGE_FROM)) {
      this.settle();
      tap.take(chunk, time);
      return;
    }
    const newline = loadNative().newlineFromEnd(chunk, 0, chunk.length, this.lines + 1);
    let waiting: WaitingChunk;
    if (newline >= 0) {
      // more than <logBuffer lines> lines: what waits of this pipe, and the beginning of this
      // chunk, cannot reach the ring. Its last lines wait in the pipe's own copy, used again by
      // the next such chunk (which drops them)
      this.queuedBytes -= tap.dropWaiting();
      const last = chunk.subarray(newline);
      if (last.length > STAGE_MAX_BYTES / 4) {
        this.settle();
        tap.take(last, time);
        return;
      }
      waiting = { tap, chunk: tap.copyOfLastLines(last), time, lines: this.lines + 1 };
    } else {
      // copied: the chunk is only lent (see OutputTap.data)
      waiting = { tap, chunk: Buffer.from(chunk), time, lines: -newline - 1 };
    }
    this.queue.push(waiting);
    this.queuedBytes += waiting.chunk!.length - tap.wait(waiting, this.lines);
    if (this.queuedBytes > STAGE_MAX_BYTES) this.settle();
    else this.settleTimer ??= setTimeout(() => this.settle(), STAGE_MS).unref();
  }

  /** cuts every waiting chunk into lines, in the order they arrived */
  settle(): void {
    if (this.queue.length === 0) return;
    clearTimeout(this.settleTimer);
    this.settleTimer = undefined;
    const queue = this.queue;
    this.queue = [];
    this.queuedBytes = 0;
    for (const waiting of queue) waiting.tap.settled();
    for (const { tap, chunk, time } of queue) if (chunk) tap.take(chunk, time);
  }

  /** @internal LineTap: see ComponentLog.append */
  append(
    log: ComponentLog,
    bytes: Buffer,
    from: number,
    ends: ArrayLike<number>,
    n: number,
    lastOpen: boolean,
    partial: boolean,
    stream: StdStream,
    pid: number,
    time: number,
  ): void {
    const kept = log.append(bytes, from, ends, n, lastOpen, partial, stream, pid, time, this.seq);
    this.seq += kept;
    if (kept === 0 || this.listeners.size === 0) return;
    let lines: LogLine[] | undefined;
    for (const { ids, listener } of [...this.listeners]) {
      if (ids && !ids.has(log.id)) continue;
      lines ??= log.read(log.count - kept);
      listener(lines);
    }
  }

  /** @internal LineTap: bytes of `tap`'s pipe went by unseen, so what waits of it goes too */
  skip(tap: LineTap): void {
    this.queuedBytes -= tap.dropWaiting();
  }

  /** @internal LineTap (a removed component's last run is not counted: its series is gone) */
  dropped(log: ComponentLog, bytes: number): void {
    if (bytes <= 0 || log.removed) return;
    const before = this.drops.get(log.id);
    this.drops.set(log.id, (before ?? 0) + bytes);
    if (before === undefined) this.options.onFirstDrop?.(log.id, bytes);
  }
}

/** One pipe's lines into the buffer, cut where the log cuts them (the same LineSplitter). */
class LineTap implements OutputTap, LineConsumer {
  private readonly splitter = new LineSplitter(this);
  /** this pipe's chunks in LogBuffers' queue; those before `first` were dropped */
  private waiting: WaitingChunk[] = [];
  private first = 0;
  /** newlines in the waiting chunks from `first` on */
  private waitingLines = 0;
  /** chunks were dropped: the next line that begins after a newline is the first to keep */
  private resync = false;
  /** where the last lines of a chunk that holds more than the ring wait (see copyOfLastLines) */
  private lastLines: Buffer | undefined;

  constructor(
    private readonly buffers: LogBuffers,
    private readonly log: ComponentLog,
    private readonly stream: StdStream,
    private readonly pid: number,
  ) {}

  data(chunk: Buffer, dropped: number): void {
    this.buffers.dropped(this.log, dropped);
    if (this.buffers.maxLines === 0) return;
    this.buffers.stage(this, chunk);
  }

  idle(): void {
    this.buffers.settle();
    this.splitter.flushHeld();
  }

  end(dropped: number): void {
    this.buffers.dropped(this.log, dropped);
    this.buffers.settle();
    this.splitter.end();
  }

  skipped(): void {
    this.buffers.skip(this);
  }

  keepLines(): number {
    return this.buffers.followers > 0 ? -1 : this.buffers.maxLines;
  }

  /** @internal LogBuffers.stage: `chunk` waits; returns the bytes of older chunks dropped for it */
  wait(chunk: WaitingChunk, maxLines: number): number {
    this.waiting.push(chunk);
    this.waitingLines += chunk.lines;
    let freed = 0;
    for (;;) {
      const oldest = this.waiting[this.first]!;
      if (oldest === chunk || this.waitingLines - oldest.lines <= maxLines) return freed;
      freed += this.dropOldest();
    }
  }

  /**
   * @internal LogBuffers.stage: a copy of `bytes` in memory of this pipe's own, used again each
   * time: only after dropWaiting(), so the copy made last time no longer waits
   */
  copyOfLastLines(bytes: Buffer): Buffer {
    if (!this.lastLines || this.lastLines.length < bytes.length)
      this.lastLines = Buffer.allocUnsafe(Math.max(bytes.length, 2 * (this.lastLines?.length ?? 0)));
    bytes.copy(this.lastLines);
    return this.lastLines.subarray(0, bytes.length);
  }

  /** @internal LogBuffers.stage: every waiting chunk of this pipe is dropped; returns their bytes */
  dropWaiting(): number {
    let freed = 0;
    while (this.first < this.waiting.length) freed += this.dropOldest();
    // what comes next begins in the middle of a line, or at a newline
    this.resync = true;
    return freed;
  }

  private dropOldest(): number {
    const oldest = this.waiting[this.first++]!;
    const bytes = oldest.chunk!.length;
    oldest.chunk = undefined;
    this.waitingLines -= oldest.lines;
    this.resync = true;
    return bytes;
  }

  /** @internal LogBuffers.settle: nothing of this pipe waits any more */
  settled(): void {
    this.waiting = [];
    this.first = 0;
    this.waitingLines = 0;
    // a burst of long lines may have grown it: not kept past the burst (a waiting chunk still
    // holds its own view of it until it is taken)
    if (this.lastLines && this.lastLines.length > LAST_LINES_KEPT) this.lastLines = undefined;
  }

  /** @internal LogBuffers: a chunk cut into lines now */
  take(chunk: Buffer, time: number): void {
    let bytes = chunk;
    if (this.resync) {
      // what is held, and the rest of the line this chunk begins in, belong to dropped lines
      this.splitter.discard();
      const newline = bytes.indexOf(0x0a);
      if (newline < 0) return;
      this.resync = false;
      bytes = bytes.subarray(newline + 1);
    }
    this.splitter.push(bytes, time);
  }

  lines(bytes: Buffer, start: number, ends: Int32Array, n: number, time: number): void {
    // a follower sees what each append keeps, at most <logBuffer lines>: a chunk holding more
    // (a relay's take, a 256 KiB read) goes in as several, so that it sees every line
    const most = this.buffers.followers > 0 ? Math.max(1, this.buffers.maxLines) : n;
    for (let first = 0; first < n; first += most) {
      const count = Math.min(most, n - first);
      const from = first === 0 ? start : ends[first - 1]! + 1;
      const pieceEnds = first === 0 && count === n ? ends : ends.subarray(first, first + count);
      this.buffers.append(this.log, bytes, from, pieceEnds, count, false, false, this.stream, this.pid, time);
    }
  }

  piece(bytes: Buffer, partial: boolean, time: number): void {
    pieceEnd[0] = bytes.length;
    this.buffers.append(this.log, bytes, 0, pieceEnd, 1, true, partial, this.stream, this.pid, time);
  }
}

/** the end (exclusive) of a piece, as ComponentLog.append takes it */
const pieceEnd = new Int32Array(1);

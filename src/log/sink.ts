// Where everything the supervisor prints ends up: its own records and its components' output share
// one ordered writer per destination (stdout, stderr, the daily file), so nothing interleaves
// mid-line, and one place answers "is the destination full?" for backpressure.
import type { Writable } from 'node:stream';
import { BatchWriter } from './batch-writer.js';

export type StdStream = 'stdout' | 'stderr';

export interface LogSinkOptions {
  /** default process.stdout */
  stdout?: Writable;
  /** default process.stderr */
  stderr?: Writable;
  /** receives every record (JSON, never pretty), not raw component output */
  file?: Writable;
  /** turns one JSON record into what stdout shows (pino-pretty's prettifier) */
  prettify?: (record: string) => string;
}

/** The destination pino writes its records to (a pino DestinationStream). */
export interface RecordStream {
  write(record: string): boolean;
  flush(callback?: (error?: Error) => void): void;
}

export class LogSink {
  readonly stdout: BatchWriter;
  readonly stderr: BatchWriter;
  readonly file: BatchWriter | undefined;
  /** give this to pino as its destination */
  readonly records: RecordStream;
  private readonly prettify: ((record: string) => string) | undefined;

  constructor(options: LogSinkOptions = {}) {
    const stdout = options.stdout ?? process.stdout;
    const stderr = options.stderr ?? process.stderr;
    this.stdout = new BatchWriter(stdout, stdout === process.stdout ? { fd: 1 } : {});
    this.stderr = new BatchWriter(stderr, stderr === process.stderr ? { fd: 2 } : {});
    this.file = options.file ? new BatchWriter(options.file) : undefined;
    this.prettify = options.prettify;
    this.records = {
      write: (record) => {
        this.writeRecord(record);
        return !this.needsDrain();
      },
      flush: (callback) => {
        this.flush().then(() => callback?.(), callback);
      },
    };
  }

  /** one serialized record (newline-terminated JSON) */
  writeRecord(record: string): void {
    this.stdout.write(this.prettify ? this.prettify(record) : record);
    this.file?.write(record);
  }

  /**
   * several newline-terminated records at once (a component's lines that arrived together): one
   * write, unless stdout is prettified, which takes one record at a time
   */
  writeRecords(records: string): void {
    if (this.prettify) {
      let from = 0;
      while (from < records.length) {
        const end = records.indexOf('\n', from) + 1 || records.length;
        this.writeRecord(records.slice(from, end));
        from = end;
      }
      return;
    }
    this.stdout.write(records);
    this.file?.write(records);
  }

  /**
   * the same, already encoded (UTF-8), and given: stdout may keep them as they are where they must
   * wait (BatchWriter.writeGiven), the file gets a copy. true when they were kept: the caller must
   * not write into that memory again while stdout holds anything (see holding)
   */
  writeRecordBytes(records: Buffer): boolean {
    if (this.prettify) {
      this.writeRecords(records.toString('utf8'));
      return false;
    }
    this.file?.write(Buffer.from(records));
    return this.stdout.writeGiven(records);
  }

  /**
   * component output in raw mode: bytes to our own stdout or stderr, unchanged. They are only
   * lent (a read buffer used again): copied if they must wait.
   */
  writeRaw(stream: StdStream, bytes: Buffer): void {
    this.writer(stream).writeLent(bytes);
  }

  /** the writer of our `stream` (stdout or stderr) */
  writer(stream: StdStream): BatchWriter {
    return stream === 'stdout' ? this.stdout : this.stderr;
  }

  /** true while bytes written to our `stream` (stdout or stderr) wait to be handed to the OS */
  holding(stream: StdStream): boolean {
    return !this.writer(stream).idle;
  }

  /** resolves once everything written to `stream` so far is handed to the OS (or dropped) */
  handedOver(stream: StdStream): Promise<void> {
    return this.writer(stream).flush();
  }

  /** true while a destination is full: producers should wait for whenWritable() */
  needsDrain(): boolean {
    return this.stdout.needsDrain() || this.stderr.needsDrain() || (this.file?.needsDrain() ?? false);
  }

  async whenWritable(): Promise<void> {
    while (this.needsDrain()) {
      await Promise.all([this.stdout.whenWritable(), this.stderr.whenWritable(), this.file?.whenWritable()]);
    }
  }

  /** resolves once everything written so far reached the operating system */
  async flush(): Promise<void> {
    await Promise.all([this.stdout.flush(), this.stderr.flush(), this.file?.flush()]);
  }

  /** flushes everything and closes the file; stdout and stderr stay open */
  async close(): Promise<void> {
    await Promise.all([this.stdout.flush(), this.stderr.flush(), this.file?.end()]);
  }

  /** at process exit, when callbacks no longer run: the best that can still be done synchronously */
  flushSync(): void {
    this.stdout.flushSync();
    this.stderr.flushSync();
  }

  /** bytes lost because a destination failed (EPIPE) or stayed full past every bound */
  droppedBytes(): number {
    return this.stdout.droppedBytes + this.stderr.droppedBytes + (this.file?.droppedBytes ?? 0);
  }
}

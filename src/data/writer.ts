// DatasetWriter: appends normalized events and raw messages to a dataset folder as Arrow IPC stream
// segments, rotating them by rows or by time, and keeps manifest.json current.
//
// Stream format (not file format) so that a writer killed mid-write leaves every batch it finished
// readable. Each batch is written with one synchronous write() call.
import fs from 'node:fs';
import path from 'node:path';
import {
  Data,
  Dictionary,
  Int8,
  Int16,
  Int32,
  makeData,
  RecordBatch,
  RecordBatchStreamWriter,
  Schema,
  Struct,
  Utf8,
  vectorFromArray,
  Vector,
} from 'apache-arrow';
import { eventSchema, FORMAT_VERSION, rawSchema } from './schema.js';
import { emptySegmentInfo, MANIFEST_FORMAT, readManifest, writeManifest, type Manifest, type SegmentInfo } from './manifest.js';
import { EVENT_KIND_NAMES, EventKind, EXCHANGES, Flag, GapReason, MARKET_TYPES, streamKey, type RawKind, type StreamInfo } from './types.js';
import { describeSegment, forEachBatch, scanSegmentFiles } from './segments.js';

export interface DatasetWriterOptions {
  /** Rows per Arrow record batch of the events table. */
  batchRows?: number;
  /** Start a new segment after this many event rows. */
  segmentRows?: number;
  /** Start a new segment when local time passes a multiple of this (ns), e.g. 1h. 0 = never. */
  rotateNs?: bigint;
  /** Append to an existing dataset instead of refusing a non-empty folder. */
  append?: boolean;
  /** Provenance stored in the manifest. */
  source?: Record<string, unknown>;
  /**
   * With `append`: the data before this writer ended in an outage (a recorder restarted after a crash or a
   * stop), so every stream of the dataset gets a Disconnect row at the last local time on disk: a book from
   * before the seam is not valid through the outage.
   */
  markSeam?: boolean;
  /** Bytes of finished batches kept in memory while the disk refuses them (disk full). Default 256 MiB;
   *  past it, new rows are dropped and, once writing resumes, every stream gets a Gap row (GapReason.NotWritten). */
  maxPendingBytes?: number;
  /** The file system calls the writer makes (tests inject failures; the default is node:fs). */
  files?: WriterFiles;
}

/** The file system calls of the writer: node:fs in production; a test wraps it to make writes fail for real. */
export interface WriterFiles {
  openSync(file: string, flags: string): number;
  writeSync(fd: number, buf: Uint8Array, offset: number, length: number): number;
  closeSync(fd: number): void;
  /** Replace a whole file (the manifest, via a temporary file and rename). */
  writeFileSync(file: string, text: string): void;
  renameSync(from: string, to: string): void;
}

export const NODE_FILES: WriterFiles = {
  openSync: (f, flags) => fs.openSync(f, flags),
  writeSync: (fd, buf, off, len) => fs.writeSync(fd, buf, off, len),
  closeSync: (fd) => fs.closeSync(fd),
  writeFileSync: (f, text) => fs.writeFileSync(f, text),
  renameSync: (a, b) => fs.renameSync(a, b),
};

/** The disk refused bytes (ENOSPC and the like): what the writer reports while it waits for space. */
export interface WritePause {
  /** The error's code (ENOSPC, EDQUOT, EIO...) or message. */
  error: string;
  /** Local time of the last row accepted when the disk first refused bytes. */
  sinceNs: bigint;
  /** Bytes of finished batches waiting in memory. */
  pendingBytes: number;
  /** Rows dropped because the wait went past maxPendingBytes (events, raw). */
  droppedEvents: number;
  droppedRaw: number;
}

/** An Arrow IPC end-of-stream marker (continuation + zero length). */
const EOS = new Uint8Array([0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0]);

const MAX_I64 = 0x7fffffffffffffffn;
const MIN_I64 = -0x8000000000000000n;

/**
 * Writes to a file descriptor synchronously instead of arrow's async byte queue. Bytes leave the queue only
 * once the file has them: a write that fails part way (disk full) keeps the unwritten rest, and the next
 * sync() continues from exactly there, so the file never holds half a batch followed by another batch.
 */
class SyncStreamWriter extends RecordBatchStreamWriter {
  private fd: number;
  bytes = 0;
  constructor(
    fd: number,
    private readonly files: WriterFiles,
  ) {
    super({ autoDestroy: false });
    this.fd = fd;
  }
  protected override _write(chunk: ArrayBufferView | ArrayBuffer | string): this {
    if (!this._started) return this;
    const buf = typeof chunk === 'string' ? Buffer.from(chunk) : ArrayBuffer.isView(chunk) ? chunk : new Uint8Array(chunk);
    if (buf.byteLength > 0) {
      // Not copied: every batch's buffers are built fresh in flushEvents/flushRaw (arrow's padding is a shared
      // zero buffer), so bytes waiting for a full disk stay as they were.
      this.pending.push(new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength));
      this.pendingBytes += buf.byteLength;
      this._position += buf.byteLength;
    }
    return this;
  }
  private pending: Uint8Array[] = [];
  /** Bytes arrow produced that the file does not have yet. */
  pendingBytes = 0;
  /** Put everything arrow has produced so far into the file in one write; throws (keeping the rest) if it fails. */
  sync(): void {
    if (this.pending.length === 0) return;
    const all = this.pending.length === 1 ? this.pending[0]! : Buffer.concat(this.pending);
    this.pending = [all];
    let off = 0;
    try {
      while (off < all.byteLength) off += this.files.writeSync(this.fd, all, off, all.byteLength - off);
    } finally {
      this.bytes += off;
      this.pendingBytes = all.byteLength - off;
      this.pending = off < all.byteLength ? [all.subarray(off)] : [];
    }
  }
}

function structBatch(schema: Schema, children: Data[], length: number): RecordBatch {
  const data = makeData({ type: new Struct(schema.fields), length, nullCount: 0, children });
  return new RecordBatch(schema, data);
}

class EventColumns {
  length = 0;
  localTs: BigInt64Array;
  exchTs: BigInt64Array;
  stream: Uint16Array;
  kind: Uint8Array;
  side: Int8Array;
  price: Float64Array;
  size: Float64Array;
  id: BigInt64Array;
  prevId: BigInt64Array;
  flags: Uint16Array;
  publishTs: BigInt64Array;
  constructor(readonly capacity: number) {
    this.localTs = new BigInt64Array(capacity);
    this.exchTs = new BigInt64Array(capacity);
    this.stream = new Uint16Array(capacity);
    this.kind = new Uint8Array(capacity);
    this.side = new Int8Array(capacity);
    this.price = new Float64Array(capacity);
    this.size = new Float64Array(capacity);
    this.id = new BigInt64Array(capacity);
    this.prevId = new BigInt64Array(capacity);
    this.flags = new Uint16Array(capacity);
    this.publishTs = new BigInt64Array(capacity);
  }
}

class RawColumns {
  localTs: bigint[] = [];
  exchange: number[] = [];
  source: number[] = [];
  line: bigint[] = [];
  kind: number[] = [];
  data: string[] = [];
  bytes = 0;
  get length() {
    return this.data.length;
  }
}

export class DatasetWriter {
  readonly dir: string;
  private readonly manifest: Manifest;
  private readonly batchRows: number;
  private readonly segmentRows: number;
  private readonly rotateNs: bigint;
  private readonly streamIndex = new Map<string, number>();
  private symbols: string[] = [];
  private symbolIndexOfStream: number[] = [];
  private symbolDict: Vector | null = null;
  /** The exchange column's dictionary: the format's known names first (their indexes never change), then
   *  any other exchange id in order of first use, so a new exchange needs no edit here. */
  private readonly exchangeNames: string[] = [...EXCHANGES];
  private exchangeDict: Vector | null = null;
  private readonly marketDict = vectorFromArray([...MARKET_TYPES], new Utf8());
  private rawSources: string[] = [];
  private readonly rawSourceIndex = new Map<string, number>();
  private rawSourceDict: Vector | null = null;
  private readonly eventsSchema = eventSchema();
  private readonly rawTableSchema = rawSchema();

  private cols: EventColumns;
  private raw = new RawColumns();
  private seg: SegmentInfo | null = null;
  private segEvents: SyncStreamWriter | null = null;
  private segRaw: SyncStreamWriter | null = null;
  private segFds: number[] = [];
  private segPeriod = -1n;
  private stats = { lmin: MAX_I64, lmax: MIN_I64, emin: MAX_I64, emax: MIN_I64, rmin: MAX_I64, rmax: MIN_I64 };
  private kindCounts = new Float64Array(16);
  private closed = false;
  private readonly files: WriterFiles;
  private readonly maxPendingBytes: number;
  /** Set while the disk refuses writes; null when everything produced is on disk. */
  private pauseState: WritePause | null = null;
  /** Rows are being dropped (the pause went past maxPendingBytes) since this local time. */
  private dropSince: bigint | null = null;
  /** Rows dropped over the writer's life because the disk stayed full past maxPendingBytes. */
  readonly dropped = { events: 0, raw: 0 };
  /** Local time of the last row accepted (for the Gap rows that mark a loss). */
  private lastTs = MIN_I64;

  constructor(dir: string, opts: DatasetWriterOptions = {}) {
    this.dir = dir;
    this.batchRows = opts.batchRows ?? 65536;
    this.segmentRows = opts.segmentRows ?? 4_000_000;
    this.rotateNs = opts.rotateNs ?? 0n;
    this.files = opts.files ?? NODE_FILES;
    this.maxPendingBytes = opts.maxPendingBytes ?? 256 << 20;
    this.cols = new EventColumns(this.batchRows);
    fs.mkdirSync(dir, { recursive: true });
    const hasManifest = fs.existsSync(path.join(dir, 'manifest.json'));
    let seamNs: bigint | null = null;
    if (hasManifest && opts.append) {
      this.manifest = readManifest(dir);
      // Segments a crashed writer left behind are read back and listed; none are overwritten.
      const known = new Set(this.manifest.segments.map((s) => s.events));
      this.manifest.segments.push(...scanSegmentFiles(dir, known));
      // A segment its writer never closed ends where the writer died: cut it back to its last complete
      // batch (what a kill -9 left half-written) and recount it from the files.
      this.manifest.segments = this.manifest.segments.map((s) => (s.closed ? s : repairSegment(dir, s)));
      this.manifest.streams.forEach((s) => this.registerStream(s));
      if (opts.source) this.manifest.source = { ...this.manifest.source, ...opts.source };
      for (const s of this.manifest.segments) {
        if (s.localTsMax !== null && (seamNs === null || BigInt(s.localTsMax) > seamNs)) seamNs = BigInt(s.localTsMax);
      }
    } else {
      const existing = fs.readdirSync(dir).filter((f) => f.endsWith('.arrow') || f === 'manifest.json');
      if (existing.length > 0) {
        throw new Error(`${dir} already holds a dataset (${existing[0]}); choose an empty folder or append to it`);
      }
      this.manifest = { format: MANIFEST_FORMAT, version: FORMAT_VERSION, streams: [], segments: [], source: opts.source ?? {} };
    }
    writeManifest(dir, this.manifest, this.files);
    if (opts.markSeam && seamNs !== null && this.manifest.streams.length > 0) {
      // The outage began after the last row on disk: from there every book is unknown until its next snapshot.
      const flags = Flag.MessageEnd | Flag.NoExchangeTime;
      for (let st = 0; st < this.manifest.streams.length; st++) {
        this.event(st, seamNs, seamNs, EventKind.Disconnect, 0, NaN, 0, -1n, -1n, flags);
      }
    }
  }

  /** What the writer waits for while the disk refuses writes (null: all is on disk or in the current batch). */
  get pause(): WritePause | null {
    if (this.pauseState) this.pauseState.pendingBytes = this.pendingBytes();
    return this.pauseState;
  }

  private pendingBytes(): number {
    return (this.segEvents?.pendingBytes ?? 0) + (this.segRaw?.pendingBytes ?? 0);
  }

  get streams(): readonly StreamInfo[] {
    return this.manifest.streams;
  }

  /** The stream's index (the `stream` column), registering it on first use. */
  stream(info: StreamInfo): number {
    const i = this.streamIndex.get(streamKey(info));
    if (i !== undefined) return i;
    const idx = this.registerStream(info);
    this.manifest.streams.push({ exchange: info.exchange, market: info.market, symbol: info.symbol });
    // Listed at once, so a crash never leaves rows whose stream the manifest does not name. On a full disk
    // the next flush that gets through lists it (the rows wait in memory until then).
    this.tryWriteManifest();
    return idx;
  }

  private exchangeIndex(exchange: string): number {
    let i = this.exchangeNames.indexOf(exchange);
    if (i < 0) {
      if (this.exchangeNames.length >= 127) throw new Error('a dataset holds at most 127 exchange names');
      i = this.exchangeNames.push(exchange) - 1;
      this.exchangeDict = null;
    }
    return i;
  }

  private registerStream(info: StreamInfo): number {
    const idx = this.streamIndex.size;
    if (idx >= 65535) throw new Error('a dataset holds at most 65535 streams');
    this.streamIndex.set(streamKey(info), idx);
    let s = this.symbols.indexOf(info.symbol);
    if (s < 0) {
      s = this.symbols.length;
      this.symbols.push(info.symbol);
      this.symbolDict = null;
    }
    this.symbolIndexOfStream[idx] = s;
    return idx;
  }

  /**
   * Append one normalized event. Times are ns since epoch; ids are -1n where the exchange has none.
   * `publishTs` is the exchange's publish time where it sends one besides the match time `exchTs`
   * (omitted: the same as `exchTs`).
   */
  event(
    stream: number,
    localTs: bigint,
    exchTs: bigint,
    kind: number,
    side: number,
    price: number,
    size: number,
    id: bigint,
    prevId: bigint,
    flags: number,
    publishTs: bigint = exchTs,
  ): void {
    if (this.dropSince !== null) {
      this.pauseState!.droppedEvents++;
      this.dropped.events++;
      return;
    }
    if (localTs > this.lastTs) this.lastTs = localTs;
    if (this.seg === null || this.needsRotation(localTs)) this.rotate(localTs);
    const c = this.cols;
    const i = c.length++;
    c.localTs[i] = localTs;
    c.exchTs[i] = exchTs;
    c.stream[i] = stream;
    c.kind[i] = kind;
    c.side[i] = side;
    c.price[i] = price;
    c.size[i] = size;
    c.id[i] = id;
    c.prevId[i] = prevId;
    c.flags[i] = flags;
    c.publishTs[i] = publishTs;
    const st = this.stats;
    if (localTs < st.lmin) st.lmin = localTs;
    if (localTs > st.lmax) st.lmax = localTs;
    if (exchTs < st.emin) st.emin = exchTs;
    if (exchTs > st.emax) st.emax = exchTs;
    this.kindCounts[kind]!++;
    this.seg!.rows++;
    // Both tables go to disk together, so a crash leaves them agreeing up to the last flush.
    if (c.length === c.capacity) this.flushData();
  }

  /** Append one raw message exactly as it was received (or sent). */
  rawMessage(localTs: bigint, exchange: string, source: string, line: number, kind: RawKind, data: string): void {
    if (this.dropSince !== null) {
      this.pauseState!.droppedRaw++;
      this.dropped.raw++;
      return;
    }
    if (localTs > this.lastTs) this.lastTs = localTs;
    if (this.seg === null || this.needsRotation(localTs)) this.rotate(localTs);
    const r = this.raw;
    let src = this.rawSourceIndex.get(source);
    if (src === undefined) {
      src = this.rawSources.length;
      this.rawSources.push(source);
      this.rawSourceIndex.set(source, src);
      this.rawSourceDict = null;
    }
    r.localTs.push(localTs);
    r.exchange.push(this.exchangeIndex(exchange));
    r.source.push(src);
    r.line.push(BigInt(line));
    r.kind.push(kind);
    r.data.push(data);
    r.bytes += data.length;
    if (localTs < this.stats.rmin) this.stats.rmin = localTs;
    if (localTs > this.stats.rmax) this.stats.rmax = localTs;
    this.seg!.rawRows++;
    if (r.length >= 16384 || r.bytes >= 8 << 20) this.flushData();
  }

  private needsRotation(localTs: bigint): boolean {
    // No new files while the disk refuses bytes: rows wait in the current segment.
    if (this.pauseState !== null) return false;
    if (this.seg!.rows >= this.segmentRows) return true;
    if (this.rotateNs > 0n) {
      const period = localTs / this.rotateNs;
      if (this.segPeriod >= 0n && period > this.segPeriod) return true;
    }
    return false;
  }

  /**
   * Write everything buffered so far to disk and refresh the manifest (the recorder calls this every second).
   * A disk that refuses the bytes (full) does not throw: the writer pauses (see `pause`), keeps finished
   * batches in memory up to maxPendingBytes, and the next flush that gets through resumes. Returns true when
   * this flush resumed after rows had to be dropped (their Gap rows are written).
   */
  flush(): boolean {
    if (this.seg === null) return false;
    if (!this.flushData()) return false;
    let resumedAfterLoss = false;
    const p = this.pauseState;
    if (p !== null) {
      // Everything waiting is on disk again.
      this.pauseState = null;
      if (this.dropSince !== null) {
        const since = this.dropSince;
        this.dropSince = null;
        // What the dropped rows held is lost: every stream's book is unknown from the first of them.
        const flags = Flag.MessageEnd | Flag.NoExchangeTime;
        for (let st = 0; st < this.manifest.streams.length; st++) {
          this.event(st, since, since, EventKind.Gap, 0, NaN, GapReason.NotWritten, -1n, -1n, flags);
        }
        resumedAfterLoss = true;
        if (!this.flushData()) return true;
      }
    }
    this.updateSegmentInfo();
    this.tryWriteManifest();
    return resumedAfterLoss;
  }

  /** Both tables' buffered rows to disk. False (and paused) when the disk refused bytes. */
  private flushData(): boolean {
    try {
      this.flushEvents();
      this.flushRaw();
      return true;
    } catch (e) {
      this.pauseOn(e);
      return false;
    }
  }

  private pauseOn(e: unknown): void {
    const err = e as NodeJS.ErrnoException;
    const error = err.code ?? err.message ?? String(e);
    if (this.pauseState === null) {
      this.pauseState = { error, sinceNs: this.lastTs, pendingBytes: 0, droppedEvents: 0, droppedRaw: 0 };
    } else {
      this.pauseState.error = error;
    }
    if (this.dropSince === null && this.pendingBytes() > this.maxPendingBytes) {
      // Memory is bounded: from here rows are dropped, counted, and marked by Gap rows on resume.
      this.dropSince = this.lastTs;
    }
  }

  /** The manifest is only rewritten when the rows it counts are on disk; a refusal leaves the old one. */
  private tryWriteManifest(): void {
    if (this.pendingBytes() > 0) return;
    try {
      writeManifest(this.dir, this.manifest, this.files);
    } catch (e) {
      this.pauseOn(e);
    }
  }

  private flushEvents(): void {
    const c = this.cols;
    const n = c.length;
    if (this.segEvents === null) return;
    if (n === 0) {
      this.segEvents.sync();
      return;
    }
    if (this.symbolDict === null) this.symbolDict = vectorFromArray(this.symbols, new Utf8());
    const exch = new Int8Array(n);
    const market = new Int8Array(n);
    const sym = new Int16Array(n);
    const streams = this.manifest.streams;
    const exIdx = streams.map((s) => this.exchangeIndex(s.exchange));
    this.exchangeDict ??= vectorFromArray(this.exchangeNames, new Utf8());
    const mkIdx = streams.map((s) => MARKET_TYPES.indexOf(s.market));
    for (let i = 0; i < n; i++) {
      const s = c.stream[i]!;
      exch[i] = exIdx[s]!;
      market[i] = mkIdx[s]!;
      sym[i] = this.symbolIndexOfStream[s]!;
    }
    const f = this.eventsSchema.fields;
    const children: Data[] = [
      makeData({ type: f[0]!.type, length: n, nullCount: 0, data: c.localTs.slice(0, n) }),
      makeData({ type: f[1]!.type, length: n, nullCount: 0, data: c.exchTs.slice(0, n) }),
      makeData({ type: f[2]!.type, length: n, nullCount: 0, data: c.stream.slice(0, n) }),
      makeData({ type: f[3]!.type as Dictionary<Utf8, Int8>, length: n, nullCount: 0, data: exch, dictionary: this.exchangeDict }),
      makeData({ type: f[4]!.type as Dictionary<Utf8, Int8>, length: n, nullCount: 0, data: market, dictionary: this.marketDict }),
      makeData({ type: f[5]!.type as Dictionary<Utf8, Int16>, length: n, nullCount: 0, data: sym, dictionary: this.symbolDict }),
      makeData({ type: f[6]!.type, length: n, nullCount: 0, data: c.kind.slice(0, n) }),
      makeData({ type: f[7]!.type, length: n, nullCount: 0, data: c.side.slice(0, n) }),
      makeData({ type: f[8]!.type, length: n, nullCount: 0, data: c.price.slice(0, n) }),
      makeData({ type: f[9]!.type, length: n, nullCount: 0, data: c.size.slice(0, n) }),
      makeData({ type: f[10]!.type, length: n, nullCount: 0, data: c.id.slice(0, n) }),
      makeData({ type: f[11]!.type, length: n, nullCount: 0, data: c.prevId.slice(0, n) }),
      makeData({ type: f[12]!.type, length: n, nullCount: 0, data: c.flags.slice(0, n) }),
      makeData({ type: f[13]!.type, length: n, nullCount: 0, data: c.publishTs.slice(0, n) }),
    ] as Data[];
    this.segEvents.write(structBatch(this.eventsSchema, children, n));
    // The batch's bytes are queued in the stream writer now; sync() keeps what the disk refuses.
    c.length = 0;
    this.segEvents.sync();
  }

  private flushRaw(): void {
    const r = this.raw;
    const n = r.length;
    if (this.segRaw === null) return;
    if (n === 0) {
      this.segRaw.sync();
      return;
    }
    if (this.rawSourceDict === null) this.rawSourceDict = vectorFromArray(this.rawSources, new Utf8());
    this.exchangeDict ??= vectorFromArray(this.exchangeNames, new Utf8());
    const offsets = new Int32Array(n + 1);
    let total = 0;
    for (let i = 0; i < n; i++) total += Buffer.byteLength(r.data[i]!);
    const values = Buffer.allocUnsafe(total);
    let pos = 0;
    for (let i = 0; i < n; i++) {
      pos += values.write(r.data[i]!, pos);
      offsets[i + 1] = pos;
    }
    const f = this.rawTableSchema.fields;
    const children: Data[] = [
      makeData({ type: f[0]!.type, length: n, nullCount: 0, data: BigInt64Array.from(r.localTs) }),
      makeData({ type: f[1]!.type as Dictionary<Utf8, Int8>, length: n, nullCount: 0, data: Int8Array.from(r.exchange), dictionary: this.exchangeDict }),
      makeData({ type: f[2]!.type as Dictionary<Utf8, Int32>, length: n, nullCount: 0, data: Int32Array.from(r.source), dictionary: this.rawSourceDict }),
      makeData({ type: f[3]!.type, length: n, nullCount: 0, data: BigInt64Array.from(r.line) }),
      makeData({ type: f[4]!.type, length: n, nullCount: 0, data: Uint8Array.from(r.kind) }),
      makeData({ type: new Utf8(), length: n, nullCount: 0, valueOffsets: offsets, data: new Uint8Array(values.buffer, values.byteOffset, total) }),
    ] as Data[];
    this.segRaw.write(structBatch(this.rawTableSchema, children, n));
    this.raw = new RawColumns();
    this.segRaw.sync();
  }

  private rotate(localTs: bigint): void {
    this.closeSegment();
    const index = this.manifest.segments.reduce((m, s) => Math.max(m, s.index), 0) + 1;
    const name = String(index).padStart(6, '0');
    const seg = emptySegmentInfo(index, `events-${name}.arrow`, `raw-${name}.arrow`, false);
    const evFd = this.files.openSync(path.join(this.dir, seg.events), 'wx');
    const rawFd = this.files.openSync(path.join(this.dir, seg.raw), 'wx');
    this.segFds = [evFd, rawFd];
    this.segEvents = new SyncStreamWriter(evFd, this.files);
    this.segRaw = new SyncStreamWriter(rawFd, this.files);
    // The schema message goes out at once, so even an empty segment is a valid stream.
    this.segEvents.reset(undefined, this.eventsSchema);
    this.segRaw.reset(undefined, this.rawTableSchema);
    // Dictionaries restart per stream file.
    this.symbolDict = null;
    this.rawSourceDict = null;
    this.exchangeDict = null;
    this.seg = seg;
    this.segPeriod = this.rotateNs > 0n ? localTs / this.rotateNs : -1n;
    this.stats = { lmin: MAX_I64, lmax: MIN_I64, emin: MAX_I64, emax: MIN_I64, rmin: MAX_I64, rmax: MIN_I64 };
    this.kindCounts.fill(0);
    this.manifest.segments.push(seg);
    this.flushData();
    this.tryWriteManifest();
  }

  private updateSegmentInfo(): void {
    const seg = this.seg;
    if (!seg) return;
    const st = this.stats;
    const lmin = st.lmin < st.rmin ? st.lmin : st.rmin;
    const lmax = st.lmax > st.rmax ? st.lmax : st.rmax;
    seg.localTsMin = lmin === MAX_I64 ? null : lmin.toString();
    seg.localTsMax = lmax === MIN_I64 ? null : lmax.toString();
    seg.exchTsMin = st.emin === MAX_I64 ? null : st.emin.toString();
    seg.exchTsMax = st.emax === MIN_I64 ? null : st.emax.toString();
    const counts: Record<string, number> = {};
    this.kindCounts.forEach((v, k) => {
      if (v > 0) counts[EVENT_KIND_NAMES[k] ?? `kind_${k}`] = v;
    });
    seg.counts = counts;
    seg.bytes = this.segEvents?.bytes ?? seg.bytes;
    seg.rawBytes = this.segRaw?.bytes ?? seg.rawBytes;
  }

  private closeSegment(): void {
    if (this.seg === null) return;
    this.flushEvents();
    this.flushRaw();
    // End-of-stream markers make the files complete streams for every reader.
    this.segEvents!.finish();
    this.segEvents!.sync();
    this.segRaw!.finish();
    this.segRaw!.sync();
    this.updateSegmentInfo();
    this.seg.closed = true;
    for (const fd of this.segFds) this.files.closeSync(fd);
    this.segFds = [];
    this.segEvents = null;
    this.segRaw = null;
    this.seg = null;
    writeManifest(this.dir, this.manifest, this.files);
  }

  /** Close the segment and the manifest. Throws if the disk still refuses what is waiting (it is kept). */
  close(): Manifest {
    if (!this.closed) {
      if (this.seg !== null && !this.flush() && this.pauseState !== null) {
        throw new Error(`${this.dir}: cannot close the dataset: the disk refuses writes (${this.pauseState.error}); ${this.pendingBytes()} bytes wait in memory`);
      }
      this.closeSegment();
      writeManifest(this.dir, this.manifest, this.files);
      this.closed = true;
    }
    return this.manifest;
  }
}

/**
 * A segment whose writer died: each file is cut back to the end of its last complete IPC message (dropping a
 * half-written batch), given an end-of-stream marker, and the segment is recounted from the files.
 */
function repairSegment(dir: string, seg: SegmentInfo): SegmentInfo {
  for (const name of [seg.events, seg.raw]) {
    if (!name) continue;
    const file = path.join(dir, name);
    if (!fs.existsSync(file)) continue;
    let complete: number;
    try {
      complete = forEachBatch(file, () => {}).completeBytes;
    } catch (e) {
      throw new Error(`cannot append to ${dir}: ${(e as Error).message}`);
    }
    const size = fs.statSync(file).size;
    const fd = fs.openSync(file, 'r+');
    try {
      const tail = Buffer.alloc(8);
      const endsWithEos = complete >= 8 && fs.readSync(fd, tail, 0, 8, complete - 8) === 8 && Buffer.compare(tail, EOS) === 0;
      if (complete < size || !endsWithEos) {
        fs.ftruncateSync(fd, complete);
        if (complete > 0 && !endsWithEos) fs.writeSync(fd, EOS, 0, EOS.length, complete);
      }
    } finally {
      fs.closeSync(fd);
    }
  }
  return describeSegment(dir, seg.index, seg.events, seg.raw);
}

// Reading a dataset: the manifest, then each segment's record batches as typed arrays.
// Nothing here creates an object per event; callers loop over the arrays.
import path from 'node:path';
import type { RecordBatch } from 'apache-arrow';
import { readManifest, type Manifest, type SegmentInfo } from './manifest.js';
import { ensureUnpacked, forEachBatch, scanSegmentFiles, SegmentCorruptError } from './segments.js';
import { PUBLISH_TS_COLUMN } from './schema.js';
import { relativeNs, NS_PER_S } from './time.js';
import { EVENT_KIND_NAMES, Flag, RAW_KIND_NAMES, type StreamInfo } from './types.js';

/** Kinds a valid events row may carry (uint8 column): a lookup table, no allocation per row. */
const KNOWN_EVENT_KIND = new Uint8Array(256);
for (const k of Object.keys(EVENT_KIND_NAMES)) KNOWN_EVENT_KIND[Number(k)] = 1;
/** Every bit a flags value may carry. */
const KNOWN_FLAGS = Object.values(Flag).reduce((a, b) => a | b, 0);
const KNOWN_RAW_KIND = new Uint8Array(256);
for (const k of Object.keys(RAW_KIND_NAMES)) KNOWN_RAW_KIND[Number(k)] = 1;

/** One record batch of the events table as typed arrays (valid only during the callback). */
export interface EventBatch {
  length: number;
  segment: number;
  localTs: BigInt64Array;
  exchTs: BigInt64Array;
  /** local_ts and exch_ts as float64 ns relative to the dataset's origin (exact, no BigInt per event). */
  localNs: Float64Array;
  exchNs: Float64Array;
  /** publish_ts: the exchange's publish time (docs/dataset-format.md, "Two exchange clocks"). A dataset
   *  written before the column existed (format version 1) has none: then this is `exchTs` itself. */
  publishTs: BigInt64Array;
  /** publish_ts as float64 ns relative to the origin (`exchNs` itself when the column is absent). */
  pubNs: Float64Array;
  /** Whether this batch has the publish_ts column. */
  hasPublishTs: boolean;
  stream: Uint16Array;
  kind: Uint8Array;
  side: Int8Array;
  price: Float64Array;
  size: Float64Array;
  id: BigInt64Array;
  prevId: BigInt64Array;
  flags: Uint16Array;
}

export interface RawBatch {
  length: number;
  segment: number;
  localTs: BigInt64Array;
  exchange: (i: number) => string;
  source: (i: number) => string;
  line: BigInt64Array;
  kind: Uint8Array;
  /** The message text of row i (decoded on demand). */
  data: (i: number) => string;
  /** The message's UTF-8 bytes (a view, valid during the callback). */
  bytes: (i: number) => Uint8Array;
}

export interface ReadProblem {
  file: string;
  message: string;
}

function column<T>(batch: RecordBatch, name: string): T {
  const child = batch.getChild(name);
  if (!child) throw new Error(`column "${name}" missing`);
  if (child.data.length !== 1) throw new Error(`column "${name}" has ${child.data.length} chunks in one batch`);
  return child.data[0]!.values as T;
}

/** Where a batch is, for errors: "<file>: batch 3". */
function batchPlace(file: string, index: number): string {
  return `${file}: batch ${index + 1}`;
}

/**
 * Each column of the batch has one chunk of `numRows` values backed by at least that many elements, checked
 * before anything is sized from numRows (damaged metadata can claim any row count).
 */
function checkBatchShape(batch: RecordBatch, where: string, columns: readonly string[]): void {
  const n = batch.numRows;
  if (!Number.isSafeInteger(n) || n < 0) throw new SegmentCorruptError(`${where}: row count ${n} is not a count`);
  for (const name of columns) {
    const child = batch.getChild(name);
    if (!child) throw new SegmentCorruptError(`${where}: column "${name}" is missing`);
    if (child.data.length !== 1) throw new SegmentCorruptError(`${where}: column "${name}" has ${child.data.length} chunks in one batch`);
    const d = child.data[0]!;
    const values = d.values as ArrayLike<unknown> | undefined;
    if (d.length !== n) throw new SegmentCorruptError(`${where}: column "${name}" has ${d.length} rows, the batch ${n}`);
    if (d.valueOffsets) {
      const off = d.valueOffsets as Int32Array;
      if (off.length < n + 1) throw new SegmentCorruptError(`${where}: column "${name}" has ${off.length} offsets for ${n} rows`);
      const end = values ? values.length : 0;
      let prev = off[0]!;
      if (prev < 0) throw new SegmentCorruptError(`${where}: column "${name}" starts at offset ${prev}`);
      for (let i = 1; i <= n; i++) {
        const o = off[i]!;
        if (o < prev || o > end) throw new SegmentCorruptError(`${where}: column "${name}" row ${i - 1} has offsets ${prev}..${o} outside its ${end} bytes`);
        prev = o;
      }
    } else if (!values || values.length < n) {
      throw new SegmentCorruptError(`${where}: column "${name}" holds ${values ? values.length : 0} values for ${n} rows`);
    }
  }
}

const EVENT_BATCH_COLUMNS = ['local_ts', 'exch_ts', 'stream', 'kind', 'side', 'price', 'size', 'id', 'prev_id', 'flags'];
const RAW_BATCH_COLUMNS = ['local_ts', 'exchange', 'source', 'line', 'kind', 'data'];

export class Dataset {
  readonly manifest: Manifest;
  readonly segments: SegmentInfo[];
  /** Problems met while reading (cut-off segments); reading goes on past them. */
  readonly problems: ReadProblem[] = [];
  /** Relative times are measured from here: the first local time, floored to the second. */
  readonly originNs: bigint;
  private scratchLocal = new Float64Array(0);
  private scratchExch = new Float64Array(0);
  private scratchPub = new Float64Array(0);
  /** Events files the manifest lists (the others were found on disk). */
  private readonly listed: Set<string>;

  constructor(readonly dir: string) {
    this.manifest = readManifest(dir);
    const listed = (this.listed = new Set(this.manifest.segments.map((s) => s.events)));
    // A writer killed before its manifest caught up leaves segments the manifest does not list.
    const unlisted = scanSegmentFiles(dir, listed);
    this.segments = [...this.manifest.segments, ...unlisted].sort((a, b) => a.index - b.index);
    const mins = this.segments.map((s) => s.localTsMin).filter((x): x is string => x !== null).map(BigInt);
    const first = mins.length ? mins.reduce((a, b) => (a < b ? a : b)) : 0n;
    this.originNs = (first / NS_PER_S) * NS_PER_S;
  }

  get streams(): readonly StreamInfo[] {
    return this.manifest.streams;
  }

  /** Whether the dataset's events table carries publish_ts (format version 2 on): without it, every row's
   *  publish time is read as its exchange time. A version 1 dataset appended to by a newer writer has the
   *  column in its new segments only, and still says false here. */
  get hasPublishTs(): boolean {
    return this.manifest.version >= 2;
  }

  findStream(exchange: string, symbol: string): number {
    const i = this.streams.findIndex((s) => s.exchange === exchange && s.symbol.toUpperCase() === symbol.toUpperCase());
    if (i < 0) {
      const have = this.streams.map((s) => `${s.exchange} ${s.symbol}`).join(', ');
      throw new Error(`dataset ${this.dir} has no stream ${exchange} ${symbol} (it has: ${have || 'none'})`);
    }
    return i;
  }

  /** Calls `fn` for every record batch of the events table, in file order. */
  forEachEventBatch(fn: (b: EventBatch) => void): void {
    for (const seg of this.segments) this.forEachEventBatchOf(seg, fn);
  }

  /**
   * The same for one segment. Each batch is validated before `fn` sees it: column lengths, stream indexes
   * within the manifest's streams, known kinds and sides, and (for a segment the manifest lists as closed)
   * times within the segment's recorded ranges. An invalid batch throws a SegmentCorruptError naming the file
   * and the batch. A segment cut off before the rows the manifest lists is damage too (a crashed writer only
   * ever leaves rows beyond what the manifest lists): that throws; a cut-off tail is a read problem.
   */
  forEachEventBatchOf(seg: SegmentInfo, fn: (b: EventBatch) => void): void {
    const file = path.join(this.dir, seg.events);
    if (!ensureUnpacked(file)) {
      this.problems.push({ file, message: `segment file missing: ${file}` });
      return;
    }
    const nStreams = this.manifest.streams.length;
    // The manifest's ranges as float ns from the origin (exact), compared with the rows' relative times.
    const bound = (x: string | null, dflt: number) => (x === null ? dflt : Number(BigInt(x) - this.originNs));
    const ranged = seg.closed && seg.localTsMin !== null && seg.exchTsMin !== null;
    const lmin = ranged ? bound(seg.localTsMin, -Infinity) : -Infinity;
    const lmax = ranged ? bound(seg.localTsMax, Infinity) : Infinity;
    const emin = ranged ? bound(seg.exchTsMin, -Infinity) : -Infinity;
    const emax = ranged ? bound(seg.exchTsMax, Infinity) : Infinity;
    let rowsRead = 0;
    const res = forEachBatch(file, (batch, index) => {
      const where = batchPlace(file, index);
      checkBatchShape(batch, where, EVENT_BATCH_COLUMNS);
      const n = batch.numRows;
      rowsRead += n;
      if (this.scratchLocal.length < n) {
        this.scratchLocal = new Float64Array(n);
        this.scratchExch = new Float64Array(n);
        this.scratchPub = new Float64Array(n);
      }
      const localTs = column<BigInt64Array>(batch, 'local_ts');
      const exchTs = column<BigInt64Array>(batch, 'exch_ts');
      const localNs = relativeNs(localTs.subarray(0, n), this.originNs, this.scratchLocal);
      const exchNs = relativeNs(exchTs.subarray(0, n), this.originNs, this.scratchExch);
      const hasPublishTs = batch.getChild(PUBLISH_TS_COLUMN) !== null;
      if (hasPublishTs) checkBatchShape(batch, where, [PUBLISH_TS_COLUMN]);
      const publishTs = hasPublishTs ? column<BigInt64Array>(batch, PUBLISH_TS_COLUMN) : exchTs;
      const stream = column<Uint16Array>(batch, 'stream');
      const kind = column<Uint8Array>(batch, 'kind');
      const side = column<Int8Array>(batch, 'side');
      const price = column<Float64Array>(batch, 'price');
      const size = column<Float64Array>(batch, 'size');
      const flags = column<Uint16Array>(batch, 'flags');
      for (let i = 0; i < n; i++) {
        const bad =
          stream[i]! >= nStreams
            ? `stream index ${stream[i]} (the manifest lists ${nStreams} stream(s))`
            : KNOWN_EVENT_KIND[kind[i]!] === 0
              ? `kind ${kind[i]} is not an event kind`
              : side[i]! < -1 || side[i]! > 1
                ? `side ${side[i]} is not -1, 0 or 1`
                : !(localNs[i]! >= lmin && localNs[i]! <= lmax)
                  ? `local_ts ${localTs[i]} is outside the segment's range ${seg.localTsMin}..${seg.localTsMax} (manifest)`
                  : !(exchNs[i]! >= emin && exchNs[i]! <= emax)
                    ? `exch_ts ${exchTs[i]} is outside the segment's range ${seg.exchTsMin}..${seg.exchTsMax} (manifest)`
                    : (flags[i]! & ~KNOWN_FLAGS) !== 0
                      ? `flags ${flags[i]} has bits no flag defines`
                      : !(size[i]! >= 0) && !Number.isNaN(size[i]!)
                        ? `size ${size[i]} is negative`
                        : price[i] === Infinity || price[i] === -Infinity || size[i] === Infinity
                          ? `price ${price[i]} / size ${size[i]} is infinite`
                          : null;
        if (bad !== null) throw new SegmentCorruptError(`${where}, row ${i}: ${bad}`);
      }
      fn({
        length: n,
        segment: seg.index,
        localTs,
        exchTs,
        localNs,
        exchNs,
        publishTs,
        pubNs: hasPublishTs ? relativeNs(publishTs.subarray(0, n), this.originNs, this.scratchPub) : exchNs,
        hasPublishTs,
        stream,
        kind,
        side,
        price,
        size,
        id: column(batch, 'id'),
        prevId: column(batch, 'prev_id'),
        flags,
      });
    });
    this.checkComplete(file, res.truncated, rowsRead, seg.rows, this.listed.has(seg.events));
  }

  /** A segment cut off before the rows its manifest lists is damaged; one cut off after them is a crash tail. */
  private checkComplete(file: string, truncated: string | null, rowsRead: number, listedRows: number, listed: boolean): void {
    if (truncated === null) return;
    if (listed && rowsRead < listedRows) {
      throw new SegmentCorruptError(`${truncated}: ${rowsRead} row(s) read, but the manifest lists ${listedRows}`);
    }
    this.problems.push({ file, message: truncated });
  }

  /** Calls `fn` for every record batch of the raw table. */
  forEachRawBatch(fn: (b: RawBatch) => void): void {
    for (const seg of this.segments) this.forEachRawBatchOf(seg, fn);
  }

  /** The same for one segment (nothing if it has no raw table). */
  forEachRawBatchOf(seg: SegmentInfo, fn: (b: RawBatch) => void): void {
    if (!seg.raw) return;
    const file = path.join(this.dir, seg.raw);
    if (!ensureUnpacked(file)) {
      this.problems.push({ file, message: `segment file missing: ${file}` });
      return;
    }
    let rowsRead = 0;
    const res = forEachBatch(file, (batch, index) => {
      const where = batchPlace(file, index);
      checkBatchShape(batch, where, RAW_BATCH_COLUMNS);
      rowsRead += batch.numRows;
      const rawKind = column<Uint8Array>(batch, 'kind');
      for (let i = 0; i < batch.numRows; i++) {
        if (KNOWN_RAW_KIND[rawKind[i]!] === 0) throw new SegmentCorruptError(`${where}, row ${i}: kind ${rawKind[i]} is not a raw kind`);
      }
      const dataCol = batch.getChild('data')!.data[0]!;
      const offsets = dataCol.valueOffsets as Int32Array;
      const values = dataCol.values as Uint8Array;
      const bytes = (i: number) => values.subarray(offsets[i]!, offsets[i + 1]!);
      const ex = batch.getChild('exchange')!;
      const src = batch.getChild('source')!;
      fn({
        length: batch.numRows,
        segment: seg.index,
        localTs: column(batch, 'local_ts'),
        exchange: (i) => ex.get(i) as string,
        source: (i) => src.get(i) as string,
        line: column(batch, 'line'),
        kind: column(batch, 'kind'),
        data: (i) => this.decoder.decode(bytes(i)),
        bytes,
      });
    });
    this.checkComplete(file, res.truncated, rowsRead, seg.rawRows, this.listed.has(seg.events));
  }
  private readonly decoder = new TextDecoder();
}

export function openDataset(dir: string): Dataset {
  return new Dataset(dir);
}

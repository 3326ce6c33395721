// Reading a dataset: the manifest, then each segment's record batches as typed arrays.
// Nothing here creates an object per event; callers loop over the arrays.
import path from 'node:path';
import type { RecordBatch } from 'apache-arrow';
import { readManifest, type Manifest, type SegmentInfo } from './manifest.js';
import { ensureUnpacked, forEachBatch, scanSegmentFiles } from './segments.js';
import { PUBLISH_TS_COLUMN } from './schema.js';
import { relativeNs, NS_PER_S } from './time.js';
import type { StreamInfo } from './types.js';

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

  constructor(readonly dir: string) {
    this.manifest = readManifest(dir);
    const listed = new Set(this.manifest.segments.map((s) => s.events));
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

  /** The same for one segment. */
  forEachEventBatchOf(seg: SegmentInfo, fn: (b: EventBatch) => void): void {
    const file = path.join(this.dir, seg.events);
    if (!ensureUnpacked(file)) {
      this.problems.push({ file, message: `segment file missing: ${file}` });
      return;
    }
    const res = forEachBatch(file, (batch) => {
      const n = batch.numRows;
      if (this.scratchLocal.length < n) {
        this.scratchLocal = new Float64Array(n);
        this.scratchExch = new Float64Array(n);
        this.scratchPub = new Float64Array(n);
      }
      const localTs = column<BigInt64Array>(batch, 'local_ts');
      const exchTs = column<BigInt64Array>(batch, 'exch_ts');
      const exchNs = relativeNs(exchTs, this.originNs, this.scratchExch);
      const hasPublishTs = batch.getChild(PUBLISH_TS_COLUMN) !== null;
      const publishTs = hasPublishTs ? column<BigInt64Array>(batch, PUBLISH_TS_COLUMN) : exchTs;
      fn({
        length: n,
        segment: seg.index,
        localTs,
        exchTs,
        localNs: relativeNs(localTs, this.originNs, this.scratchLocal),
        exchNs,
        publishTs,
        pubNs: hasPublishTs ? relativeNs(publishTs, this.originNs, this.scratchPub) : exchNs,
        hasPublishTs,
        stream: column(batch, 'stream'),
        kind: column(batch, 'kind'),
        side: column(batch, 'side'),
        price: column(batch, 'price'),
        size: column(batch, 'size'),
        id: column(batch, 'id'),
        prevId: column(batch, 'prev_id'),
        flags: column(batch, 'flags'),
      });
    });
    if (res.truncated) this.problems.push({ file, message: res.truncated });
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
    const res = forEachBatch(file, (batch) => {
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
    if (res.truncated) this.problems.push({ file, message: res.truncated });
  }
  private readonly decoder = new TextDecoder();
}

export function openDataset(dir: string): Dataset {
  return new Dataset(dir);
}

// What `latencylab dataset info|check|book` compute: pure functions of a dataset folder returning plain
// objects (the --json output, documented in docs/cli.md). The CLI only formats them.
//
// Everything reads the events table through Dataset.forEachEventBatch's typed arrays, in one pass, with
// memory bounded by the number of streams (histograms, per-stream state), not by the number of rows.
import fs from 'node:fs';
import path from 'node:path';
import { MANIFEST_FILE } from './manifest.js';
import { openDataset, type Dataset, type EventBatch, type ReadProblem } from './reader.js';
import { EVENT_KIND_NAMES, EventKind, Flag, GAP_REASON_NAMES, RAW_KIND_NAMES } from './types.js';
import { formatTimeNs } from './time.js';
import { Histogram, type PercentileSummary } from './histogram.js';
import { BookBuilder } from '../book/book-builder.js';
import type { OrderBook } from '../book/order-book.js';

/** At most this many examples are kept per finding. */
const MAX_EXAMPLES = 5;
/** |clock offset| above this (ms) gets a plain-language note. */
const OFFSET_NOTE_MS = 50;

// ---------------------------------------------------------------------------------------------------------
// Shared helpers

export interface TimeSpan {
  local_first_ns: string | null;
  local_first: string | null;
  local_last_ns: string | null;
  local_last: string | null;
  /** Exchange times exclude rows flagged NoExchangeTime (their exch_ts is only the local time). */
  exch_first_ns: string | null;
  exch_first: string | null;
  exch_last_ns: string | null;
  exch_last: string | null;
  /** local_last - local_first in seconds. */
  duration_s: number | null;
}

function kindName(k: number): string {
  return EVENT_KIND_NAMES[k] ?? `kind_${k}`;
}

/** ns since epoch of a float ns relative to the dataset origin (exact: the floats are integers). */
function absNs(ds: Dataset, rel: number): bigint {
  return ds.originNs + BigInt(rel);
}

function nsText(ds: Dataset, rel: number): string {
  return absNs(ds, rel).toString();
}

function isoText(ds: Dataset, rel: number): string {
  return formatTimeNs(absNs(ds, rel));
}

function round3(x: number): number | null {
  return Number.isFinite(x) ? Math.round(x * 1000) / 1000 : null;
}

function countsObject(counts: Float64Array): Record<string, number> {
  const out: Record<string, number> = {};
  counts.forEach((v, k) => {
    if (v > 0) out[kindName(k)] = v;
  });
  return out;
}

function span(ds: Dataset, lmin: number, lmax: number, emin: number, emax: number): TimeSpan {
  const hasL = lmin <= lmax;
  const hasE = emin <= emax;
  return {
    local_first_ns: hasL ? nsText(ds, lmin) : null,
    local_first: hasL ? isoText(ds, lmin) : null,
    local_last_ns: hasL ? nsText(ds, lmax) : null,
    local_last: hasL ? isoText(ds, lmax) : null,
    exch_first_ns: hasE ? nsText(ds, emin) : null,
    exch_first: hasE ? isoText(ds, emin) : null,
    exch_last_ns: hasE ? nsText(ds, emax) : null,
    exch_last: hasE ? isoText(ds, emax) : null,
    duration_s: hasL ? (lmax - lmin) / 1e9 : null,
  };
}

/** The int64 column as pairs of int32 words (little-endian: [lo, hi]), to compare ids without a BigInt per row. */
function words(a: BigInt64Array): Int32Array {
  return new Int32Array(a.buffer, a.byteOffset, a.length * 2);
}

/** Turns a sentinel error thrown from inside a scan into an early stop. */
class StopScan extends Error {
  constructor() {
    super('scan stopped early');
  }
}

// ---------------------------------------------------------------------------------------------------------
// dataset info

export interface StreamSummary {
  stream: number;
  exchange: string;
  market: string;
  symbol: string;
  rows: number;
  /** Rows per event kind name. */
  counts: Record<string, number>;
  time: TimeSpan;
}

export interface SegmentSummary {
  index: number;
  events_file: string;
  raw_file: string;
  /** Rows actually read (a cut-off segment holds fewer than its manifest says). */
  rows: number;
  /** Rows the manifest lists for it (null for a segment the manifest does not list). */
  manifest_rows: number | null;
  raw_rows: number;
  events_bytes: number;
  raw_bytes: number;
  closed: boolean;
  listed_in_manifest: boolean;
}

export interface DatasetInfo {
  dir: string;
  format_version: number;
  source: Record<string, unknown>;
  exchanges: string[];
  streams: StreamSummary[];
  time: TimeSpan;
  rows: number;
  counts: Record<string, number>;
  raw_messages: number;
  raw_counts: Record<string, number>;
  events_bytes: number;
  raw_bytes: number;
  manifest_bytes: number;
  total_bytes: number;
  /** events_bytes / rows. */
  bytes_per_event: number | null;
  /** total_bytes / rows. */
  total_bytes_per_event: number | null;
  segments: SegmentSummary[];
  problems: ReadProblem[];
}

function fileSize(file: string): number {
  try {
    return fs.statSync(file).size;
  } catch {
    return 0;
  }
}

export function datasetInfo(dir: string): DatasetInfo {
  const ds = openDataset(dir);
  const nStreams = ds.streams.length;
  const counts = new Float64Array(256 * Math.max(1, nStreams + 1));
  const lmin = new Float64Array(nStreams + 1).fill(Infinity);
  const lmax = new Float64Array(nStreams + 1).fill(-Infinity);
  const emin = new Float64Array(nStreams + 1).fill(Infinity);
  const emax = new Float64Array(nStreams + 1).fill(-Infinity);
  const segRows = new Map<number, number>();
  const segRawRows = new Map<number, number>();
  let rows = 0;
  // Slot nStreams holds rows whose stream index the manifest does not list.
  const total = nStreams;
  ds.forEachEventBatch((b) => {
    const n = b.length;
    rows += n;
    segRows.set(b.segment, (segRows.get(b.segment) ?? 0) + n);
    for (let i = 0; i < n; i++) {
      let s = b.stream[i]!;
      if (s >= nStreams) s = total;
      counts[s * 256 + b.kind[i]!]!++;
      const l = b.localNs[i]!;
      if (l < lmin[s]!) lmin[s] = l;
      if (l > lmax[s]!) lmax[s] = l;
      if ((b.flags[i]! & Flag.NoExchangeTime) === 0) {
        const e = b.exchNs[i]!;
        if (e < emin[s]!) emin[s] = e;
        if (e > emax[s]!) emax[s] = e;
      }
    }
  });
  const rawCounts = new Float64Array(256);
  let rawMessages = 0;
  ds.forEachRawBatch((b) => {
    rawMessages += b.length;
    segRawRows.set(b.segment, (segRawRows.get(b.segment) ?? 0) + b.length);
    for (let i = 0; i < b.length; i++) rawCounts[b.kind[i]!]!++;
  });

  const allCounts = new Float64Array(256);
  let almin = Infinity;
  let almax = -Infinity;
  let aemin = Infinity;
  let aemax = -Infinity;
  for (let s = 0; s <= nStreams; s++) {
    for (let k = 0; k < 256; k++) allCounts[k]! += counts[s * 256 + k]!;
    almin = Math.min(almin, lmin[s]!);
    almax = Math.max(almax, lmax[s]!);
    aemin = Math.min(aemin, emin[s]!);
    aemax = Math.max(aemax, emax[s]!);
  }
  const streams: StreamSummary[] = ds.streams.map((st, s) => {
    const c = counts.subarray(s * 256, s * 256 + 256);
    return {
      stream: s,
      exchange: st.exchange,
      market: st.market,
      symbol: st.symbol,
      rows: c.reduce((a, v) => a + v, 0),
      counts: countsObject(c),
      time: span(ds, lmin[s]!, lmax[s]!, emin[s]!, emax[s]!),
    };
  });
  const listed = new Set(ds.manifest.segments.map((s) => s.events));
  const segments: SegmentSummary[] = ds.segments.map((seg) => {
    const isListed = listed.has(seg.events);
    return {
      index: seg.index,
      events_file: seg.events,
      raw_file: seg.raw,
      rows: segRows.get(seg.index) ?? 0,
      manifest_rows: isListed ? seg.rows : null,
      raw_rows: segRawRows.get(seg.index) ?? 0,
      events_bytes: fileSize(path.join(dir, seg.events)),
      raw_bytes: seg.raw ? fileSize(path.join(dir, seg.raw)) : 0,
      closed: seg.closed,
      listed_in_manifest: isListed,
    };
  });
  const eventsBytes = segments.reduce((a, s) => a + s.events_bytes, 0);
  const rawBytes = segments.reduce((a, s) => a + s.raw_bytes, 0);
  const manifestBytes = fileSize(path.join(dir, MANIFEST_FILE));
  const totalBytes = eventsBytes + rawBytes + manifestBytes;
  return {
    dir,
    format_version: ds.manifest.version,
    source: ds.manifest.source ?? {},
    exchanges: [...new Set(ds.streams.map((s) => s.exchange))],
    streams,
    time: span(ds, almin, almax, aemin, aemax),
    rows,
    counts: countsObject(allCounts),
    raw_messages: rawMessages,
    raw_counts: Object.fromEntries(
      [...rawCounts.entries()].filter(([, v]) => v > 0).map(([k, v]) => [RAW_KIND_NAMES[k] ?? `kind_${k}`, v]),
    ),
    events_bytes: eventsBytes,
    raw_bytes: rawBytes,
    manifest_bytes: manifestBytes,
    total_bytes: totalBytes,
    bytes_per_event: rows > 0 ? round3(eventsBytes / rows) : null,
    total_bytes_per_event: rows > 0 ? round3(totalBytes / rows) : null,
    segments,
    problems: [...ds.problems],
  };
}

// ---------------------------------------------------------------------------------------------------------
// dataset check

export interface LatencySummaryMs {
  /** Messages measured (one sample per row carrying Flag.MessageEnd; see docs/cli.md). */
  samples: number;
  min: number | null;
  p50: number | null;
  p90: number | null;
  p99: number | null;
  max: number | null;
  mean: number | null;
}

export interface ChainBreak {
  row: number;
  local_ts_ns: string;
  local_ts: string;
  id: string;
  prev_id: string;
  expected_prev_id: string;
  /** A gap or disconnect marker followed the break before the stream's next book message. */
  explained: boolean;
}

export interface CrossedExample {
  row: number;
  exch_ts_ns: string;
  exch_ts: string;
  best_bid: number;
  best_ask: number;
  /** A gap or disconnect marker followed before the stream's next book message. */
  marked: boolean;
}

export interface OrderCount {
  decreases: number;
  /** Largest backward step, ms (0 when none). */
  max_step_back_ms: number;
}

export interface StreamCheck {
  stream: number;
  exchange: string;
  market: string;
  symbol: string;
  rows: number;
  snapshots: number;
  gaps: { total: number; by_reason: Record<string, number> };
  disconnects: number;
  reconnects: number;
  chain: {
    /** Book messages whose prev_id was compared with the previous message's id. */
    messages_checked: number;
    /** Book messages not compared: the first one after the start, a snapshot, a gap or a disconnect. */
    messages_after_reset: number;
    /** Book messages with id or prev_id -1 (the exchange gives none): not compared. */
    messages_without_ids: number;
    breaks: number;
    explained_by_marker: number;
    unexplained: number;
    examples: ChainBreak[];
  };
  crossed: {
    /** Book messages after which the (valid) book was crossed. */
    messages: number;
    /** Runs of consecutive crossed messages. */
    episodes: number;
    /** Crossed messages followed by a gap or disconnect marker (the importer noticed). */
    marked: number;
    unmarked: number;
    examples: CrossedExample[];
  };
  exch_ts_order: OrderCount & { by_kind: Record<string, OrderCount> };
  latency_ms: LatencySummaryMs & { by_kind: Record<string, LatencySummaryMs> };
}

export interface ExchangeClock {
  exchange: string;
  streams: number[];
  /** min(local - exch) over the exchange's messages, ms: negative = the local clock is behind. */
  clock_offset_ms: number | null;
  local_clock: 'behind' | 'ahead' | 'within_50ms' | 'unknown';
  note: string | null;
  latency_ms: LatencySummaryMs;
  /** The latency percentiles minus clock_offset_ms (min is 0 by construction). */
  latency_after_offset_ms: LatencySummaryMs;
}

export interface LocalOrderExample {
  row: number;
  local_ts_ns: string;
  local_ts: string;
  prev_local_ts_ns: string;
  step_back_ms: number;
}

export interface DatasetCheck {
  dir: string;
  /** False when the check found unexplained sequence breaks or unmarked crossed books (exit code 2). */
  ok: boolean;
  exit_code: 0 | 2;
  /** What made ok false, one sentence each. */
  errors: string[];
  /** Information: read problems, clock offsets, time order, explained gaps. */
  notes: string[];
  rows: number;
  problems: ReadProblem[];
  local_ts_order: OrderCount & { examples: LocalOrderExample[] };
  streams: StreamCheck[];
  exchanges: ExchangeClock[];
}

function latencySummary(h: Histogram | undefined, shift = 0): LatencySummaryMs {
  const s: PercentileSummary | null = h && h.count > 0 ? h.summary() : null;
  return {
    samples: s ? s.count : 0,
    min: s ? round3(s.min - shift) : null,
    p50: s ? round3(s.p50 - shift) : null,
    p90: s ? round3(s.p90 - shift) : null,
    p99: s ? round3(s.p99 - shift) : null,
    max: s ? round3(s.max - shift) : null,
    mean: s ? round3(s.mean - shift) : null,
  };
}

/** Latency samples taken before an exchange's histogram origin is fixed. */
const ORIGIN_SAMPLES = 1024;

/**
 * Feed latency histograms per stream and per (stream, kind). All histograms of one exchange share one origin:
 * the minimum of that exchange's first ORIGIN_SAMPLES samples, close to its clock offset, so that bucket
 * resolution (relative to |value - origin|) is fine for the latency itself however far apart the clocks are.
 */
class LatencyCollector {
  readonly perStream: (Histogram | undefined)[] = [];
  readonly perKind: (Histogram | undefined)[] = [];
  private readonly origin: Float64Array;
  private readonly pending: { s: Uint16Array; k: Uint8Array; v: Float64Array; n: number }[] = [];

  constructor(
    private readonly exchangeOf: Int32Array,
    exchanges: number,
    private readonly kinds: number,
  ) {
    this.origin = new Float64Array(exchanges).fill(NaN);
  }

  originOf(e: number): number {
    const o = this.origin[e]!;
    return o === o ? o : 0;
  }

  add(s: number, kind: number, v: number): void {
    const e = this.exchangeOf[s]!;
    const o = this.origin[e]!;
    if (o === o) {
      this.record(s, kind, v, o);
      return;
    }
    const p = (this.pending[e] ??= { s: new Uint16Array(ORIGIN_SAMPLES), k: new Uint8Array(ORIGIN_SAMPLES), v: new Float64Array(ORIGIN_SAMPLES), n: 0 });
    p.s[p.n] = s;
    p.k[p.n] = kind;
    p.v[p.n] = v;
    if (++p.n === ORIGIN_SAMPLES) this.settle(e);
  }

  private record(s: number, kind: number, v: number, o: number): void {
    (this.perStream[s] ??= new Histogram(o)).add(v);
    (this.perKind[s * this.kinds + kind] ??= new Histogram(o)).add(v);
  }

  private settle(e: number): void {
    const p = this.pending[e]!;
    let o = Infinity;
    for (let i = 0; i < p.n; i++) if (p.v[i]! < o) o = p.v[i]!;
    this.origin[e] = o;
    for (let i = 0; i < p.n; i++) this.record(p.s[i]!, p.k[i]!, p.v[i]!, o);
    delete this.pending[e];
  }

  /** Call once after the last sample. */
  finish(): void {
    this.pending.forEach((p, e) => {
      if (p && p.n > 0) this.settle(e);
    });
  }
}

function streamLabel(st: { exchange: string; symbol: string }): string {
  return `${st.exchange} ${st.symbol}`;
}

export function checkDataset(dir: string): DatasetCheck {
  const ds = openDataset(dir);
  const nS = ds.streams.length;
  const builder = new BookBuilder(nS);
  const K = 16; // kinds tracked per stream (EventKind values are < 16)

  const rowsOf = new Float64Array(nS);
  const snapshots = new Float64Array(nS);
  const gapReasons = new Float64Array(nS * 256);
  const disconnects = new Float64Array(nS);
  const reconnects = new Float64Array(nS);

  // Sequence chain
  const hasLast = new Uint8Array(nS);
  const lastLo = new Int32Array(nS);
  const lastHi = new Int32Array(nS);
  const lastPrevLo = new Int32Array(nS);
  const lastPrevHi = new Int32Array(nS);
  const fresh = new Uint8Array(nS).fill(1);
  const checked = new Float64Array(nS);
  const afterReset = new Float64Array(nS);
  const withoutIds = new Float64Array(nS);
  const breaks = new Float64Array(nS);
  const explained = new Float64Array(nS);
  const pendingBreak = new Uint8Array(nS);
  const breakExamples: ChainBreak[][] = Array.from({ length: nS }, () => []);
  let pendingBreakExample: (ChainBreak | null)[] = new Array(nS).fill(null);

  // Crossed books
  const crossedMsgs = new Float64Array(nS);
  const crossedEpisodes = new Float64Array(nS);
  const crossedMarked = new Float64Array(nS);
  const wasCrossed = new Uint8Array(nS);
  const pendingCrossed = new Uint8Array(nS);
  const crossedExamples: CrossedExample[][] = Array.from({ length: nS }, () => []);
  const pendingCrossedExample: (CrossedExample | null)[] = new Array(nS).fill(null);

  // Time order
  let localDecreases = 0;
  let localMaxBack = 0;
  let prevLocal = -Infinity;
  const localExamples: LocalOrderExample[] = [];
  const prevExch = new Float64Array(nS).fill(-Infinity);
  const exchDecreases = new Float64Array(nS);
  const exchMaxBack = new Float64Array(nS);
  const prevExchKind = new Float64Array(nS * K).fill(-Infinity);
  const exchKindDecreases = new Float64Array(nS * K);
  const exchKindMaxBack = new Float64Array(nS * K);

  // Latency
  const exchangeNames = [...new Set(ds.streams.map((st) => st.exchange))];
  const lat = new LatencyCollector(Int32Array.from(ds.streams, (st) => exchangeNames.indexOf(st.exchange)), exchangeNames.length, K);
  const latencyKinds = (1 << EventKind.Trade) | (1 << EventKind.BookLevel) | (1 << EventKind.BookSnapshot) | (1 << EventKind.BestBidOffer);
  const notMeasured = Flag.NoExchangeTime | Flag.Buffered | Flag.FromRest;

  let rowBase = 0;
  let unknownStreamRows = 0;

  const resolveBreak = (s: number, byMarker: boolean) => {
    if (!pendingBreak[s]) return;
    pendingBreak[s] = 0;
    if (byMarker) explained[s]!++;
    const ex = pendingBreakExample[s];
    if (ex) {
      ex.explained = byMarker;
      pendingBreakExample[s] = null;
    }
  };
  const resolveCrossed = (s: number, byMarker: boolean) => {
    if (!pendingCrossed[s]) return;
    pendingCrossed[s] = 0;
    if (byMarker) crossedMarked[s]!++;
    const ex = pendingCrossedExample[s];
    if (ex) {
      ex.marked = byMarker;
      pendingCrossedExample[s] = null;
    }
  };

  ds.forEachEventBatch((b: EventBatch) => {
    const n = b.length;
    const idw = words(b.id);
    const prevw = words(b.prevId);
    for (let i = 0; i < n; i++) {
      const s = b.stream[i]!;
      const kind = b.kind[i]!;
      const flags = b.flags[i]!;
      const local = b.localNs[i]!;

      if (local < prevLocal) {
        localDecreases++;
        const back = (prevLocal - local) / 1e6;
        if (back > localMaxBack) localMaxBack = back;
        if (localExamples.length < MAX_EXAMPLES) {
          localExamples.push({
            row: rowBase + i,
            local_ts_ns: nsText(ds, local),
            local_ts: isoText(ds, local),
            prev_local_ts_ns: nsText(ds, prevLocal),
            step_back_ms: round3(back)!,
          });
        }
      }
      prevLocal = local;
      if (s >= nS) {
        unknownStreamRows++;
        continue;
      }
      rowsOf[s]!++;

      // A new book message or a marker ends any break/crossing still waiting for its marker.
      const isBook = kind === EventKind.BookLevel || kind === EventKind.BookSnapshot;
      if (kind === EventKind.Gap || kind === EventKind.Disconnect) {
        resolveBreak(s, true);
        resolveCrossed(s, true);
        fresh[s] = 1;
        wasCrossed[s] = 0;
        if (kind === EventKind.Gap) gapReasons[s * 256 + (b.size[i]! & 255)]!++;
        else disconnects[s]!++;
      } else if (kind === EventKind.Reconnect) {
        reconnects[s]!++;
      } else if (kind === EventKind.BookSnapshot) {
        resolveBreak(s, false);
        resolveCrossed(s, false);
        if (flags & Flag.SnapshotBegin) snapshots[s]!++;
        const lo = idw[2 * i]!;
        const hi = idw[2 * i + 1]!;
        hasLast[s] = lo === -1 && hi === -1 ? 0 : 1;
        lastLo[s] = lo;
        lastHi[s] = hi;
        lastPrevLo[s] = prevw[2 * i]!;
        lastPrevHi[s] = prevw[2 * i + 1]!;
        fresh[s] = 1;
      } else if (kind === EventKind.BookLevel) {
        const lo = idw[2 * i]!;
        const hi = idw[2 * i + 1]!;
        const plo = prevw[2 * i]!;
        const phi = prevw[2 * i + 1]!;
        const noIds = (lo === -1 && hi === -1) || (plo === -1 && phi === -1);
        const sameMessage = hasLast[s] && lo === lastLo[s] && hi === lastHi[s] && plo === lastPrevLo[s] && phi === lastPrevHi[s];
        if (!sameMessage) {
          resolveBreak(s, false);
          resolveCrossed(s, false);
          if (noIds) {
            // Rows without ids cannot be grouped by id: their messages are counted at MessageEnd rows.
            if (flags & Flag.MessageEnd) withoutIds[s]!++;
            hasLast[s] = 0;
          } else {
            if (fresh[s] || !hasLast[s]) {
              afterReset[s]!++;
            } else {
              checked[s]!++;
              if (plo !== lastLo[s] || phi !== lastHi[s]) {
                breaks[s]!++;
                pendingBreak[s] = 1;
                if (breakExamples[s]!.length < MAX_EXAMPLES) {
                  const ex: ChainBreak = {
                    row: rowBase + i,
                    local_ts_ns: nsText(ds, local),
                    local_ts: isoText(ds, local),
                    id: b.id[i]!.toString(),
                    prev_id: b.prevId[i]!.toString(),
                    expected_prev_id: (BigInt(lastHi[s]!) * 4294967296n + BigInt(lastLo[s]! >>> 0)).toString(),
                    explained: false,
                  };
                  breakExamples[s]!.push(ex);
                  pendingBreakExample[s] = ex;
                }
              }
            }
            hasLast[s] = 1;
            lastLo[s] = lo;
            lastHi[s] = hi;
            lastPrevLo[s] = plo;
            lastPrevHi[s] = phi;
          }
          fresh[s] = 0;
        }
      }

      builder.apply(b, i);

      if (isBook && flags & Flag.MessageEnd) {
        if (builder.isValid(s) && builder.books[s]!.isCrossed()) {
          crossedMsgs[s]!++;
          if (!wasCrossed[s]) crossedEpisodes[s]!++;
          wasCrossed[s] = 1;
          pendingCrossed[s] = 1;
          if (crossedExamples[s]!.length < MAX_EXAMPLES) {
            const book = builder.books[s]!;
            const ex: CrossedExample = {
              row: rowBase + i,
              exch_ts_ns: nsText(ds, b.exchNs[i]!),
              exch_ts: isoText(ds, b.exchNs[i]!),
              best_bid: book.bestBid(),
              best_ask: book.bestAsk(),
              marked: false,
            };
            crossedExamples[s]!.push(ex);
            pendingCrossedExample[s] = ex;
          }
        } else {
          wasCrossed[s] = 0;
        }
      }

      if ((flags & Flag.NoExchangeTime) === 0) {
        const e = b.exchNs[i]!;
        if (e < prevExch[s]!) {
          exchDecreases[s]!++;
          const back = prevExch[s]! - e;
          if (back > exchMaxBack[s]!) exchMaxBack[s] = back;
        }
        prevExch[s] = e;
        if (kind < K) {
          const j = s * K + kind;
          if (e < prevExchKind[j]!) {
            exchKindDecreases[j]!++;
            const back = prevExchKind[j]! - e;
            if (back > exchKindMaxBack[j]!) exchKindMaxBack[j] = back;
          }
          prevExchKind[j] = e;
          if (flags & Flag.MessageEnd && (latencyKinds >> kind) & 1 && (flags & notMeasured) === 0) {
            lat.add(s, kind, (local - e) / 1e6);
          }
        }
      }
    }
    rowBase += n;
  });
  for (let s = 0; s < nS; s++) {
    resolveBreak(s, false);
    resolveCrossed(s, false);
  }
  pendingBreakExample = [];
  lat.finish();
  const latency = lat.perStream;
  const latencyKind = lat.perKind;

  const errors: string[] = [];
  const notes: string[] = [];
  for (const p of ds.problems) notes.push(`read problem: ${p.message}`);
  if (unknownStreamRows > 0) {
    notes.push(`${unknownStreamRows} rows name a stream index the manifest does not list; they were skipped`);
  }

  const streams: StreamCheck[] = ds.streams.map((st, s) => {
    const byReason: Record<string, number> = {};
    let gapTotal = 0;
    for (let r = 0; r < 256; r++) {
      const c = gapReasons[s * 256 + r]!;
      if (c > 0) {
        byReason[GAP_REASON_NAMES[r] ?? `reason_${r}`] = c;
        gapTotal += c;
      }
    }
    const exchByKind: Record<string, OrderCount> = {};
    const latByKind: Record<string, LatencySummaryMs> = {};
    for (let k = 0; k < K; k++) {
      const j = s * K + k;
      if (prevExchKind[j]! !== -Infinity) {
        exchByKind[kindName(k)] = { decreases: exchKindDecreases[j]!, max_step_back_ms: round3(exchKindMaxBack[j]! / 1e6)! };
      }
      if (latencyKind[j]) latByKind[kindName(k)] = latencySummary(latencyKind[j]);
    }
    const unexplained = breaks[s]! - explained[s]!;
    const unmarked = crossedMsgs[s]! - crossedMarked[s]!;
    const label = streamLabel(st);
    if (unexplained > 0) {
      errors.push(`${label}: ${unexplained} sequence break(s) that no gap marker explains`);
    }
    if (unmarked > 0) {
      errors.push(`${label}: book crossed after ${unmarked} message(s) with no gap marker after them`);
    }
    if (explained[s]! > 0) notes.push(`${label}: ${explained[s]} sequence break(s) followed by a gap marker`);
    if (crossedMarked[s]! > 0) notes.push(`${label}: book crossed after ${crossedMarked[s]} message(s) followed by a gap marker`);
    if (gapTotal > 0) {
      const parts = Object.entries(byReason).map(([k, v]) => `${v} ${k}`);
      notes.push(`${label}: ${gapTotal} gap marker(s) (${parts.join(', ')})`);
    }
    if (exchDecreases[s]! > 0) {
      notes.push(
        `${label}: exch_ts goes back ${exchDecreases[s]} time(s) between rows of the stream (by up to ${round3(exchMaxBack[s]! / 1e6)} ms; normal where channels interleave)`,
      );
    }
    return {
      stream: s,
      exchange: st.exchange,
      market: st.market,
      symbol: st.symbol,
      rows: rowsOf[s]!,
      snapshots: snapshots[s]!,
      gaps: { total: gapTotal, by_reason: byReason },
      disconnects: disconnects[s]!,
      reconnects: reconnects[s]!,
      chain: {
        messages_checked: checked[s]!,
        messages_after_reset: afterReset[s]!,
        messages_without_ids: withoutIds[s]!,
        breaks: breaks[s]!,
        explained_by_marker: explained[s]!,
        unexplained,
        examples: breakExamples[s]!,
      },
      crossed: {
        messages: crossedMsgs[s]!,
        episodes: crossedEpisodes[s]!,
        marked: crossedMarked[s]!,
        unmarked,
        examples: crossedExamples[s]!,
      },
      exch_ts_order: { decreases: exchDecreases[s]!, max_step_back_ms: round3(exchMaxBack[s]! / 1e6)!, by_kind: exchByKind },
      latency_ms: { ...latencySummary(latency[s]), by_kind: latByKind },
    };
  });

  if (localDecreases > 0) {
    notes.push(`local_ts goes back ${localDecreases} time(s) in file order (by up to ${round3(localMaxBack)} ms)`);
  }

  const exchanges: ExchangeClock[] = [];
  for (const ex of exchangeNames) {
    const idx = ds.streams.map((st, s) => (st.exchange === ex ? s : -1)).filter((s) => s >= 0);
    const h = new Histogram(lat.originOf(exchangeNames.indexOf(ex)));
    for (const s of idx) if (latency[s]) h.merge(latency[s]!);
    const offset = h.count > 0 ? h.min : NaN;
    let note: string | null = null;
    let side: ExchangeClock['local_clock'] = 'unknown';
    if (h.count > 0) {
      const ms = Math.round(Math.abs(offset));
      if (offset < -OFFSET_NOTE_MS) {
        side = 'behind';
        note = `local clock is about ${ms} ms behind ${ex} exchange time`;
      } else if (offset > OFFSET_NOTE_MS) {
        side = 'ahead';
        note = `local clock is about ${ms} ms ahead of ${ex} exchange time (or no message arrived faster than ${ms} ms)`;
      } else {
        side = 'within_50ms';
      }
    }
    if (note) notes.push(note);
    exchanges.push({
      exchange: ex,
      streams: idx,
      clock_offset_ms: h.count > 0 ? round3(offset) : null,
      local_clock: side,
      note,
      latency_ms: latencySummary(h),
      latency_after_offset_ms: latencySummary(h, h.count > 0 ? offset : 0),
    });
  }

  const ok = errors.length === 0;
  return {
    dir,
    ok,
    exit_code: ok ? 0 : 2,
    errors,
    notes,
    rows: rowBase,
    problems: [...ds.problems],
    local_ts_order: { decreases: localDecreases, max_step_back_ms: round3(localMaxBack)!, examples: localExamples },
    streams,
    exchanges,
  };
}

// ---------------------------------------------------------------------------------------------------------
// dataset book

export interface BookLevelOut {
  price: number;
  size: number;
}

export interface BookAt {
  dir: string;
  stream: number;
  exchange: string;
  market: string;
  symbol: string;
  at_ns: string;
  at: string;
  /** A complete snapshot was applied and no gap or disconnect happened after it (up to `at`). */
  valid: boolean;
  /** Why the book is not valid (null when it is). */
  invalid_reason: string | null;
  /** The last applied book row carried Flag.MessageEnd (always true unless the data ends mid-message). */
  message_complete: boolean;
  crossed: boolean;
  best_bid: number | null;
  best_ask: number | null;
  spread: number | null;
  mid: number | null;
  bid_levels: number;
  ask_levels: number;
  depth: number;
  bids: BookLevelOut[];
  asks: BookLevelOut[];
  /** The last book row (level or snapshot) applied. */
  last_update: {
    id: string;
    row: number;
    exch_ts_ns: string;
    exch_ts: string;
    local_ts_ns: string;
    local_ts: string;
  } | null;
  /** Book rows (levels, snapshot rows) of the stream read before the walk stopped (level rows between a gap and the next snapshot are read but ignored). */
  book_rows_read: number;
  problems: ReadProblem[];
}

/** Digits after the decimal point in the shortest text of `x` (at most 12). */
function decimals(x: number): number {
  const t = String(x);
  const e = /e-(\d+)$/.exec(t);
  if (e) return Math.min(12, Number(e[1]) + (t.split('e')[0]!.split('.')[1]?.length ?? 0));
  return Math.min(12, t.split('.')[1]?.length ?? 0);
}

function levelsOf(book: OrderBook, side: 'bids' | 'asks', depth: number): BookLevelOut[] {
  return book[side].levels(depth).map(([price, size]) => ({ price, size }));
}

/**
 * The stream's book as the exchange had it at exchange time `atNs`.
 *
 * Rule: walk the stream's rows in file order and apply every book row (BookLevel, BookSnapshot) and every
 * Gap/Disconnect marker, stopping at the first such row whose exch_ts is later than `atNs` (for rows flagged
 * NoExchangeTime, exch_ts is the local time). Trades, BBO and Reconnect rows neither change the book nor stop
 * the walk (their exchange times interleave with the book channel's). All rows of one message share exch_ts,
 * so the walk never stops inside a message; and one stream's book updates come from one sequenced channel
 * whose exchange times do not go back, so no update at or before `atNs` is left out.
 *
 * Throws (naming the stream) when the dataset has no such stream, or `atNs` is before the stream's first
 * exch_ts or after its last one.
 */
export function bookAt(dir: string, exchange: string, symbol: string, atNs: bigint, depth = 10): BookAt {
  if (!Number.isInteger(depth) || depth < 1) throw new Error(`depth must be a positive integer, got ${depth}`);
  const ds = openDataset(dir);
  const s = ds.findStream(exchange, symbol);
  const st = ds.streams[s]!;
  const label = streamLabel(st);
  const builder = new BookBuilder(ds.streams.length);
  const at = Number(atNs - ds.originNs);
  let minExch = Infinity;
  let maxExch = -Infinity;
  let bookRowsRead = 0;
  let last: BookAt['last_update'] = null;
  let lastComplete = true;
  let invalidWhy = 'no snapshot of this stream at or before this time';
  let stopped = false;
  let rowBase = 0;

  const rememberLast = (b: EventBatch, i: number) => {
    last = {
      id: b.id[i]!.toString(),
      row: rowBase + i,
      exch_ts_ns: b.exchTs[i]!.toString(),
      exch_ts: formatTimeNs(b.exchTs[i]!),
      local_ts_ns: b.localTs[i]!.toString(),
      local_ts: formatTimeNs(b.localTs[i]!),
    };
  };

  try {
    ds.forEachEventBatch((b) => {
      const n = b.length;
      let lastIdx = -1;
      for (let i = 0; i < n; i++) {
        if (b.stream[i] !== s) continue;
        const e = b.exchNs[i]!;
        if (e < minExch) minExch = e;
        if (e > maxExch) maxExch = e;
        const kind = b.kind[i]!;
        const isBook = kind === EventKind.BookLevel || kind === EventKind.BookSnapshot;
        const isMarker = kind === EventKind.Gap || kind === EventKind.Disconnect;
        if (!isBook && !isMarker) continue;
        if (e > at) {
          stopped = true;
          if (lastIdx >= 0) rememberLast(b, lastIdx);
          throw new StopScan();
        }
        builder.apply(b, i);
        if (isBook) {
          bookRowsRead++;
          lastIdx = i;
          lastComplete = (b.flags[i]! & Flag.MessageEnd) !== 0;
          if (kind === EventKind.BookSnapshot && b.flags[i]! & Flag.SnapshotBegin) {
            invalidWhy = `the snapshot begun at exchange time ${formatTimeNs(b.exchTs[i]!)} (row ${rowBase + i}) is incomplete at this time`;
          }
        } else {
          const what = kind === EventKind.Gap ? `gap marker (${GAP_REASON_NAMES[b.size[i]!] ?? `reason ${b.size[i]}`})` : 'disconnect marker';
          invalidWhy = `${what} at exchange time ${formatTimeNs(b.exchTs[i]!)} (row ${rowBase + i}), and no snapshot after it up to this time`;
        }
      }
      if (lastIdx >= 0) rememberLast(b, lastIdx);
      rowBase += n;
    });
  } catch (e) {
    if (!(e instanceof StopScan)) throw e;
  }

  if (minExch === Infinity) throw new Error(`stream ${label} has no events in ${dir}`);
  if (at < minExch) {
    throw new Error(
      `${formatTimeNs(atNs)} is before the first event of stream ${label} (exchange time ${isoText(ds, minExch)}) in ${dir}`,
    );
  }
  if (!stopped && at > maxExch) {
    throw new Error(
      `${formatTimeNs(atNs)} is after the last event of stream ${label} (exchange time ${isoText(ds, maxExch)}) in ${dir}`,
    );
  }

  const book = builder.book(s);
  const valid = builder.isValid(s);
  const invalidReason = valid ? null : invalidWhy;
  const bb = book.bestBid();
  const ba = book.bestAsk();
  const both = !Number.isNaN(bb) && !Number.isNaN(ba);
  // Spread and mid rounded to the prices' own decimals (+1 for the mid), so float noise does not show.
  const dec = both ? Math.max(decimals(bb), decimals(ba)) : 0;
  return {
    dir,
    stream: s,
    exchange: st.exchange,
    market: st.market,
    symbol: st.symbol,
    at_ns: atNs.toString(),
    at: formatTimeNs(atNs),
    valid,
    invalid_reason: invalidReason,
    message_complete: lastComplete,
    crossed: book.isCrossed(),
    best_bid: Number.isNaN(bb) ? null : bb,
    best_ask: Number.isNaN(ba) ? null : ba,
    spread: both ? +(ba - bb).toFixed(dec) : null,
    mid: both ? +((ba + bb) / 2).toFixed(dec + 1) : null,
    bid_levels: book.bids.count,
    ask_levels: book.asks.count,
    depth,
    bids: levelsOf(book, 'bids', depth),
    asks: levelsOf(book, 'asks', depth),
    last_update: last,
    book_rows_read: bookRowsRead,
    problems: [...ds.problems],
  };
}

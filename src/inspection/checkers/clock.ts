// Feed latency and clock offset: local - exchange time at each message end, per stream, per (stream, kind) and
// per exchange. The minimum over an exchange is its clock offset (negative: the local clock is behind); the
// latency after removing it is what the feed really took, up to the fastest message.
import { ClockModelBuilder, measuresClock } from '../../data/clock-model.js';
import { Histogram, type PercentileSummary } from '../../data/histogram.js';
import type { EventBatch } from '../../data/reader.js';
import { EventKind, Flag } from '../../data/types.js';
import { TRACKED_KINDS, type Checker } from '../checker.js';
import { kindName, round3, type DatasetHead } from '../format.js';

/** |clock offset| above this (ms) gets a plain-language note. */
const OFFSET_NOTE_MS = 50;

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

/**
 * The recorder's clock model (src/data/clock-model.ts), the one `--feed-latency recorded` removes: one for the
 * dataset (one recorder), estimated over every stream's measuring rows against their publish time.
 */
export interface RecorderClock {
  /** The exchange clock compared: publish_ts, or exch_ts for a dataset without that column. */
  basis: 'publish_ts' | 'exch_ts';
  /** Rows measured; windows (knots) of window_s seconds of local time that had any. */
  samples: number;
  window_s: number;
  windows: number;
  /** The model's offset (local - exchange clock) at its first and last knot, and its range, ms. */
  offset_first_ms: number | null;
  offset_last_ms: number | null;
  offset_min_ms: number | null;
  offset_max_ms: number | null;
  /** Least-squares slope of the knots: how much the offset changes per hour of local time, ms. */
  drift_ms_per_hour: number | null;
}

export interface ClockReport {
  /** Per stream: all kinds, and by kind name. */
  latency_ms: (LatencySummaryMs & { by_kind: Record<string, LatencySummaryMs> })[];
  exchanges: ExchangeClock[];
  recorder_clock: RecorderClock;
  /** One per exchange whose clock is off by more than OFFSET_NOTE_MS, then one for the recorder's clock model. */
  notes: string[];
}

const K = TRACKED_KINDS;
/** Kinds whose message ends are latency samples. */
const LATENCY_KINDS = (1 << EventKind.Trade) | (1 << EventKind.BookLevel) | (1 << EventKind.BookSnapshot) | (1 << EventKind.BestBidOffer);
/** Rows whose exch_ts is not the time the exchange sent them. */
const NOT_MEASURED = Flag.NoExchangeTime | Flag.Buffered | Flag.FromRest;

export class ClockChecker implements Checker<ClockReport> {
  private readonly n: number;
  private readonly exchangeNames: string[];
  private readonly latency: LatencyCollector;
  private readonly model = new ClockModelBuilder();
  private modelSamples = 0;
  private publishTsSeen = false;

  constructor(private readonly ds: DatasetHead) {
    this.n = ds.streams.length;
    this.exchangeNames = [...new Set(ds.streams.map((st) => st.exchange))];
    this.latency = new LatencyCollector(
      Int32Array.from(ds.streams, (st) => this.exchangeNames.indexOf(st.exchange)),
      this.exchangeNames.length,
      K,
    );
  }

  onRow(b: EventBatch, i: number): void {
    const s = b.stream[i]!;
    const kind = b.kind[i]!;
    const flags = b.flags[i]!;
    if (s < this.n && measuresClock(kind, flags)) {
      this.model.add(b.localNs[i]!, b.pubNs[i]!);
      this.modelSamples++;
      if (b.hasPublishTs) this.publishTsSeen = true;
    }
    if (s >= this.n || kind >= K || (flags & Flag.MessageEnd) === 0 || ((LATENCY_KINDS >> kind) & 1) === 0 || (flags & NOT_MEASURED) !== 0) return;
    this.latency.add(s, kind, (b.localNs[i]! - b.exchNs[i]!) / 1e6);
  }

  finish(): ClockReport {
    const lat = this.latency;
    lat.finish();
    const latencyMs = this.ds.streams.map((_, s) => {
      const byKind: Record<string, LatencySummaryMs> = {};
      for (let k = 0; k < K; k++) {
        const h = lat.perKind[s * K + k];
        if (h) byKind[kindName(k)] = latencySummary(h);
      }
      return { ...latencySummary(lat.perStream[s]), by_kind: byKind };
    });
    const notes: string[] = [];
    const exchanges = this.exchangeNames.map((ex, e): ExchangeClock => {
      const idx = this.ds.streams.map((st, s) => (st.exchange === ex ? s : -1)).filter((s) => s >= 0);
      const h = new Histogram(lat.originOf(e));
      for (const s of idx) if (lat.perStream[s]) h.merge(lat.perStream[s]!);
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
      return {
        exchange: ex,
        streams: idx,
        clock_offset_ms: h.count > 0 ? round3(offset) : null,
        local_clock: side,
        note,
        latency_ms: latencySummary(h),
        latency_after_offset_ms: latencySummary(h, h.count > 0 ? offset : 0),
      };
    });
    const m = this.model.finish();
    const k = m.knots;
    let lo = Infinity;
    let hi = -Infinity;
    for (let j = 0; j < k; j++) {
      lo = Math.min(lo, m.offsetNs[j]!);
      hi = Math.max(hi, m.offsetNs[j]!);
    }
    const ms = (x: number) => (k > 0 ? round3(x / 1e6) : null);
    const recorder: RecorderClock = {
      basis: this.publishTsSeen ? 'publish_ts' : 'exch_ts',
      samples: this.modelSamples,
      window_s: m.windowNs / 1e9,
      windows: k,
      offset_first_ms: ms(m.offsetNs[0] ?? 0),
      offset_last_ms: ms(m.offsetNs[k - 1] ?? 0),
      offset_min_ms: ms(lo),
      offset_max_ms: ms(hi),
      drift_ms_per_hour: ms(m.driftNsPerHour),
    };
    if (k > 0) notes.push(`recorder clock (one model for all streams, against ${recorder.basis}): ${m.describe()}`);
    return { latency_ms: latencyMs, exchanges, recorder_clock: recorder, notes };
  }
}

// A fixed-bucket histogram for percentiles in bounded memory, for values of either sign (latencies
// measured across two clocks can be negative).
//
// Values are stored relative to an `origin` chosen by the caller: resolution is relative to |value - origin|,
// so an origin near the bulk of the values (for feed latencies: the clock offset) gives fine resolution where
// it matters. Buckets are log-spaced: |d| = |value - origin| in [MIN_ABS, MAX_ABS) falls into bucket
// floor(log(|d| / MIN_ABS) / log(RATIO)) of its sign's half, smaller magnitudes into one "zero" bucket,
// larger ones into an overflow bucket per sign. In milliseconds this spans 1 us to 2.8 hours in 9,237
// buckets (148 KB per histogram).
//
// Each bucket keeps a count and the sum of its values, so a percentile is reported as the mean of the values
// in the bucket holding that rank: exact when they are all equal, and never more than one bucket width
// (RATIO - 1 = 0.5 % of |value - origin|) off otherwise. min, max, count and mean are exact.

/** Magnitudes below this (in the histogram's unit) share the zero bucket. */
const MIN_ABS = 1e-3;
/** Magnitudes at or above this go to the overflow bucket of their sign. */
const MAX_ABS = 1e7;
/** Width of one bucket as a ratio of its upper to its lower edge. */
const RATIO = 1.005;
const LOG_RATIO = Math.log(RATIO);
/** Log buckets per sign. */
const HALF = Math.ceil(Math.log(MAX_ABS / MIN_ABS) / LOG_RATIO);
// Layout: [neg overflow][neg buckets, largest magnitude first][zero][pos buckets][pos overflow]
const ZERO = HALF + 1;
const SIZE = 2 * HALF + 3;

export interface PercentileSummary {
  count: number;
  min: number;
  max: number;
  mean: number;
  p50: number;
  p90: number;
  p99: number;
}

export class Histogram {
  private readonly counts = new Float64Array(SIZE);
  /** Sums of (value - origin) per bucket. */
  private readonly sums = new Float64Array(SIZE);
  count = 0;
  min = Infinity;
  max = -Infinity;
  /** Sum of (value - origin). */
  private sumD = 0;

  constructor(readonly origin = 0) {}

  add(v: number): void {
    if (v !== v) return; // NaN
    const d = v - this.origin;
    const a = d < 0 ? -d : d;
    let b: number;
    if (a < MIN_ABS) b = ZERO;
    else if (a >= MAX_ABS) b = d < 0 ? 0 : SIZE - 1;
    else {
      let k = Math.floor(Math.log(a / MIN_ABS) / LOG_RATIO);
      if (k >= HALF) k = HALF - 1;
      b = d < 0 ? ZERO - 1 - k : ZERO + 1 + k;
    }
    this.counts[b]!++;
    this.sums[b]! += d;
    this.count++;
    this.sumD += d;
    if (v < this.min) this.min = v;
    if (v > this.max) this.max = v;
  }

  /** Adds another histogram's values to this one (both must have the same origin). */
  merge(o: Histogram): void {
    if (o.origin !== this.origin) throw new Error(`cannot merge histograms with origins ${o.origin} and ${this.origin}`);
    for (let i = 0; i < SIZE; i++) {
      this.counts[i]! += o.counts[i]!;
      this.sums[i]! += o.sums[i]!;
    }
    this.count += o.count;
    this.sumD += o.sumD;
    if (o.min < this.min) this.min = o.min;
    if (o.max > this.max) this.max = o.max;
  }

  /**
   * Nearest-rank percentile (p in [0, 100]): the value of rank ceil(p/100 * count) in sorted order, as the mean
   * of its bucket (clamped to [min, max]). NaN when empty.
   */
  percentile(p: number): number {
    if (this.count === 0) return NaN;
    const rank = Math.max(1, Math.ceil((p / 100) * this.count));
    if (rank >= this.count) return this.max;
    let seen = 0;
    for (let i = 0; i < SIZE; i++) {
      const c = this.counts[i]!;
      if (c === 0) continue;
      seen += c;
      if (seen >= rank) {
        if (i === 0) return this.min;
        if (i === SIZE - 1) return this.max;
        const m = this.origin + this.sums[i]! / c;
        return m < this.min ? this.min : m > this.max ? this.max : m;
      }
    }
    return this.max;
  }

  summary(): PercentileSummary {
    return {
      count: this.count,
      min: this.count ? this.min : NaN,
      max: this.count ? this.max : NaN,
      mean: this.count ? this.origin + this.sumD / this.count : NaN,
      p50: this.percentile(50),
      p90: this.percentile(90),
      p99: this.percentile(99),
    };
  }
}

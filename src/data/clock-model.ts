// The recorder's clock against the exchanges' clocks: one model per recorder (one dataset = one recorder).
//
// local - publish time = clock offset (recorder clock minus exchange clock, drifting) + the message's delay.
// The delay is never negative and its floor is the fastest path from the exchange to the recorder, so the
// offset is the lower envelope of local - publish time. The estimate (docs/replay.md, "Recorder clock"):
//   1. per window of WINDOW local-time ns (10 s), the minimum of local - publish time over every stream's
//      measuring rows;
//   2. each window's knot, at the window's centre, is the minimum of its own and its two neighbours' minima
//      (a rolling minimum over 30 s: a quiet window where no message came fast does not lift the envelope;
//      the price is a bias of at most one window's drift, toward a smaller offset = a later delivery);
//   3. the offset at a local time is the straight line between the two knots around it (constant before the
//      first knot and after the last). Knots are WINDOW apart, and a segment's slope is capped below 1 so that
//      local - offset(local) never decreases: every stream corrected by the same model keeps its receive order.
// Drift per hour is the least-squares slope of the knots.
//
// Rows that measure: trades, book rows and BBO rows with an exchange time, applied when received
// (measuresClock). Times are float64 ns relative to the dataset origin (exact below 2^53 ns, 104 days).

import { EventKind, Flag } from './types.js';

export const CLOCK_WINDOW_NS = 10e9;

/** Kinds whose rows carry the time a message left the exchange (gap and connection markers do not). */
const MEASURED_KINDS = (1 << EventKind.Trade) | (1 << EventKind.BookLevel) | (1 << EventKind.BookSnapshot) | (1 << EventKind.BestBidOffer);
/** Rows whose local time is not when the exchange's message arrived, or that carry no exchange time. */
const UNMEASURED_FLAGS = Flag.NoExchangeTime | Flag.Buffered | Flag.FromRest;

/** Whether a row measures the recorder's clock: market data received as sent, with an exchange time. */
export function measuresClock(kind: number, flags: number): boolean {
  return ((MEASURED_KINDS >> kind) & 1) === 1 && (flags & UNMEASURED_FLAGS) === 0;
}
/** Largest |slope| of a segment of the offset line (ns of offset per ns of local time). */
const MAX_SLOPE = 0.5;
const NS_PER_HOUR = 3.6e12;

export class ClockModel {
  /** Knot times (local ns since origin, increasing) and offsets (local - exchange clock, ns). */
  readonly knotNs: Float64Array;
  readonly offsetNs: Float64Array;
  /** Least-squares slope of the knots, ns of offset per hour of local time (0 with fewer than 2 knots). */
  readonly driftNsPerHour: number;

  constructor(
    knotNs: Float64Array,
    offsetNs: Float64Array,
    readonly windowNs: number = CLOCK_WINDOW_NS,
  ) {
    if (knotNs.length !== offsetNs.length) throw new Error('clock model: knot times and offsets differ in length');
    this.knotNs = knotNs;
    this.offsetNs = offsetNs;
    for (let i = 1; i < knotNs.length; i++) {
      const dt = knotNs[i]! - knotNs[i - 1]!;
      if (!(dt > 0)) throw new Error('clock model: knot times must increase');
      const max = offsetNs[i - 1]! + MAX_SLOPE * dt;
      const min = offsetNs[i - 1]! - MAX_SLOPE * dt;
      if (offsetNs[i]! > max) offsetNs[i] = max;
      else if (offsetNs[i]! < min) offsetNs[i] = min;
    }
    this.driftNsPerHour = leastSquaresSlope(knotNs, offsetNs) * NS_PER_HOUR;
  }

  /** The same offset at every time (a model for data without exchange times, or a given offset). */
  static constant(offsetNs: number): ClockModel {
    return new ClockModel(Float64Array.of(0), Float64Array.of(offsetNs));
  }

  get knots(): number {
    return this.knotNs.length;
  }

  /** The offset at local time `localNs` (0 for a model without knots). No allocation. */
  offsetAt(localNs: number): number {
    const t = this.knotNs;
    const o = this.offsetNs;
    const n = t.length;
    if (n === 0) return 0;
    if (localNs <= t[0]!) return o[0]!;
    if (localNs >= t[n - 1]!) return o[n - 1]!;
    let lo = 0;
    let hi = n - 1;
    while (hi - lo > 1) {
      const mid = (lo + hi) >> 1;
      if (t[mid]! <= localNs) lo = mid;
      else hi = mid;
    }
    const t0 = t[lo]!;
    return o[lo]! + ((o[hi]! - o[lo]!) * (localNs - t0)) / (t[hi]! - t0);
  }

  /** When a row received at `localNs` left the exchange by the exchange's clock: local - offset(local). */
  toExchangeNs(localNs: number): number {
    return localNs - this.offsetAt(localNs);
  }

  /** "offset -1276.160 ms → -1271.950 ms, drift +0.42 ms/h (36 windows of 10 s)" */
  describe(): string {
    const n = this.knots;
    if (n === 0) return 'no clock model (no row carries an exchange time)';
    const ms = (x: number) => `${(x / 1e6).toFixed(3)} ms`;
    const drift = this.driftNsPerHour / 1e6;
    return `offset ${ms(this.offsetNs[0]!)} → ${ms(this.offsetNs[n - 1]!)}, drift ${drift >= 0 ? '+' : ''}${drift.toFixed(2)} ms/h (${n} window${n === 1 ? '' : 's'} of ${this.windowNs / 1e9} s)`;
  }
}

function leastSquaresSlope(x: Float64Array, y: Float64Array): number {
  const n = x.length;
  if (n < 2) return 0;
  let mx = 0;
  let my = 0;
  for (let i = 0; i < n; i++) {
    mx += x[i]!;
    my += y[i]!;
  }
  mx /= n;
  my /= n;
  let sxy = 0;
  let sxx = 0;
  for (let i = 0; i < n; i++) {
    const dx = x[i]! - mx;
    sxy += dx * (y[i]! - my);
    sxx += dx * dx;
  }
  return sxx > 0 ? sxy / sxx : 0;
}

/** Collects local - publish time per window; add() allocates only when the span grows past its arrays. */
export class ClockModelBuilder {
  private min = new Float64Array(64).fill(Infinity);
  private used = 0;

  constructor(readonly windowNs: number = CLOCK_WINDOW_NS) {
    if (!(windowNs > 0)) throw new Error(`clock model window must be > 0 ns, got ${windowNs}`);
  }

  /** One row received at `localNs` that the exchange published at `publishNs` (both ns since the origin, >= 0). */
  add(localNs: number, publishNs: number): void {
    const k = Math.floor(localNs / this.windowNs);
    if (k < 0) return;
    if (k >= this.min.length) {
      const grown = new Float64Array(Math.max(k + 1, this.min.length * 2)).fill(Infinity);
      grown.set(this.min);
      this.min = grown;
    }
    const d = localNs - publishNs;
    if (d < this.min[k]!) this.min[k] = d;
    if (k + 1 > this.used) this.used = k + 1;
  }

  finish(): ClockModel {
    const m = this.min;
    const W = this.windowNs;
    const t: number[] = [];
    const o: number[] = [];
    for (let k = 0; k < this.used; k++) {
      if (m[k] === Infinity) continue;
      let v = m[k]!;
      if (k > 0 && m[k - 1]! < v) v = m[k - 1]!;
      if (k + 1 < this.used && m[k + 1]! < v) v = m[k + 1]!;
      t.push((k + 0.5) * W);
      o.push(v);
    }
    return new ClockModel(Float64Array.from(t), Float64Array.from(o), W);
  }
}

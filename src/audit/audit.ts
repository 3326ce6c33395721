// latencylab audit: every fill of a run checked against the recorded tape and the real-time BBO of the
// dataset. docs/audit.md states the rules; this file implements them.
import type { Dataset } from '../data/reader.js';
import { EventKind, Flag } from '../data/types.js';
import { COARSEST_RESOLUTION_NS, hasOwnExchangeTime, narrowResolution } from '../data/time-resolution.js';
import { ClockModelBuilder, measuresClock, type ClockModel } from '../data/clock-model.js';

/** One fill as the audit needs it; times in ns relative to the dataset's origin (EventBatch.exchNs). */
export interface AuditFill {
  venue: number;
  side: number; // 1 buy, -1 sell
  price: number;
  size: number;
  maker: boolean;
  exchNs: number;
  /** When the fill's order arrived at the exchange (its maker window starts here). */
  orderArrivedNs: number;
  /** Exchange-side mid `markout` after the fill (NaN when unknown): the fill's PnL is side·size·(midAfter − price). */
  midAfter: number;
}

export interface AuditVenue {
  exchange: string;
  symbol: string;
}

export interface AuditExample {
  fill: number;
  side: 'buy' | 'sell';
  price: number;
  size: number;
  exch_ns: number;
  /** Taker: the quote's price on the fill's side before and after it. Maker: the order's arrival. */
  before?: number;
  after?: number;
  before_ns?: number;
  after_ns?: number;
  order_arrived_ns?: number;
  pnl: number;
}

export interface VenueAudit {
  venue: string;
  /** Power of ten dividing every exchange time of the venue's market rows (the maker window's tolerance). */
  resolution_ns: number;
  bbo_rows: number;
  taker_fills: number;
  /** Taker fills that could be checked: a BBO before and after them. */
  taker_checked: number;
  questionable_taker: number;
  questionable_taker_share: number;
  questionable_taker_pnl: number;
  maker_fills: number;
  unsupported_maker: number;
  unsupported_maker_share: number;
  unsupported_maker_pnl: number;
  /** Fills whose markout mid is unknown: counted, their PnL taken as 0. */
  pnl_unknown: number;
  taker_examples: AuditExample[];
  maker_examples: AuditExample[];
}

export interface AuditReport {
  /** The recorder's clock (src/data/clock-model.ts, the model `--feed-latency recorded` and `dataset check`
   *  use): BBO rows without an exchange time are placed at local − offset(local). Null without any exchange time. */
  recorder_clock: string | null;
  venues: VenueAudit[];
  fills: number;
  questionable_taker: number;
  unsupported_maker: number;
  /** Sum of the PnL of the flagged fills (both kinds). */
  flagged_pnl: number;
  /** Sum of the PnL of all fills, marked the same way. */
  total_pnl: number;
}

/** Growable float64 column. */
class Col {
  a = new Float64Array(1024);
  n = 0;
  push(x: number): void {
    if (this.n === this.a.length) {
      const b = new Float64Array(this.a.length * 2);
      b.set(this.a);
      this.a = b;
    }
    this.a[this.n++] = x;
  }
}

interface Tape {
  bboT: Col;
  bid: Col;
  ask: Col;
  tradeT: Col;
  tradePx: Col;
  noExch: Col; // 1 when the BBO row had no exchange time of its own (time = local − offset(local))
  /** Whether the venue has a row with an exchange time of its own (else its resolution is unknown). */
  timed: boolean;
  resolution: number;
}

/** Indices 0..n-1 sorted by t (stable: equal times keep file order). */
function order(t: Float64Array, n: number): Uint32Array {
  const idx = new Uint32Array(n);
  for (let i = 0; i < n; i++) idx[i] = i;
  return idx.sort((x, y) => t[x]! - t[y]! || x - y);
}

function gather(idx: Uint32Array, a: Float64Array): Float64Array {
  const out = new Float64Array(idx.length);
  for (let i = 0; i < idx.length; i++) out[i] = a[idx[i]!]!;
  return out;
}

/** First index with t[i] > x (t ascending). */
function upper(t: Float64Array, x: number): number {
  let lo = 0;
  let hi = t.length;
  while (lo < hi) {
    const m = (lo + hi) >>> 1;
    if (t[m]! <= x) lo = m + 1;
    else hi = m;
  }
  return lo;
}

/** First index with t[i] >= x. */
function lower(t: Float64Array, x: number): number {
  let lo = 0;
  let hi = t.length;
  while (lo < hi) {
    const m = (lo + hi) >>> 1;
    if (t[m]! < x) lo = m + 1;
    else hi = m;
  }
  return lo;
}

/**
 * Audits `fills` (any order) of a run over `venues` of `ds`. Reads the events table twice, batch by batch
 * (typed arrays): first the recorder's clock (one model over every stream of the dataset, as the replay
 * estimates it) and each venue's resolution, then the venue's trades and BBO rows.
 */
export function auditRun(ds: Dataset, venues: readonly AuditVenue[], fills: readonly AuditFill[], maxExamples = 5): AuditReport {
  const streamOf = new Int32Array(ds.streams.length).fill(-1);
  venues.forEach((v, i) => {
    streamOf[ds.findStream(v.exchange, v.symbol)] = i;
  });
  const tapes: Tape[] = venues.map(() => ({
    bboT: new Col(),
    bid: new Col(),
    ask: new Col(),
    tradeT: new Col(),
    tradePx: new Col(),
    noExch: new Col(),
    timed: false,
    resolution: COARSEST_RESOLUTION_NS,
  }));
  // Pass 1: the recorder's clock over every stream (market-data.ts does the same for a run), and the
  // resolution of each venue's own exchange times.
  const builder = new ClockModelBuilder();
  ds.forEachEventBatch((b) => {
    for (let i = 0; i < b.length; i++) {
      if (measuresClock(b.kind[i]!, b.flags[i]!)) builder.add(b.localNs[i]!, b.pubNs[i]!);
      const v = streamOf[b.stream[i]!]!;
      if (v < 0) continue;
      if (!hasOwnExchangeTime(b.kind[i]!, b.flags[i]!)) continue;
      const tape = tapes[v]!;
      tape.timed = true;
      tape.resolution = narrowResolution(tape.resolution, b.exchNs[i]!);
    }
  });
  const clock: ClockModel = builder.finish();
  // Pass 2: trades (exchange time) and BBO pairs (bid row then ask row, same id).
  ds.forEachEventBatch((b) => {
    for (let i = 0; i < b.length; i++) {
      const v = streamOf[b.stream[i]!]!;
      if (v < 0) continue;
      const k = b.kind[i]!;
      const tape = tapes[v]!;
      if (k === EventKind.Trade) {
        tape.tradeT.push(b.exchNs[i]!);
        tape.tradePx.push(b.price[i]!);
      } else if (k === EventKind.BestBidOffer && b.side[i]! === -1 && tape.bid.n === tape.ask.n + 1) {
        tape.ask.push(b.price[i]!);
      } else if (k === EventKind.BestBidOffer && b.side[i]! === 1) {
        if (tape.bid.n !== tape.ask.n) tape.bid.n = tape.ask.n; // a bid row without its ask: drop it
        const noExch = (b.flags[i]! & Flag.NoExchangeTime) !== 0;
        if (noExch && clock.knots === 0) continue; // no clock to place it with
        tape.bboT.push(noExch ? clock.toExchangeNs(b.localNs[i]!) : b.exchNs[i]!);
        tape.bid.push(b.price[i]!);
        tape.noExch.push(noExch ? 1 : 0);
      }
    }
  });
  const report: AuditReport = { recorder_clock: clock.knots > 0 ? clock.describe() : null, venues: [], fills: fills.length, questionable_taker: 0, unsupported_maker: 0, flagged_pnl: 0, total_pnl: 0 };
  venues.forEach((venue, v) => {
    const tape = tapes[v]!;
    const nBbo = Math.min(tape.bid.n, tape.ask.n);
    const bIdx = order(tape.bboT.a, nBbo);
    const bT = gather(bIdx, tape.bboT.a);
    const bBid = gather(bIdx, tape.bid.a);
    const bAsk = gather(bIdx, tape.ask.a);
    const tIdx = order(tape.tradeT.a, tape.tradeT.n);
    const tT = gather(tIdx, tape.tradeT.a);
    const tPx = gather(tIdx, tape.tradePx.a);
    const resolution = tape.timed ? tape.resolution : 1;
    const out: VenueAudit = {
      venue: `${venue.exchange} ${venue.symbol}`,
      resolution_ns: resolution,
      bbo_rows: nBbo,
      taker_fills: 0,
      taker_checked: 0,
      questionable_taker: 0,
      questionable_taker_share: 0,
      questionable_taker_pnl: 0,
      maker_fills: 0,
      unsupported_maker: 0,
      unsupported_maker_share: 0,
      unsupported_maker_pnl: 0,
      pnl_unknown: 0,
      taker_examples: [],
      maker_examples: [],
    };
    fills.forEach((f, n) => {
      if (f.venue !== v) return;
      const known = Number.isFinite(f.midAfter);
      const pnl = known ? f.side * f.size * (f.midAfter - f.price) : 0;
      if (!known) out.pnl_unknown++;
      report.total_pnl += pnl;
      const side = f.side > 0 ? 'buy' : 'sell';
      if (!f.maker) {
        out.taker_fills++;
        const after = upper(bT, f.exchNs); // first BBO strictly after the fill
        const before = after - 1; // latest BBO at or before it
        if (before < 0 || after >= nBbo) return;
        out.taker_checked++;
        // A buy paid p: wrong when the best ask was above p before and after; a sell, when the best bid was below p.
        const gone = f.side > 0 ? bAsk[before]! > f.price && bAsk[after]! > f.price : bBid[before]! < f.price && bBid[after]! < f.price;
        if (!gone) return;
        out.questionable_taker++;
        out.questionable_taker_pnl += pnl;
        if (out.taker_examples.length < maxExamples) {
          const q = f.side > 0 ? bAsk : bBid;
          out.taker_examples.push({ fill: n, side, price: f.price, size: f.size, exch_ns: f.exchNs, before: q[before]!, before_ns: bT[before]!, after: q[after]!, after_ns: bT[after]!, pnl });
        }
      } else {
        out.maker_fills++;
        const end = f.exchNs + resolution;
        let supported = false;
        // A print at or through the price (a buy at p: a trade at <= p), or a quote through it (ask <= p).
        for (let i = lower(tT, f.orderArrivedNs); i < tT.length && tT[i]! <= end && !supported; i++) {
          if (f.side > 0 ? tPx[i]! <= f.price : tPx[i]! >= f.price) supported = true;
        }
        for (let i = lower(bT, f.orderArrivedNs); i < nBbo && bT[i]! <= end && !supported; i++) {
          if (f.side > 0 ? bAsk[i]! <= f.price : bBid[i]! >= f.price) supported = true;
        }
        if (supported) return;
        out.unsupported_maker++;
        out.unsupported_maker_pnl += pnl;
        if (out.maker_examples.length < maxExamples) {
          out.maker_examples.push({ fill: n, side, price: f.price, size: f.size, exch_ns: f.exchNs, order_arrived_ns: f.orderArrivedNs, pnl });
        }
      }
    });
    out.questionable_taker_share = out.taker_fills ? out.questionable_taker / out.taker_fills : 0;
    out.unsupported_maker_share = out.maker_fills ? out.unsupported_maker / out.maker_fills : 0;
    report.questionable_taker += out.questionable_taker;
    report.unsupported_maker += out.unsupported_maker;
    report.flagged_pnl += out.questionable_taker_pnl + out.unsupported_maker_pnl;
    report.venues.push(out);
  });
  return report;
}

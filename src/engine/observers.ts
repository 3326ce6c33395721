// The engine's own measurements, which the strategy never sees: equity on a fixed exchange-time grid, and
// each fill's markout (the exchange-side mid a fixed time after it: adverse selection).
import type { StreamBook } from '../book/stream-book.js';
import { Account } from '../simulation/accounting.js';
import type { Fill } from '../simulation/types.js';
import { EventClass, type EventQueue } from './event-queue.js';
import type { FillRecord, Markout, QueueItem, VenueSetup } from './replay-types.js';

/**
 * PnL so far (quote currency; inverse venues converted at mid) on a fixed exchange-time grid, marked at the
 * exchange-side mid. The exchange timeline calls reach(t) when a row's time t is at or past `due[0]`.
 */
export class EquitySampler {
  /** The next grid time (-Infinity before the first exchange row: that row starts the grid). A typed array,
   *  read for every exchange row without a call. */
  readonly due = Float64Array.of(-Infinity);
  /** Time of the first exchange-side row (NaN before it). */
  firstNs = NaN;
  /** The last finite exchange-side mid per venue. */
  readonly lastMid: Float64Array;
  /** The starting holdings: PnL, not equity, is sampled, so a spot venue's initial coins valued at the same
   *  mid are taken out and the curve does not follow the market. */
  readonly initial: Account[];
  private readonly times: number[] = [];
  private readonly values: number[] = [];

  constructor(
    private readonly books: StreamBook[],
    private readonly accounts: Account[],
    private readonly venues: VenueSetup[],
    private readonly intervalNs: number,
  ) {
    this.lastMid = new Float64Array(venues.length).fill(NaN);
    this.initial = venues.map((s) => new Account(s.spec, s.initialBalances));
  }

  /** Exchange time has reached `t`: samples every grid time up to it. */
  reach(t: number): void {
    const due = this.due;
    if (Number.isNaN(this.firstNs)) {
      this.firstNs = t;
      due[0] = Math.ceil(t / this.intervalNs) * this.intervalNs;
    }
    while (t >= due[0]!) {
      this.sample(due[0]!);
      due[0] = due[0]! + this.intervalNs;
    }
  }

  /** Samples the PnL now, at time `t`. */
  sample(t: number): void {
    this.times.push(t);
    this.values.push(this.pnlNow());
  }

  private pnlNow(): number {
    let total = 0;
    for (let v = 0; v < this.books.length; v++) {
      const mid = this.books[v]!.book.mid();
      if (Number.isFinite(mid)) this.lastMid[v] = mid;
      const m = this.lastMid[v]!;
      if (!Number.isFinite(m)) continue;
      const e = this.accounts[v]!.equity(m) - this.initial[v]!.equity(m);
      total += this.venues[v]!.spec.kind === 'inverse' ? e * m : e;
    }
    return total;
  }

  curve(): { equityTimeNs: Float64Array; equity: Float64Array } {
    return { equityTimeNs: Float64Array.from(this.times), equity: Float64Array.from(this.values) };
  }
}

/** Each fill marked to the exchange-side mid at it and `horizonNs` later. */
export class Markouts {
  private readonly pending = new Map<Fill, Markout>();
  /** The markouts of the fills the strategy has seen, in the order it saw them. */
  private readonly seen: Markout[] = [];

  constructor(
    readonly horizonNs: number,
    private readonly queue: EventQueue<QueueItem>,
  ) {}

  /** The exchange made `fill` while its mid was `mid`: measure again `horizonNs` later. */
  onFill(venue: number, fill: Fill, mid: number): void {
    const m: Markout = { venue, midAtFill: mid, midAfter: NaN };
    this.pending.set(fill, m);
    this.queue.push(fill.exchangeTimeNs + this.horizonNs, EventClass.Markout, { markout: m });
  }

  /** The markout time of `m` has come and the venue's exchange-side mid is `mid`. */
  measure(m: Markout, mid: number): void {
    m.midAfter = mid;
  }

  /** The strategy learns of `fill`: its mid at the fill (the mid after is known later; see fillIn). */
  seenFill(fill: Fill): number {
    const m = this.pending.get(fill)!;
    this.pending.delete(fill);
    this.seen.push(m);
    return m.midAtFill;
  }

  /** After the run: copies each seen fill's later mid into its record (`fills` in the order seen). */
  fillIn(fills: FillRecord[]): void {
    fills.forEach((f, i) => (f.midAfter = this.seen[i]!.midAfter));
  }
}

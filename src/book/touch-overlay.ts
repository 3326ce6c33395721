// The real-time touch between depth messages (docs/matching.md, "Real-time touch"): a read-only overlay on an
// OrderBook that the exchange's best bid/offer (BBO) rows and trades constrain until the next depth message.
//
// - A BBO at bid b (ask a) means no bid above b (no ask below a) was there: those levels are hidden, and the
//   level at exactly b (a) shows at most the BBO's size (min of the depth size and the BBO size: the overlay
//   never adds liquidity the depth book does not show, conservative).
// - A sell print at p means every bid above p was gone (a buy print at p, every ask below p): the bound only
//   tightens, a BBO replaces it (the newest fact about the touch).
// - reset() (a depth message: the depth book is the truth again) drops every constraint.
// - A BBO better than every depth level (the depth book lags) adds no level, but quotePrice() tells matching
//   that an order at or through it would take: a post-only order there is rejected (docs/matching.md).
// The underlying book is never changed (a spot 100 ms diff need not repeat a level that came back).
// Allocation-free: the views hold numbers only.
import type { BookSide } from './order-book.js';
import type { BookSideView, BookSidesView } from './book-view.js';

/** One side of the overlay: the underlying side's levels not better than `bound`, the touch capped. */
export class TouchSideView implements BookSideView {
  /** Levels better than this price are hidden (bids: above it, asks: below it); ±Infinity = no bound. */
  private bound: number;
  /** The BBO's price and size (cap of the size there); NaN when no BBO constrains the side. */
  private capPrice = NaN;
  private capSize = 0;

  constructor(
    private readonly side: BookSide,
    /** +1 bids, -1 asks. */
    readonly dir: 1 | -1,
  ) {
    this.bound = dir > 0 ? Infinity : -Infinity;
  }

  /** Whether `price` is better than the bound (hidden). */
  private hidden(price: number): boolean {
    return this.dir > 0 ? price > this.bound : price < this.bound;
  }

  /** Whether any constraint is set (kept as a field: every read of the view tests it first). */
  active = false;

  /** The exchange's best price on this side is `price` with `size` there. */
  bbo(price: number, size: number): void {
    this.active = true;
    this.bound = price;
    this.capPrice = price;
    this.capSize = size;
  }

  /** A print at `price` consumed this (passive) side up to `price`. */
  print(price: number): void {
    if (this.hidden(price)) return;
    this.active = true;
    this.bound = price;
    if (this.capPrice !== price) this.capPrice = NaN;
  }

  reset(): void {
    this.active = false;
    this.bound = this.dir > 0 ? Infinity : -Infinity;
    this.capPrice = NaN;
  }

  /** Number of underlying top levels hidden by the bound (callers ask only while a constraint is set). */
  private skipped(): number {
    const side = this.side;
    const n = side.count;
    let k = 0;
    while (k < n && this.hidden(side.priceAt(k))) k++;
    return k;
  }

  // Reads go straight to the depth book while no constraint is set (most of the time: every depth message
  // resets the overlay), which keeps the replay's book reads as cheap as without it.
  get count(): number {
    return this.active ? this.side.count - this.skipped() : this.side.count;
  }

  priceAt(k: number): number {
    return this.active ? this.side.priceAt(k + this.skipped()) : this.side.priceAt(k);
  }

  sizeAt(k: number): number {
    if (!this.active) return this.side.sizeAt(k);
    const i = k + this.skipped();
    const size = this.side.sizeAt(i);
    return this.side.priceAt(i) === this.capPrice && this.capSize < size ? this.capSize : size;
  }

  sizeOf(price: number): number {
    if (this.hidden(price)) return 0;
    const size = this.side.sizeOf(price);
    return price === this.capPrice && this.capSize < size ? this.capSize : size;
  }

  bestPrice(): number {
    if (!this.active) return this.side.bestPrice();
    const k = this.skipped();
    return k < this.side.count ? this.side.priceAt(k) : NaN;
  }

  bestSize(): number {
    if (!this.active) return this.side.bestSize();
    return this.count > 0 ? this.sizeAt(0) : 0;
  }

  /** The BBO's price on this side since the last depth message (NaN: none, or a print went past it). */
  quotePrice(): number {
    return this.capPrice;
  }
}

/** Both sides of the overlay on `book`. */
export class TouchOverlay implements BookSidesView {
  readonly bids: TouchSideView;
  readonly asks: TouchSideView;

  constructor(book: { bids: BookSide; asks: BookSide }) {
    this.bids = new TouchSideView(book.bids, 1);
    this.asks = new TouchSideView(book.asks, -1);
  }

  /** A BBO row: side +1 bid, -1 ask. */
  bbo(side: number, price: number, size: number): void {
    (side > 0 ? this.bids : this.asks).bbo(price, size);
  }

  /** A trade: `aggressor` +1 buy (consumes asks up to `price`), -1 sell (consumes bids down to `price`). */
  print(aggressor: number, price: number): void {
    (aggressor > 0 ? this.asks : this.bids).print(price);
  }

  /** A depth message: the depth book is the truth again. Called for every depth row: a no-op unless a
   *  constraint is set, so the common case costs two field reads. */
  reset(): void {
    if (this.bids.active) this.bids.reset();
    if (this.asks.active) this.asks.reset();
  }
}

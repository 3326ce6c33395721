// What matching reads of one side of a book (src/simulation/matching.ts): BookSide implements it, and so does
// the real-time touch overlay (touch-overlay.ts) that the exchange side gives matching.

/** Read methods of one book side, best level first (k = 0). */
export interface BookSideView {
  /** Number of levels. */
  readonly count: number;
  /** The k-th level's price from the top (0 = best). */
  priceAt(k: number): number;
  /** The k-th level's size from the top (0 = best). */
  sizeAt(k: number): number;
  /** Size resting at exactly `price`, or 0. */
  sizeOf(price: number): number;
  /** Best price, or NaN when the side is empty. */
  bestPrice(): number;
  /**
   * The exchange's real-time best price on this side when a BBO row newer than the depth book gave one (the
   * touch overlay), else NaN. It may be better than any level shown (a BBO the depth book has not caught up
   * with): matching then knows an order at or through it would take, though it takes no size there.
   */
  quotePrice?(): number;
}

/** Both sides of a book as matching reads them. */
export interface BookSidesView {
  readonly bids: BookSideView;
  readonly asks: BookSideView;
}

// A price-level (L2) order book over typed arrays.
//
// Each side keeps its levels sorted so that the best price is at the END of the arrays: most updates
// touch the top of the book, and inserting or deleting near the end moves few elements.

export class BookSide {
  prices: Float64Array;
  sizes: Float64Array;
  count = 0;
  /** +1 for bids (ascending, best = highest = last), -1 for asks (descending, best = lowest = last). */
  constructor(readonly dir: 1 | -1, capacity = 256) {
    this.prices = new Float64Array(capacity);
    this.sizes = new Float64Array(capacity);
  }

  /** Index where `price` is or would be inserted (first position whose price is not "before" it). */
  private search(price: number): number {
    let lo = 0;
    let hi = this.count;
    const p = this.prices;
    if (this.dir === 1) {
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        if (p[mid]! < price) lo = mid + 1;
        else hi = mid;
      }
    } else {
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        if (p[mid]! > price) lo = mid + 1;
        else hi = mid;
      }
    }
    return lo;
  }

  /** Set a level's size; 0 deletes it (deleting a level that is not there is normal). Returns the previous size. */
  set(price: number, size: number): number {
    const n = this.count;
    // Fast path: the best level itself.
    const i = n > 0 && this.prices[n - 1] === price ? n - 1 : this.search(price);
    if (i < n && this.prices[i] === price) {
      const prev = this.sizes[i]!;
      if (size > 0) {
        this.sizes[i] = size;
      } else {
        this.prices.copyWithin(i, i + 1, n);
        this.sizes.copyWithin(i, i + 1, n);
        this.count = n - 1;
      }
      return prev;
    }
    if (size <= 0) return 0;
    if (n === this.prices.length) this.grow();
    this.prices.copyWithin(i + 1, i, n);
    this.sizes.copyWithin(i + 1, i, n);
    this.prices[i] = price;
    this.sizes[i] = size;
    this.count = n + 1;
    return 0;
  }

  private grow(): void {
    const np = new Float64Array(this.prices.length * 2);
    const ns = new Float64Array(this.sizes.length * 2);
    np.set(this.prices);
    ns.set(this.sizes);
    this.prices = np;
    this.sizes = ns;
  }

  clear(): void {
    this.count = 0;
  }

  /** Best price, or NaN if the side is empty. */
  bestPrice(): number {
    return this.count > 0 ? this.prices[this.count - 1]! : NaN;
  }

  bestSize(): number {
    return this.count > 0 ? this.sizes[this.count - 1]! : 0;
  }

  /** The k-th level from the top (0 = best). */
  priceAt(k: number): number {
    return this.prices[this.count - 1 - k]!;
  }

  sizeAt(k: number): number {
    return this.sizes[this.count - 1 - k]!;
  }

  /** Size resting at exactly `price`, or 0. */
  sizeOf(price: number): number {
    const i = this.search(price);
    return i < this.count && this.prices[i] === price ? this.sizes[i]! : 0;
  }

  /** Levels from the best outwards, as [price, size] pairs. */
  levels(depth = Infinity): [number, number][] {
    const out: [number, number][] = [];
    const n = Math.min(depth, this.count);
    for (let k = 0; k < n; k++) out.push([this.priceAt(k), this.sizeAt(k)]);
    return out;
  }
}

export class OrderBook {
  readonly bids = new BookSide(1);
  readonly asks = new BookSide(-1);

  /** side: +1 bid, -1 ask. Returns the level's previous size. */
  set(side: number, price: number, size: number): number {
    return (side > 0 ? this.bids : this.asks).set(price, size);
  }

  clear(): void {
    this.bids.clear();
    this.asks.clear();
  }

  bestBid(): number {
    return this.bids.bestPrice();
  }

  bestAsk(): number {
    return this.asks.bestPrice();
  }

  mid(): number {
    return (this.bids.bestPrice() + this.asks.bestPrice()) / 2;
  }

  /** Best bid at or above best ask. An empty side never crosses. */
  isCrossed(): boolean {
    return this.bids.count > 0 && this.asks.count > 0 && this.bids.bestPrice() >= this.asks.bestPrice();
  }
}

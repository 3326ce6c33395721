// A price-level (L2) order book with O(1) level updates.
//
// Prices are decimals on a grid (a tick), so each side indexes its levels by an integer key,
// round(price × 10^d), with d the fewest decimals that represent every price seen so far (it grows, and
// the side re-indexes, when a price needs more). Sizes live in pages of 4,096 consecutive keys, allocated on
// demand, so a book whose levels span a wide price range costs memory only where it has levels. The best
// level is tracked; when it empties, the next one is found by scanning towards worse prices.
//
// Keys grow towards the best level on both sides: bids use +key, asks −key. A side is therefore the same
// code for both, with "best" = the largest key.

const PAGE = 4096;
const MAX_DECIMALS = 12;
/** Keys must stay exact integers in a double. */
const MAX_KEY = 2 ** 52;

/** Whether `scaled` (price × 10^d) is the integer `k` up to the rounding of the multiplication. */
function onGrid(k: number, scaled: number): boolean {
  return Math.abs(k - scaled) <= Math.max(1e-7, Math.abs(k) * 1e-12);
}

/** The first position in ascending `xs` whose value is not below `x`. */
function lowerBound(xs: number[], x: number): number {
  let lo = 0;
  let hi = xs.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (xs[mid]! < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

interface Page {
  sizes: Float64Array;
  /** Levels with a size in this page. */
  count: number;
}

export class BookSide {
  /** Total number of levels. */
  count = 0;
  private scale = 1;
  private decimals = 0;
  private pages = new Map<number, Page>();
  /** Page indices that hold levels, ascending (kept sorted; few). */
  private pageOrder: number[] = [];
  private best = -Infinity;
  private lastPageIndex = NaN;
  private lastPage: Page | undefined;
  private freePages: Page[] = [];

  /** +1 for bids, -1 for asks. */
  constructor(readonly dir: 1 | -1) {}

  private keyOf(price: number): number {
    let k = Math.round(price * this.scale);
    if (!onGrid(k, price * this.scale)) {
      this.regrid(price);
      k = Math.round(price * this.scale);
    }
    return this.dir * k;
  }

  /** More decimals are needed for `price`: re-index every level on the finer grid. */
  private regrid(price: number): void {
    let d = this.decimals;
    while (d < MAX_DECIMALS) {
      d++;
      const s = 10 ** d;
      if (onGrid(Math.round(price * s), price * s)) break;
    }
    const s = 10 ** d;
    if (Math.abs(price) * s > MAX_KEY) throw new Error(`price ${price} needs ${d} decimals, more than an order book key holds`);
    const levels = this.levels();
    this.decimals = d;
    this.scale = s;
    this.clear();
    for (const [p, q] of levels) this.set(p, q);
  }

  private page(index: number, create: boolean): Page | undefined {
    if (index === this.lastPageIndex) return this.lastPage;
    let p = this.pages.get(index);
    if (!p && create) {
      // Empty pages are all zeros already: reuse them rather than churn the collector.
      p = this.freePages.pop() ?? { sizes: new Float64Array(PAGE), count: 0 };
      this.pages.set(index, p);
      // Binary insertion keeps pageOrder ascending.
      this.pageOrder.splice(lowerBound(this.pageOrder, index), 0, index);
    }
    if (p) {
      this.lastPageIndex = index;
      this.lastPage = p;
    }
    return p;
  }

  /** The level's size before the last set() or setAt(). */
  lastPrev = 0;
  private readonly argPrice = new Float64Array(1);
  private readonly argSize = new Float64Array(1);

  /** Set a level's size; 0 deletes it (deleting a level that is not there is normal). Returns the previous size. */
  set(price: number, size: number): number {
    this.argPrice[0] = price;
    this.argSize[0] = size;
    this.setAt(this.argPrice, this.argSize, 0);
    return this.lastPrev;
  }

  /**
   * set() for hot loops: the price and size are read from columns at row `i` and the previous size is left in
   * `lastPrev`, because doubles passed to or returned from a call V8 does not inline are boxed (allocated).
   */
  setAt(prices: Float64Array, sizes: Float64Array, i: number): void {
    const price = prices[i]!;
    const size = sizes[i]!;
    const key = this.keyOf(price);
    // Keys can exceed 32 bits: page arithmetic in doubles, not with >> and &.
    const index = Math.floor(key / PAGE);
    const off = key - index * PAGE;
    const p = this.page(index, size > 0);
    if (!p) {
      this.lastPrev = 0;
      return;
    }
    const prev = p.sizes[off]!;
    this.lastPrev = prev;
    if (size > 0) {
      p.sizes[off] = size;
      if (prev === 0) {
        p.count++;
        this.count++;
        this.gen++;
        if (key > this.best) this.best = key;
      }
      return;
    }
    if (prev === 0) return;
    p.sizes[off] = 0;
    p.count--;
    this.count--;
    this.gen++;
    if (p.count === 0) this.dropPage(index);
    if (key === this.best) this.best = this.nextBelow(key);
  }

  private dropPage(index: number): void {
    const p = this.pages.get(index);
    if (p && this.freePages.length < 64) this.freePages.push(p);
    this.pages.delete(index);
    this.pageOrder.splice(lowerBound(this.pageOrder, index), 1);
    if (this.lastPageIndex === index) {
      this.lastPageIndex = NaN;
      this.lastPage = undefined;
    }
  }

  /** The largest key below `key` that holds a level, or -Infinity. */
  private nextBelow(key: number): number {
    if (this.count === 0) return -Infinity;
    let index = Math.floor(key / PAGE);
    let off = key - index * PAGE - 1;
    let order = -1;
    for (;;) {
      const p = this.pages.get(index);
      if (p) {
        const s = p.sizes;
        for (; off >= 0; off--) if (s[off]! > 0) return index * PAGE + off;
      }
      // The next lower page that has levels.
      order = order < 0 ? lowerBound(this.pageOrder, index) - 1 : order - 1;
      if (order < 0) return -Infinity;
      index = this.pageOrder[order]!;
      off = PAGE - 1;
    }
  }

  clear(): void {
    for (const p of this.pages.values()) {
      if (this.freePages.length >= 64) break;
      p.sizes.fill(0);
      p.count = 0;
      this.freePages.push(p);
    }
    this.pages.clear();
    this.pageOrder.length = 0;
    this.count = 0;
    this.best = -Infinity;
    this.lastPageIndex = NaN;
    this.lastPage = undefined;
    this.gen++;
  }

  private priceOfKey(key: number): number {
    return (this.dir * key) / this.scale;
  }

  /** Best price, or NaN if the side is empty. */
  bestPrice(): number {
    return this.count > 0 ? this.priceOfKey(this.best) : NaN;
  }

  bestSize(): number {
    if (this.count === 0) return 0;
    return this.sizeOfKey(this.best);
  }

  private sizeOfKey(key: number): number {
    const index = Math.floor(key / PAGE);
    const p = this.pages.get(index);
    return p ? p.sizes[key - index * PAGE]! : 0;
  }

  /** Walk cache: the k-th level found last, so reading levels 0, 1, 2... in order stays linear.
   *  Valid while no level was inserted or deleted (`gen`). */
  private walkK = -1;
  private walkKey = 0;
  private walkGen = -1;
  private gen = 0;

  private keyAt(k: number): number {
    if (k < 0 || k >= this.count) throw new RangeError(`level ${k} of a side with ${this.count} levels`);
    let i = 0;
    let key = this.best;
    // Continue from the last walk when the side is unchanged and it stopped at or before k.
    if (this.walkGen === this.gen && this.walkK >= 0 && this.walkK <= k) {
      i = this.walkK;
      key = this.walkKey;
    }
    while (i < k) {
      key = this.nextBelow(key);
      i++;
    }
    this.walkK = k;
    this.walkKey = key;
    this.walkGen = this.gen;
    return key;
  }

  /** The k-th level from the top (0 = best). */
  priceAt(k: number): number {
    return this.priceOfKey(this.keyAt(k));
  }

  sizeAt(k: number): number {
    return this.sizeOfKey(this.keyAt(k));
  }

  /** Size resting at exactly `price`, or 0. */
  sizeOf(price: number): number {
    // A query never re-grids: a price off the current grid cannot be a level.
    const k = Math.round(price * this.scale);
    if (!onGrid(k, price * this.scale)) return 0;
    return this.sizeOfKey(this.dir * k);
  }

  /** Levels from the best outwards, as [price, size] pairs. */
  levels(depth = Infinity): [number, number][] {
    const out: [number, number][] = [];
    let key = this.best;
    while (out.length < depth && key !== -Infinity && out.length < this.count) {
      out.push([this.priceOfKey(key), this.sizeOfKey(key)]);
      key = this.nextBelow(key);
    }
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

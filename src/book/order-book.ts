// A price-level (L2) order book over typed arrays.
//
// Each side keeps its levels sorted in small blocks (at most BLOCK levels each), ordered so that the best
// price is at the END: most updates touch the top of the book, and an insert or delete only moves the
// levels of one block. Real books are deep (Binance diff streams keep ~5,000 levels a side and touch levels
// hundreds deep), so one flat sorted array would move hundreds of elements per update.
// Keys are dir * price, ascending: bids ascend by price, asks descend, and the best level is the largest key.

const BLOCK = 64;

export class BookSide {
  /** Total number of levels. */
  count = 0;
  private keys: Float64Array[] = [];
  private sizes: Float64Array[] = [];
  private lens: number[] = [];
  private spare: { k: Float64Array; s: Float64Array }[] = [];

  /** +1 for bids, -1 for asks. */
  constructor(readonly dir: 1 | -1) {}

  /** The block that holds (or would hold) `key`: the last block whose first key is <= key, else 0. */
  private blockOf(key: number): number {
    const n = this.keys.length;
    // Fast paths: the top block, then the block used last (one message's levels are close together).
    if (n === 0 || this.keys[n - 1]![0]! <= key) return n - 1;
    const h = this.hint;
    if (h < n - 1 && this.keys[h]![0]! <= key && this.keys[h + 1]![0]! > key) return h;
    let lo = 0;
    let hi = n - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >>> 1;
      if (this.keys[mid]![0]! <= key) lo = mid;
      else hi = mid - 1;
    }
    this.hint = lo;
    return lo;
  }
  private hint = 0;

  private static search(keys: Float64Array, len: number, key: number): number {
    let lo = 0;
    let hi = len;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (keys[mid]! < key) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  private newBlock(): { k: Float64Array; s: Float64Array } {
    return this.spare.pop() ?? { k: new Float64Array(BLOCK), s: new Float64Array(BLOCK) };
  }

  /** Set a level's size; 0 deletes it (deleting a level that is not there is normal). Returns the previous size. */
  set(price: number, size: number): number {
    const key = this.dir * price;
    if (this.keys.length === 0) {
      if (size <= 0) return 0;
      const b = this.newBlock();
      b.k[0] = key;
      b.s[0] = size;
      this.keys.push(b.k);
      this.sizes.push(b.s);
      this.lens.push(1);
      this.count = 1;
      return 0;
    }
    const bi = this.blockOf(key);
    const ks = this.keys[bi]!;
    const ss = this.sizes[bi]!;
    const len = this.lens[bi]!;
    const i = BookSide.search(ks, len, key);
    if (i < len && ks[i] === key) {
      const prev = ss[i]!;
      if (size > 0) {
        ss[i] = size;
        return prev;
      }
      // Plain loops: copyWithin's call overhead exceeds the work for a block this small.
      for (let j = i + 1; j < len; j++) {
        ks[j - 1] = ks[j]!;
        ss[j - 1] = ss[j]!;
      }
      this.lens[bi] = len - 1;
      this.count--;
      if (len === 1) {
        this.spare.push({ k: ks, s: ss });
        this.keys.splice(bi, 1);
        this.sizes.splice(bi, 1);
        this.lens.splice(bi, 1);
      }
      return prev;
    }
    if (size <= 0) return 0;
    if (len === BLOCK) {
      // Split the full block in two halves, then insert into the half that holds the key.
      const half = BLOCK >>> 1;
      const b = this.newBlock();
      b.k.set(ks.subarray(half, BLOCK));
      b.s.set(ss.subarray(half, BLOCK));
      this.lens[bi] = half;
      this.keys.splice(bi + 1, 0, b.k);
      this.sizes.splice(bi + 1, 0, b.s);
      this.lens.splice(bi + 1, 0, BLOCK - half);
      return this.set(price, size);
    }
    for (let j = len; j > i; j--) {
      ks[j] = ks[j - 1]!;
      ss[j] = ss[j - 1]!;
    }
    ks[i] = key;
    ss[i] = size;
    this.lens[bi] = len + 1;
    this.count++;
    return 0;
  }

  clear(): void {
    for (let b = 0; b < this.keys.length; b++) this.spare.push({ k: this.keys[b]!, s: this.sizes[b]! });
    this.keys.length = 0;
    this.sizes.length = 0;
    this.lens.length = 0;
    this.count = 0;
  }

  /** Best price, or NaN if the side is empty. */
  bestPrice(): number {
    const n = this.keys.length;
    return n > 0 ? this.dir * this.keys[n - 1]![this.lens[n - 1]! - 1]! : NaN;
  }

  bestSize(): number {
    const n = this.keys.length;
    return n > 0 ? this.sizes[n - 1]![this.lens[n - 1]! - 1]! : 0;
  }

  /** Block and index of the k-th level from the top (0 = best); k < count. */
  private locate(k: number): number {
    let b = this.keys.length - 1;
    while (k >= this.lens[b]!) {
      k -= this.lens[b]!;
      b--;
    }
    this.locBlock = b;
    return this.lens[b]! - 1 - k;
  }
  private locBlock = 0;

  /** The k-th level from the top (0 = best). */
  priceAt(k: number): number {
    const i = this.locate(k);
    return this.dir * this.keys[this.locBlock]![i]!;
  }

  sizeAt(k: number): number {
    const i = this.locate(k);
    return this.sizes[this.locBlock]![i]!;
  }

  /** Size resting at exactly `price`, or 0. */
  sizeOf(price: number): number {
    if (this.keys.length === 0) return 0;
    const key = this.dir * price;
    const bi = this.blockOf(key);
    const ks = this.keys[bi]!;
    const i = BookSide.search(ks, this.lens[bi]!, key);
    return i < this.lens[bi]! && ks[i] === key ? this.sizes[bi]![i]! : 0;
  }

  /** Levels from the best outwards, as [price, size] pairs. */
  levels(depth = Infinity): [number, number][] {
    const out: [number, number][] = [];
    for (let b = this.keys.length - 1; b >= 0 && out.length < depth; b--) {
      for (let i = this.lens[b]! - 1; i >= 0 && out.length < depth; i--) out.push([this.dir * this.keys[b]![i]!, this.sizes[b]![i]!]);
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

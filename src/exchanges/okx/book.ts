// An OKX book that keeps each level's price and size exactly as OKX wrote them, because the checksum is
// computed over those strings. Levels are ordered by numeric price, best first.

export class OkxBookSide {
  private prices: number[] = [];
  private priceTexts: string[] = [];
  private sizeTexts: string[] = [];

  /** +1 bids (descending), -1 asks (ascending). */
  constructor(readonly dir: 1 | -1) {}

  get count(): number {
    return this.prices.length;
  }

  /** First index whose price is not better than `price`. */
  private search(price: number): number {
    let lo = 0;
    let hi = this.prices.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const better = this.dir === 1 ? this.prices[mid]! > price : this.prices[mid]! < price;
      if (better) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** Set a level from its original strings; size 0 deletes it. */
  set(priceText: string, sizeText: string, price: number, size: number): void {
    const i = this.search(price);
    const found = i < this.prices.length && this.prices[i] === price;
    if (size === 0) {
      if (found) {
        this.prices.splice(i, 1);
        this.priceTexts.splice(i, 1);
        this.sizeTexts.splice(i, 1);
      }
    } else if (found) {
      this.priceTexts[i] = priceText;
      this.sizeTexts[i] = sizeText;
    } else {
      this.prices.splice(i, 0, price);
      this.priceTexts.splice(i, 0, priceText);
      this.sizeTexts.splice(i, 0, sizeText);
    }
  }

  clear(): void {
    this.prices = [];
    this.priceTexts = [];
    this.sizeTexts = [];
  }

  /** The k-th level from the top (0 = best), as OKX wrote it. */
  priceText(k: number): string {
    return this.priceTexts[k]!;
  }

  sizeText(k: number): string {
    return this.sizeTexts[k]!;
  }
}

export class OkxBook {
  readonly bids = new OkxBookSide(1);
  readonly asks = new OkxBookSide(-1);

  clear(): void {
    this.bids.clear();
    this.asks.clear();
  }
}

// An OKX book that keeps each level's price and size exactly as OKX wrote them, because the checksum is
// computed over those strings. Levels are ordered by numeric price, best first.
//
// A snapshot can hold hundreds of thousands of levels in any order, so inserting each into a sorted array
// (O(n) per level, O(n²) per snapshot) is not an option. New prices wait in `pending` and are put in order
// when the book is read: a few by binary search, many by one sort and merge (O(n log n) per snapshot).
// Deleted levels stay in `sorted` as dead entries, skipped on reading and swept out in one pass once they
// are many, so a message deleting many levels costs O(n) too.

interface Level {
  priceText: string;
  sizeText: string;
  /** The level is in the book (size > 0). */
  live: boolean;
  /** Its price is in `sorted` (alive or dead). */
  placed: boolean;
}

/** Up to this many new prices are placed one by one (binary search and splice); more are sorted and merged. */
const PLACE_ONE_BY_ONE = 32;
/** Dead entries skipped while reading the top that make the side sweep them out. */
const SWEEP_AFTER_SKIPPED = 64;

export class OkxBookSide {
  private readonly levels = new Map<number, Level>();
  /** Prices best first; some may be dead (deleted since they were placed). */
  private sorted: number[] = [];
  /** Prices added since the last read, in arrival order; some may be dead or duplicated. */
  private pending: number[] = [];
  private dead = 0;
  private live = 0;

  /** +1 bids (descending), -1 asks (ascending). */
  constructor(readonly dir: 1 | -1) {}

  get count(): number {
    return this.live;
  }

  /** Set a level from its original strings; size 0 deletes it. */
  set(priceText: string, sizeText: string, price: number, size: number): void {
    const lv = this.levels.get(price);
    if (size === 0) {
      if (lv === undefined || !lv.live) return;
      lv.live = false;
      this.live--;
      if (lv.placed) this.dead++;
      else this.levels.delete(price);
      // A book that is never read (no checksums) must not grow with dead entries.
      if (this.dead > this.live + 1024) this.sweep();
      return;
    }
    if (lv === undefined) {
      this.levels.set(price, { priceText, sizeText, live: true, placed: false });
      this.pending.push(price);
      this.live++;
      if (this.pending.length > 2 * this.levels.size + 1024) this.place();
      return;
    }
    if (!lv.live) {
      lv.live = true;
      this.live++;
      if (lv.placed) this.dead--;
    }
    lv.priceText = priceText;
    lv.sizeText = sizeText;
  }

  clear(): void {
    this.levels.clear();
    this.sorted = [];
    this.pending = [];
    this.dead = 0;
    this.live = 0;
  }

  /** The best `n` levels, best first, as [price text, size text] as OKX wrote them. */
  top(n: number): [string, string][] {
    this.place();
    const out: [string, string][] = [];
    let skipped = 0;
    for (let i = 0; i < this.sorted.length && out.length < n; i++) {
      const lv = this.levels.get(this.sorted[i]!)!;
      if (lv.live) out.push([lv.priceText, lv.sizeText]);
      else skipped++;
    }
    if (skipped > SWEEP_AFTER_SKIPPED) this.sweep();
    return out;
  }

  /** Whether `a` is a better price than `b` on this side. */
  private better(a: number, b: number): boolean {
    return this.dir === 1 ? a > b : a < b;
  }

  /** Put the pending prices in order. */
  private place(): void {
    if (this.pending.length === 0) return;
    const fresh: number[] = [];
    for (const p of this.pending) {
      const lv = this.levels.get(p);
      if (lv === undefined || lv.placed || !lv.live) continue;
      lv.placed = true;
      fresh.push(p);
    }
    this.pending = [];
    if (fresh.length <= PLACE_ONE_BY_ONE) {
      for (const p of fresh) this.sorted.splice(this.firstNotBetter(p), 0, p);
      return;
    }
    fresh.sort((a, b) => (this.dir === 1 ? b - a : a - b));
    const old = this.sorted;
    const merged = new Array<number>(old.length + fresh.length);
    let i = 0;
    let j = 0;
    let k = 0;
    while (i < old.length && j < fresh.length) merged[k++] = this.better(fresh[j]!, old[i]!) ? fresh[j++]! : old[i++]!;
    while (i < old.length) merged[k++] = old[i++]!;
    while (j < fresh.length) merged[k++] = fresh[j++]!;
    this.sorted = merged;
  }

  /** First index of `sorted` whose price is not better than `price`. */
  private firstNotBetter(price: number): number {
    let lo = 0;
    let hi = this.sorted.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.better(this.sorted[mid]!, price)) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** Drop the dead entries from `sorted` (and their levels): one O(n) pass. */
  private sweep(): void {
    const kept: number[] = [];
    for (const p of this.sorted) {
      if (this.levels.get(p)!.live) kept.push(p);
      else this.levels.delete(p);
    }
    this.sorted = kept;
    this.dead = 0;
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

// npm run bench: an OKX book snapshot of 160,000 levels in shuffled order, built by OkxBookSide and, as the
// baseline measured in the same run, by the sorted-array insertion (binary search + splice) it replaced.
import { OkxBookSide } from '../exchanges/okx/book.js';
import { Sfc32 } from '../simulation/random.js';

const LEVELS = 160_000;

/** The replaced algorithm: three parallel arrays kept sorted by splice, O(n) per new level. */
class SpliceSide {
  private prices: number[] = [];
  private priceTexts: string[] = [];
  private sizeTexts: string[] = [];
  set(priceText: string, sizeText: string, price: number): void {
    let lo = 0;
    let hi = this.prices.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.prices[mid]! < price) lo = mid + 1;
      else hi = mid;
    }
    if (this.prices[lo] === price) {
      this.sizeTexts[lo] = sizeText;
      return;
    }
    this.prices.splice(lo, 0, price);
    this.priceTexts.splice(lo, 0, priceText);
    this.sizeTexts.splice(lo, 0, sizeText);
  }
  top(n: number): [string, string][] {
    return this.prices.slice(0, n).map((_, k) => [this.priceTexts[k]!, this.sizeTexts[k]!]);
  }
}

export function benchOkxBook(): void {
  const rng = new Sfc32(1);
  const prices = Array.from({ length: LEVELS }, (_, i) => (10_000 + i / 10).toFixed(1));
  for (let i = prices.length - 1; i > 0; i--) {
    const j = Math.floor(rng.next() * (i + 1));
    [prices[i], prices[j]] = [prices[j]!, prices[i]!];
  }
  const time = (build: () => [string, string][]): { ms: number; top: string } => {
    const t = performance.now();
    const top = build();
    return { ms: performance.now() - t, top: top.map((l) => l.join(':')).join(',') };
  };
  const now = time(() => {
    const s = new OkxBookSide(-1);
    for (const p of prices) s.set(p, '1.5', Number(p), 1.5);
    return s.top(25);
  });
  const old = time(() => {
    const s = new SpliceSide();
    for (const p of prices) s.set(p, '1.5', Number(p));
    return s.top(25);
  });
  if (now.top !== old.top) throw new Error('OKX book bench: the two algorithms disagree on the top 25 levels');
  console.log(`\nOKX 160k-level snapshot (shuffled order, then the top 25 levels read for the checksum)`);
  console.log(`  OkxBookSide (sort + merge)      ${now.ms.toFixed(1).padStart(10)} ms`);
  console.log(`  baseline: splice insertion      ${old.ms.toFixed(1).padStart(10)} ms`);
}

// The OKX text book (src/exchanges/okx/book.ts): levels in any order, deletes, re-adds, reads in between.
import { describe, expect, it } from 'vitest';
import { OkxBookSide } from '../src/exchanges/okx/book.js';
import { Sfc32 } from '../src/simulation/random.js';

const set = (s: OkxBookSide, px: string, sz: string) => s.set(px, sz, Number(px), Number(sz));

describe('OkxBookSide', () => {
  it('orders bids high to low and asks low to high whatever order levels arrive in, keeping the strings', () => {
    const bids = new OkxBookSide(1);
    for (const px of ['100.5', '99', '101.10', '100']) set(bids, px, '1.0');
    expect(bids.top(3)).toEqual([['101.10', '1.0'], ['100.5', '1.0'], ['100', '1.0']]);
    const asks = new OkxBookSide(-1);
    for (const px of ['100.5', '99', '101.10', '100']) set(asks, px, '2');
    expect(asks.top(10)).toEqual([['99', '2'], ['100', '2'], ['100.5', '2'], ['101.10', '2']]);
    expect(asks.count).toBe(4);
  });

  it('deletes with size 0, re-adds a deleted price with its new strings, and ignores deleting a missing one', () => {
    const s = new OkxBookSide(1);
    set(s, '10', '1');
    set(s, '11', '1');
    expect(s.top(5)).toEqual([['11', '1'], ['10', '1']]);
    set(s, '11', '0');
    set(s, '12', '0'); // not there
    expect(s.top(5)).toEqual([['10', '1']]);
    set(s, '11.0', '3'); // the same price, written differently: OKX's text wins
    expect(s.top(5)).toEqual([['11.0', '3'], ['10', '1']]);
    expect(s.count).toBe(2);
    s.clear();
    expect(s.top(5)).toEqual([]);
    expect(s.count).toBe(0);
  });

  it('equals a sorted reference after every step of 20,000 seeded random sets (many new, deleted and re-added prices)', () => {
    const rng = new Sfc32(7);
    const s = new OkxBookSide(-1);
    const ref = new Map<number, string>();
    let reads = 0;
    for (let step = 0; step < 20_000; step++) {
      // Bursts of up to 200 levels (a snapshot-like batch) between reads, else single changes.
      const burst = rng.next() < 0.01 ? 200 : 1;
      for (let b = 0; b < burst; b++) {
        const px = String(1000 + Math.floor(rng.next() * 500));
        const sz = rng.next() < 0.4 ? '0' : String(1 + Math.floor(rng.next() * 9));
        set(s, px, sz);
        if (sz === '0') ref.delete(Number(px));
        else ref.set(Number(px), sz);
      }
      if (step % 7 === 0) {
        reads++;
        const want = [...ref].sort((a, b) => a[0] - b[0]).slice(0, 25).map(([p, z]) => [String(p), z]);
        expect(s.top(25)).toEqual(want);
        expect(s.count).toBe(ref.size);
      }
    }
    expect(reads).toBe(2858);
  });
});

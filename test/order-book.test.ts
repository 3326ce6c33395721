// The L2 book: blocked sorted levels must behave exactly like a plain sorted map, at any depth.
import { describe, expect, it } from 'vitest';
import { OrderBook } from '../src/book/order-book.js';
import { createRng } from '../src/simulation/random.js';

function reference(levels: Map<number, number>, dir: 1 | -1): [number, number][] {
  return [...levels.entries()].sort((a, b) => (dir === 1 ? b[0] - a[0] : a[0] - b[0]));
}

describe('OrderBook', () => {
  it('matches a reference map through 200,000 random inserts, updates and deletes across 3,000 price levels', () => {
    const rng = createRng(11);
    const book = new OrderBook();
    const ref = { 1: new Map<number, number>(), [-1]: new Map<number, number>() } as Record<number, Map<number, number>>;
    for (let step = 0; step < 200_000; step++) {
      const side = rng.next() < 0.5 ? 1 : -1;
      // Bids 50,000.0-50,149.9, asks 50,150.0-50,299.9 on a 0.1 grid; deep levels are touched often.
      const tick = Math.floor(rng.next() * 1500);
      const price = side === 1 ? 50_000 + tick / 10 : 50_150 + tick / 10;
      const size = rng.next() < 0.3 ? 0 : Math.round(rng.next() * 1000) / 100;
      const prev = book.set(side, price, size);
      expect(prev).toBe(ref[side]!.get(price) ?? 0);
      if (size > 0) ref[side]!.set(price, size);
      else ref[side]!.delete(price);
      if (step % 20_000 === 0 || step === 199_999) {
        expect(book.bids.levels()).toEqual(reference(ref[1]!, 1));
        expect(book.asks.levels()).toEqual(reference(ref[-1]!, -1));
      }
    }
    expect(book.bids.count).toBe(ref[1]!.size);
    const bids = reference(ref[1]!, 1);
    for (const k of [0, 1, 63, 64, 65, 500, bids.length - 1]) {
      expect([book.bids.priceAt(k), book.bids.sizeAt(k)]).toEqual(bids[k]);
    }
    expect(book.bestBid()).toBe(bids[0]![0]);
    expect(book.bids.sizeOf(bids[10]![0])).toBe(bids[10]![1]);
    expect(book.bids.sizeOf(49_999.95)).toBe(0);
    expect(book.isCrossed()).toBe(false);
  });

  it('prices with more decimals re-index the side; very wide and negative-key ranges work', () => {
    const book = new OrderBook();
    book.set(1, 100, 1);
    book.set(1, 99.5, 2);
    book.set(1, 99.25, 3); // needs a second decimal
    book.set(1, 0.00001234, 4); // far away, 8 decimals
    expect(book.bids.levels()).toEqual([
      [100, 1],
      [99.5, 2],
      [99.25, 3],
      [0.00001234, 4],
    ]);
    book.set(-1, 123456.78, 1);
    book.set(-1, 100.01, 2);
    expect(book.asks.levels()).toEqual([
      [100.01, 2],
      [123456.78, 1],
    ]);
    expect(book.asks.sizeOf(100.015)).toBe(0);
    book.set(1, 100, 0);
    expect(book.bestBid()).toBe(99.5);
    expect([book.bids.priceAt(2), book.bids.sizeAt(2)]).toEqual([0.00001234, 4]);
  });

  it('an empty side has no best price, never crosses, and clear() empties both sides', () => {
    const book = new OrderBook();
    expect(book.bestBid()).toBeNaN();
    book.set(1, 100, 1);
    expect(book.isCrossed()).toBe(false);
    book.set(-1, 99.5, 2);
    expect(book.isCrossed()).toBe(true);
    expect(book.mid()).toBe(99.75);
    book.clear();
    expect([book.bids.count, book.asks.count]).toEqual([0, 0]);
    expect(book.set(1, 100, 0)).toBe(0);
  });
});

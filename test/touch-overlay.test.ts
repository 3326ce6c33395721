import { describe, expect, it } from 'vitest';
import { OrderBook } from '../src/book/order-book.js';
import { TouchOverlay } from '../src/book/touch-overlay.js';

function book(): OrderBook {
  const b = new OrderBook();
  for (const [p, q] of [[100, 1], [99, 2], [98, 3]] as const) b.set(1, p, q);
  for (const [p, q] of [[101, 1], [102, 2], [103, 3]] as const) b.set(-1, p, q);
  return b;
}

function levels(side: { count: number; priceAt(k: number): number; sizeAt(k: number): number }): [number, number][] {
  const out: [number, number][] = [];
  for (let k = 0; k < side.count; k++) out.push([side.priceAt(k), side.sizeAt(k)]);
  return out;
}

describe('TouchOverlay', () => {
  it('shows the book unchanged without constraints', () => {
    const o = new TouchOverlay(book());
    expect(levels(o.bids)).toEqual([[100, 1], [99, 2], [98, 3]]);
    expect(levels(o.asks)).toEqual([[101, 1], [102, 2], [103, 3]]);
    expect(o.bids.bestPrice()).toBe(100);
    expect(o.asks.sizeOf(101)).toBe(1);
  });

  it('a BBO hides levels better than it and caps the touch size to its size', () => {
    const o = new TouchOverlay(book());
    o.bbo(-1, 102, 0.5);
    expect(levels(o.asks)).toEqual([[102, 0.5], [103, 3]]);
    expect(o.asks.bestPrice()).toBe(102);
    expect(o.asks.sizeOf(101)).toBe(0);
    expect(o.asks.sizeOf(102)).toBe(0.5);
    o.bbo(1, 99, 5);
    // The cap never adds size: min(depth 2, BBO 5).
    expect(levels(o.bids)).toEqual([[99, 2], [98, 3]]);
    expect(o.bids.sizeOf(100)).toBe(0);
  });

  it('a BBO replaces the bound: a newer BBO at a worse-then-better price shows the level again', () => {
    const o = new TouchOverlay(book());
    o.bbo(1, 98, 1);
    expect(o.bids.count).toBe(1);
    o.bbo(1, 100, 0.25);
    expect(levels(o.bids)).toEqual([[100, 0.25], [99, 2], [98, 3]]);
  });

  it('a sell print at p hides bids above p, a buy print at p hides asks below p; prints only tighten', () => {
    const o = new TouchOverlay(book());
    o.print(-1, 99);
    expect(levels(o.bids)).toEqual([[99, 2], [98, 3]]);
    o.print(-1, 100);
    expect(o.bids.bestPrice()).toBe(99);
    o.print(1, 103);
    expect(levels(o.asks)).toEqual([[103, 3]]);
    expect(o.asks.sizeOf(102)).toBe(0);
  });

  it('a print below the BBO price drops the size cap; at the BBO price it keeps it', () => {
    const o = new TouchOverlay(book());
    o.bbo(1, 100, 0.5);
    o.print(-1, 100);
    expect(o.bids.sizeOf(100)).toBe(0.5);
    o.print(-1, 99);
    expect(levels(o.bids)).toEqual([[99, 2], [98, 3]]);
  });

  it('reset (a depth message) restores the depth truth; a side hidden entirely is empty', () => {
    const b = book();
    const o = new TouchOverlay(b);
    o.print(-1, 97);
    expect(o.bids.count).toBe(0);
    expect(o.bids.bestPrice()).toBeNaN();
    o.reset();
    expect(levels(o.bids)).toEqual([[100, 1], [99, 2], [98, 3]]);
    // The underlying book was never changed.
    expect(b.bids.levels()).toEqual([[100, 1], [99, 2], [98, 3]]);
  });

  it('quotePrice: the BBO price since the last depth message, even better than every depth level; a print past it or reset() clears it', () => {
    const o = new TouchOverlay(book());
    expect(o.asks.quotePrice()).toBeNaN();
    // The depth book lags: its best ask is 101, the real-time quote says 100.5 with 0.3.
    o.bbo(-1, 100.5, 0.3);
    expect(o.asks.quotePrice()).toBe(100.5);
    // No level is added: the touch shows what the depth book has.
    expect(levels(o.asks)).toEqual([[101, 1], [102, 2], [103, 3]]);
    o.print(1, 101); // a buy at 101: asks below 101 were gone, the 100.5 quote with them
    expect(o.asks.quotePrice()).toBeNaN();
    o.bbo(1, 99, 2);
    expect(o.bids.quotePrice()).toBe(99);
    o.print(-1, 99); // a sell at the quote's own price keeps it
    expect(o.bids.quotePrice()).toBe(99);
    o.reset();
    expect(o.bids.quotePrice()).toBeNaN();
  });
});

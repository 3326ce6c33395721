// The exchange side of a replay on hand-built books: taker walks, time in force, consumed liquidity, queue
// position under both queue models, trade-through and quote-through fills, cancels, modifies, rate limits.
// Every number below is worked out by hand in the comments (docs/matching.md has the rules).
import { describe, expect, it } from 'vitest';
import { OrderBook } from '../src/book/order-book.js';
import { parseFillRule, SimulatedVenue, type ExchangeUpdate, type FillRule } from '../src/simulation/matching.js';
import { ProbabilisticQueue, RiskAverseQueue, parseQueueModel } from '../src/simulation/queue.js';
import type { FeeModel, QueueModel, RateLimiter, SimOrderSpec } from '../src/simulation/types.js';
import type { OrderSide, OrderType, TimeInForce } from '../src/strategy/api.js';

/** Taker 5 bp, maker -1 bp (rebate), of the notional the engine passes (traded value here: linear, contract value 1). */
const fees: FeeModel = {
  description: 'test: maker -0.01%, taker 0.05%',
  fee: (notional, maker) => notional * (maker ? -0.0001 : 0.0005),
};

const unlimited: RateLimiter = { description: 'unlimited', allow: () => true };

/** At most `max` requests in any window of `windowNs` (a request at t counts until t + windowNs). */
class WindowLimiter implements RateLimiter {
  readonly description: string;
  private readonly times: number[] = [];
  constructor(
    private readonly max: number,
    private readonly windowNs: number,
  ) {
    this.description = `${max} per ${windowNs}ns`;
  }
  allow(atNs: number): boolean {
    while (this.times.length > 0 && this.times[0]! <= atNs - this.windowNs) this.times.shift();
    if (this.times.length >= this.max) return false;
    this.times.push(atNs);
    return true;
  }
}

function setup(opts: { queue?: QueueModel; limiter?: RateLimiter; contractValue?: number; inverse?: boolean; fillRule?: FillRule } = {}) {
  const book = new OrderBook();
  const events: ExchangeUpdate[] = [];
  const venue = new SimulatedVenue({
    venue: 0,
    book,
    queue: opts.queue ?? new RiskAverseQueue(),
    fees,
    rateLimiter: opts.limiter ?? unlimited,
    contractValue: opts.contractValue,
    inverse: opts.inverse,
    fillRule: opts.fillRule,
    emit: (u) => events.push(u),
  });
  /** What the engine does for one book row: apply it, then tell the venue. */
  const level = (side: number, price: number, size: number, t = 0) => {
    const prev = (side > 0 ? book.bids : book.asks).sizeOf(price);
    book.set(side, price, size);
    venue.onLevel(side, price, prev, size, t);
  };
  let nextId = 1;
  const order = (side: OrderSide, type: OrderType, price: number, size: number, tif: TimeInForce = 'GTC', t = 0): number => {
    const spec: SimOrderSpec = { orderId: nextId++, venue: 0, side, type, price, size, tif };
    venue.arrive(spec, t);
    return spec.orderId;
  };
  /** Events since the last call. */
  const take = (): ExchangeUpdate[] => events.splice(0, events.length);
  return { book, venue, events, level, order, take };
}

/** A book: bids 99 x 3, 98 x 4; asks 100 x 1, 101 x 2, 102 x 5. */
function standard(opts: { queue?: QueueModel; limiter?: RateLimiter; fillRule?: FillRule } = {}) {
  const s = setup(opts);
  s.level(1, 98, 4);
  s.level(1, 99, 3);
  s.level(-1, 102, 5);
  s.level(-1, 101, 2);
  s.level(-1, 100, 1);
  return s;
}

const fillsOf = (us: ExchangeUpdate[]) => us.filter((u) => u.fill).map((u) => [u.fill!.price, u.fill!.size, u.fill!.maker]);
const statuses = (us: ExchangeUpdate[]) => us.map((u) => (u.reason ? `${u.status}:${u.reason}` : u.status));

describe('fees on the contract\'s notional', () => {
  it('linear contracts of 0.01 base and inverse contracts of 100 USD: the fee model gets the notional in the settlement currency', () => {
    const linear = setup({ contractValue: 0.01 });
    linear.level(-1, 60000, 10);
    linear.order(1, 'market', NaN, 3);
    // 3 contracts × 0.01 BTC × 60000 = 1800 USDT; taker 0.05% = 0.9
    expect(linear.take().filter((u) => u.fill).map((u) => u.fill!.fee)).toEqual([0.9]);
    const inverse = setup({ contractValue: 100, inverse: true });
    inverse.level(-1, 50000, 20);
    inverse.order(1, 'market', NaN, 10);
    // 10 contracts × 100 USD / 50000 = 0.02 BTC; taker 0.05% = 0.00001 BTC
    expect(inverse.take().filter((u) => u.fill).map((u) => u.fill!.fee)).toEqual([0.00001]);
  });
});

describe('taker orders', () => {
  it('a market buy walks the asks with a partial fill at each level; average price exact; taker fees', () => {
    const s = standard();
    const id = s.order(1, 'market', NaN, 4);
    const us = s.take();
    expect(statuses(us)).toEqual(['accepted', 'partially_filled', 'partially_filled', 'filled']);
    // 1 @ 100, 2 @ 101, then 1 of the 5 @ 102.
    expect(fillsOf(us)).toEqual([
      [100, 1, false],
      [101, 2, false],
      [102, 1, false],
    ]);
    const fills = us.filter((u) => u.fill).map((u) => u.fill!);
    const value = fills.reduce((a, f) => a + f.price * f.size, 0);
    expect(value / 4).toBe(101); // (100 + 202 + 102) / 4
    expect(fills.map((f) => f.fee)).toEqual([100 * 0.0005, 202 * 0.0005, 102 * 0.0005]);
    expect(us.map((u) => u.filledSize)).toEqual([0, 1, 3, 4]);
    expect(us.map((u) => u.remaining)).toEqual([4, 3, 1, 0]);
    expect(us[0]!.price).toBeNaN();
    expect(us.every((u) => u.orderId === id && u.side === 1 && u.exchangeTimeNs === 0)).toBe(true);
    expect(s.venue.isOpen(id)).toBe(false);
    // The recorded book is not changed by our order; what we took is remembered per level.
    expect(s.book.asks.sizeOf(100)).toBe(1);
    expect([s.venue.consumedAt(-1, 100), s.venue.consumedAt(-1, 101), s.venue.consumedAt(-1, 102)]).toEqual([1, 2, 1]);
  });

  it('a market sell walks the bids downwards', () => {
    const s = standard();
    s.order(-1, 'market', NaN, 5);
    expect(fillsOf(s.take())).toEqual([
      [99, 3, false],
      [98, 2, false],
    ]);
  });

  it('a crossing limit IOC fills up to its price and the rest is cancelled', () => {
    const s = standard();
    const id = s.order(1, 'limit', 101, 5, 'IOC');
    const us = s.take();
    expect(statuses(us)).toEqual(['accepted', 'partially_filled', 'partially_filled', 'cancelled:ioc_unfilled']);
    expect(fillsOf(us)).toEqual([
      [100, 1, false],
      [101, 2, false],
    ]);
    expect(us[3]!.filledSize).toBe(3);
    expect(s.venue.isOpen(id)).toBe(false);
  });

  it('an IOC that does not cross is cancelled without a fill', () => {
    const s = standard();
    s.order(1, 'limit', 99.5, 1, 'IOC');
    expect(statuses(s.take())).toEqual(['accepted', 'cancelled:ioc_unfilled']);
  });

  it('FOK: all or nothing, judged on the available size before any fill', () => {
    const s = standard();
    // 1 + 2 + 5 = 8 available up to 102; 9 wanted.
    s.order(1, 'limit', 102, 9, 'FOK');
    expect(statuses(s.take())).toEqual(['accepted', 'cancelled:fok_not_fillable']);
    expect(s.venue.consumedAt(-1, 100)).toBe(0);
    // Up to 101 only 3 are available.
    s.order(1, 'limit', 101, 4, 'FOK');
    expect(statuses(s.take())).toEqual(['accepted', 'cancelled:fok_not_fillable']);
    s.order(1, 'limit', 102, 8, 'FOK');
    const us = s.take();
    expect(statuses(us)).toEqual(['accepted', 'partially_filled', 'partially_filled', 'filled']);
    expect(fillsOf(us)).toEqual([
      [100, 1, false],
      [101, 2, false],
      [102, 5, false],
    ]);
    // Everything is consumed now: a market FOK for 1 cannot fill.
    s.order(1, 'market', NaN, 1, 'FOK');
    expect(statuses(s.take())).toEqual(['accepted', 'cancelled:fok_not_fillable']);
  });

  it('POST_ONLY: rejected if it would take, rests otherwise', () => {
    const s = standard();
    s.order(1, 'limit', 100, 1, 'POST_ONLY');
    expect(statuses(s.take())).toEqual(['rejected:post_only_would_take']);
    s.order(-1, 'limit', 98.5, 1, 'POST_ONLY');
    expect(statuses(s.take())).toEqual(['rejected:post_only_would_take']);
    const a = s.order(1, 'limit', 99.5, 1, 'POST_ONLY');
    const b = s.order(1, 'limit', 99, 1, 'POST_ONLY');
    expect(statuses(s.take())).toEqual(['accepted', 'accepted']);
    expect(s.venue.queueAhead(a)).toBe(0); // no one at 99.5
    expect(s.venue.queueAhead(b)).toBe(3); // behind the 3 displayed at 99
  });

  it('liquidity the strategy took stays taken when the level changes, reduced only if the level shrinks below it', () => {
    const s = standard();
    s.order(1, 'market', NaN, 1);
    expect(fillsOf(s.take())).toEqual([[100, 1, false]]);
    // 100 is consumed: the next buy takes at 101.
    s.order(1, 'market', NaN, 1);
    expect(fillsOf(s.take())).toEqual([[101, 1, false]]);
    // Another level changing does not give 100 back.
    s.level(-1, 103, 7);
    s.order(1, 'market', NaN, 1.5);
    expect(fillsOf(s.take())).toEqual([
      [101, 1, false],
      [102, 0.5, false],
    ]);
    // Post-only at 100 now rests: nothing there is available to take.
    const po = s.order(1, 'limit', 100, 1, 'POST_ONLY');
    expect(statuses(s.take())).toEqual(['accepted']);
    s.venue.cancel(po, 0);
    s.take();
    // The recorded level at 100 grows (1 -> 1.5): the 1 taken stays taken, 0.5 is available.
    s.level(-1, 100, 1.5);
    expect(s.venue.consumedAt(-1, 100)).toBe(1);
    expect(s.venue.consumedAt(-1, 101)).toBe(2);
    s.order(1, 'market', NaN, 2);
    // 100: 1.5 - 1 = 0.5; 101: 2 - 2 = 0; 102: 5 - 0.5 = 4.5, of which 1.5.
    expect(fillsOf(s.take())).toEqual([
      [100, 0.5, false],
      [102, 1.5, false],
    ]);
    // The level at 101 shrinks (2 -> 1.2): taken becomes min(2, 1.2) = 1.2, still nothing available.
    s.level(-1, 101, 1.2);
    expect(s.venue.consumedAt(-1, 101)).toBe(1.2);
    // A snapshot applies the same rule to every price: taken = min(taken, displayed size); 102 keeps 2 of 5.
    s.venue.onSnapshot(0);
    expect([s.venue.consumedAt(-1, 100), s.venue.consumedAt(-1, 101), s.venue.consumedAt(-1, 102)]).toEqual([1.5, 1.2, 2]);
    s.order(1, 'market', NaN, 1);
    expect(fillsOf(s.take())).toEqual([[102, 1, false]]);
    // A level deleted forgets what was taken there; a new level at that price is all available.
    s.level(-1, 100, 0);
    expect(s.venue.consumedAt(-1, 100)).toBe(0);
    s.level(-1, 100, 0.4);
    s.order(1, 'market', NaN, 0.4);
    expect(fillsOf(s.take())).toEqual([[100, 0.4, false]]);
  });

  it('issue 8: a level at 1 then 1.2 gives two IOC buys of 1 a fill of 1 + 0.2, not 2', () => {
    const s = setup();
    s.level(-1, 100, 1);
    s.order(1, 'limit', 100, 1, 'IOC');
    s.level(-1, 100, 1.2);
    s.order(1, 'limit', 100, 1, 'IOC');
    const us = s.take();
    expect(fillsOf(us)).toEqual([
      [100, 1, false],
      [100, 0.19999999999999996, false],
    ]);
    expect(statuses(us)).toEqual(['accepted', 'filled', 'accepted', 'partially_filled', 'cancelled:ioc_unfilled']);
  });

  it('issue 8: a resting buy that took 101 x 1 and 102 x 1 is not filled as maker by a 0.1 cancel at 101', () => {
    const s = setup();
    s.level(-1, 101, 1);
    s.level(-1, 102, 1);
    s.level(-1, 103, 1);
    const id = s.order(1, 'limit', 102, 3);
    expect(fillsOf(s.take())).toEqual([
      [101, 1, false],
      [102, 1, false],
    ]);
    expect(s.venue.remaining(id)).toBe(1);
    // 0.1 cancelled at 101: 0.9 displayed, all of it taken by us already (min(1, 0.9)): no quote-through.
    s.level(-1, 101, 0.9);
    expect(s.take()).toEqual([]);
    expect(s.venue.consumedAt(-1, 101)).toBe(0.9);
    expect(s.venue.remaining(id)).toBe(1);
  });

  it('a market order finding no liquidity (left) is cancelled with no_liquidity', () => {
    const s = setup();
    s.level(1, 99, 3);
    s.order(1, 'market', NaN, 1);
    expect(statuses(s.take())).toEqual(['accepted', 'cancelled:no_liquidity']);
    s.level(-1, 100, 2);
    s.order(1, 'market', NaN, 5);
    const us = s.take();
    expect(statuses(us)).toEqual(['accepted', 'partially_filled', 'cancelled:no_liquidity']);
    expect(us[2]!.filledSize).toBe(2);
  });

  it('decimal sizes leave no float dust: 0.1 then 0.2 of a 0.3 level', () => {
    const s = setup();
    s.level(-1, 100, 0.3);
    s.level(-1, 101, 1);
    s.order(1, 'market', NaN, 0.1);
    s.order(1, 'market', NaN, 0.2);
    // 0.3 - 0.1 = 0.19999999999999998 is available; the 2.8e-17 left is not sent on to 101.
    const us = s.take();
    expect(statuses(us)).toEqual(['accepted', 'filled', 'accepted', 'filled']);
    expect(fillsOf(us).map((f) => f[0])).toEqual([100, 100]);
  });

  it('a GTC limit that crosses takes what it can, then rests at its price', () => {
    const s = standard();
    const id = s.order(1, 'limit', 101, 5);
    const us = s.take();
    expect(statuses(us)).toEqual(['accepted', 'partially_filled', 'partially_filled']);
    expect(s.venue.remaining(id)).toBe(2);
    expect(s.venue.queueAhead(id)).toBe(0);
    // The asks at 100 and 101 are still displayed but consumed by us: no quote-through from them.
    s.level(-1, 105, 1);
    expect(s.take()).toEqual([]);
    // The recorded level at 101 shrinks 2 -> 1.5: all of it is still taken by us (min(2, 1.5)): no quote-through.
    s.level(-1, 101, 1.5);
    expect(s.take()).toEqual([]);
    // It grows 1.5 -> 2.5: 1 beyond what we took is available at 101, an ask at our bid: it quotes through our
    // bid and fills the whole order as maker (the quote-through rule in docs/matching.md).
    s.level(-1, 101, 2.5);
    expect(fillsOf(s.take())).toEqual([[101, 2, true]]);
  });

  it('rejects invalid orders and duplicate ids', () => {
    const s = standard();
    s.venue.arrive({ orderId: 7, venue: 0, side: 1, type: 'limit', price: NaN, size: 1, tif: 'GTC' }, 0);
    s.venue.arrive({ orderId: 8, venue: 0, side: 1, type: 'limit', price: 99, size: 0, tif: 'GTC' }, 0);
    s.venue.arrive({ orderId: 9, venue: 0, side: 1, type: 'market', price: NaN, size: 1, tif: 'POST_ONLY' }, 0);
    s.venue.arrive({ orderId: 10, venue: 0, side: 1, type: 'limit', price: 99, size: 1, tif: 'GTC' }, 0);
    s.venue.arrive({ orderId: 10, venue: 0, side: 1, type: 'limit', price: 98, size: 1, tif: 'GTC' }, 0);
    expect(statuses(s.take())).toEqual([
      'rejected:invalid_order',
      'rejected:invalid_order',
      'rejected:invalid_order',
      'accepted',
      'rejected:duplicate_order_id',
    ]);
    expect(() => s.venue.arrive({ orderId: 11, venue: 3, side: 1, type: 'limit', price: 99, size: 1, tif: 'GTC' }, 0)).toThrow(/venue 3/);
  });
});

describe('resting orders', () => {
  it('a resting bid is filled as maker at its own price by a sell traded through it, up to the print size', () => {
    const s = standard();
    const id = s.order(1, 'limit', 99, 2);
    s.take();
    expect(s.venue.queueAhead(id)).toBe(3);
    // A buy print never touches our bid (it trades against asks).
    s.venue.onTrade(98.5, 5, 1, 10);
    expect(s.take()).toEqual([]);
    // The seller sold 0.1 at 98.5: it would have met our bid first, but it sold only 0.1.
    s.venue.onTrade(98.5, 0.1, -1, 11);
    let us = s.take();
    expect(statuses(us)).toEqual(['partially_filled']);
    expect(fillsOf(us)).toEqual([[99, 0.1, true]]);
    expect(us[0]!.exchangeTimeNs).toBe(11);
    expect(s.venue.remaining(id)).toBe(1.9);
    s.venue.onTrade(98, 5, -1, 12);
    us = s.take();
    expect(statuses(us)).toEqual(['filled']);
    expect(fillsOf(us)).toEqual([[99, 1.9, true]]);
    expect(us[0]!.fill!.fee).toBeCloseTo(-99 * 1.9 * 0.0001, 15);
    expect(s.venue.isOpen(id)).toBe(false);
  });

  it('optimistic fill rule: a sell traded through a resting bid fills it whole, whatever the print size', () => {
    const s = standard({ fillRule: 'optimistic' });
    const id = s.order(1, 'limit', 99, 2);
    s.take();
    s.venue.onTrade(98.5, 0.1, -1, 11);
    const us = s.take();
    expect(statuses(us)).toEqual(['filled']);
    expect(fillsOf(us)).toEqual([[99, 2, true]]);
    expect(us[0]!.fill!.fee).toBeCloseTo(-99 * 2 * 0.0001, 15);
    expect(s.venue.isOpen(id)).toBe(false);
  });

  it('trades at the price shrink the queue ahead first; the excess fills us exactly (partial, then the rest)', () => {
    const s = standard();
    const id = s.order(1, 'limit', 99, 2);
    s.take();
    s.venue.onTrade(99, 1, -1, 1); // ahead 3 -> 2
    expect(s.take()).toEqual([]);
    expect(s.venue.queueAhead(id)).toBe(2);
    s.venue.onTrade(99, 2.5, -1, 2); // 2 ahead consumed, 0.5 fills us
    let us = s.take();
    expect(statuses(us)).toEqual(['partially_filled']);
    expect(fillsOf(us)).toEqual([[99, 0.5, true]]);
    expect(s.venue.queueAhead(id)).toBe(0);
    expect(s.venue.remaining(id)).toBe(1.5);
    s.venue.onTrade(99, 4, -1, 3); // fills the 1.5 left
    us = s.take();
    expect(statuses(us)).toEqual(['filled']);
    expect(fillsOf(us)).toEqual([[99, 1.5, true]]);
    expect(us[0]!.filledSize).toBe(2);
  });

  it('asks are symmetric: buy prints at the price consume the queue, buys above it trade through', () => {
    const s = standard();
    const a = s.order(-1, 'limit', 101, 1); // behind 2
    const b = s.order(-1, 'limit', 100.5, 1); // behind nothing
    s.take();
    expect([s.venue.queueAhead(a), s.venue.queueAhead(b)]).toEqual([2, 0]);
    s.venue.onTrade(101, 2.25, 1, 5);
    // 100.5 < 101: traded through, the better price first: 1 of the 2.25; at 101, 1.25 reaches the queue of 2
    // ahead of us: 0.75 left ahead, nothing for us.
    expect(fillsOf(s.take())).toEqual([[100.5, 1, true]]);
    expect(s.venue.queueAhead(a)).toBe(0.75);
    s.venue.onTrade(101, 1, 1, 6); // 0.75 ahead, then 0.25 of ours
    expect(fillsOf(s.take())).toEqual([[101, 0.25, true]]);
  });

  it('asks, optimistic rule: each order sees the whole print (100.5 filled whole, 2.25 at 101 fills 0.25 behind 2)', () => {
    const s = standard({ fillRule: 'optimistic' });
    s.order(-1, 'limit', 101, 1);
    s.order(-1, 'limit', 100.5, 1);
    s.take();
    s.venue.onTrade(101, 2.25, 1, 5);
    expect(fillsOf(s.take())).toEqual([
      [100.5, 1, true],
      [101, 0.25, true],
    ]);
  });

  describe('one print, many resting orders (--fill-rule)', () => {
    // A book with nothing resting at 99 and 98 (so no queue ahead of us there): bids 97 x 3; asks 100 x 1.
    const empty = (fillRule?: FillRule) => {
      const s = setup({ fillRule });
      s.level(1, 97, 3);
      s.level(-1, 100, 1);
      return s;
    };
    const fillsById = (us: ExchangeUpdate[]) => us.filter((u) => u.fill).map((u) => [u.orderId, u.fill!.price, u.fill!.size, u.status]);

    it('two buys of 1 at the same price, a sell print of 1.5 there: conservative 1 + 0.5 (time priority), optimistic 1 + 1', () => {
      const c = empty();
      const [a, b] = [c.order(1, 'limit', 99, 1), c.order(1, 'limit', 99, 1)];
      c.take();
      expect([c.venue.queueAhead(a), c.venue.queueAhead(b)]).toEqual([0, 0]);
      c.venue.onTrade(99, 1.5, -1, 7);
      expect(fillsById(c.take())).toEqual([
        [a, 99, 1, 'filled'],
        [b, 99, 0.5, 'partially_filled'],
      ]);
      const o = empty('optimistic');
      const [oa, ob] = [o.order(1, 'limit', 99, 1), o.order(1, 'limit', 99, 1)];
      o.take();
      o.venue.onTrade(99, 1.5, -1, 7);
      expect(fillsById(o.take())).toEqual([
        [oa, 99, 1, 'filled'],
        [ob, 99, 1, 'filled'],
      ]);
    });

    it('buys of 1 at 98 (sent first) and 99, a sell print of 1.5 at 98: conservative 1 at 99 then 0.5 at 98 (price priority), optimistic 1 + 1', () => {
      const c = empty();
      const [lo, hi] = [c.order(1, 'limit', 98, 1), c.order(1, 'limit', 99, 1)];
      c.take();
      c.venue.onTrade(98, 1.5, -1, 7);
      expect(fillsById(c.take())).toEqual([
        [hi, 99, 1, 'filled'],
        [lo, 98, 0.5, 'partially_filled'],
      ]);
      const o = empty('optimistic');
      const [olo, ohi] = [o.order(1, 'limit', 98, 1), o.order(1, 'limit', 99, 1)];
      o.take();
      o.venue.onTrade(98, 1.5, -1, 7);
      expect(fillsById(o.take())).toEqual([
        [ohi, 99, 1, 'filled'],
        [olo, 98, 1, 'filled'],
      ]);
    });

    it('two buys of 1 at 99 and 98.5, a sell print of 1.5 through both at 98: conservative 1 at 99 + 0.5 at 98.5', () => {
      const c = empty();
      const [lo, hi] = [c.order(1, 'limit', 98.5, 1), c.order(1, 'limit', 99, 1)];
      c.take();
      c.venue.onTrade(98, 1.5, -1, 7);
      expect(fillsById(c.take())).toEqual([
        [hi, 99, 1, 'filled'],
        [lo, 98.5, 0.5, 'partially_filled'],
      ]);
      expect(c.venue.remaining(lo)).toBe(0.5);
    });

    it('--fill-rule text: conservative and optimistic are the names; anything else is refused', () => {
      expect(parseFillRule('conservative')).toBe('conservative');
      expect(parseFillRule('optimistic')).toBe('optimistic');
      expect(() => parseFillRule('hftbacktest')).toThrow('--fill-rule must be one of conservative, optimistic, got "hftbacktest"');
    });
  });

  it("our own orders at one price fill FIFO: a trade's excess goes to the earlier order first", () => {
    const s = standard();
    const o1 = s.order(1, 'limit', 99, 1);
    const o2 = s.order(1, 'limit', 99, 1);
    s.take();
    expect([s.venue.queueAhead(o1), s.venue.queueAhead(o2)]).toEqual([3, 3]);
    // 4.5 sold at 99: 3 ahead, then o1's 1, then 0.5 of o2.
    s.venue.onTrade(99, 4.5, -1, 1);
    const us = s.take();
    expect(us.map((u) => [u.orderId, u.status, u.fill!.size])).toEqual([
      [o1, 'filled', 1],
      [o2, 'partially_filled', 0.5],
    ]);
  });

  it('a later own order that joined behind others is not filled before the earlier one is', () => {
    const s = standard();
    const o1 = s.order(1, 'limit', 99, 2); // ahead 3
    s.level(1, 99, 5); // 2 more join behind o1
    const o2 = s.order(1, 'limit', 99, 1); // ahead 5
    s.take();
    // Queue: 3 others, o1 (2), 2 others, o2. A sell of 4 at 99: the 3, then 1 of o1. Of o2's 5 ahead, the 3
    // others went (o1's lot is not among "others"): 2 left.
    s.venue.onTrade(99, 4, -1, 1);
    expect(s.take().map((u) => [u.orderId, u.fill!.size])).toEqual([[o1, 1]]);
    expect([s.venue.queueAhead(o1), s.venue.queueAhead(o2)]).toEqual([0, 2]);
    s.venue.onTrade(99, 3.5, -1, 2); // o1's last 1, then the 2 between, then 0.5 of o2
    expect(s.take().map((u) => [u.orderId, u.status, u.fill!.size])).toEqual([
      [o1, 'filled', 1],
      [o2, 'partially_filled', 0.5],
    ]);
  });

  it('quote-through: the opposite side quoting at or through a resting order fills it whole at its own price', () => {
    const s = standard();
    const bid = s.order(1, 'limit', 99, 2);
    const ask = s.order(-1, 'limit', 101.5, 3);
    s.take();
    // An ask appears at our bid's price.
    s.level(-1, 99, 0.5, 20);
    let us = s.take();
    expect(us.map((u) => [u.orderId, u.status])).toEqual([[bid, 'filled']]);
    expect(fillsOf(us)).toEqual([[99, 2, true]]);
    expect(us[0]!.exchangeTimeNs).toBe(20);
    // A bid above our ask.
    s.level(1, 101.75, 1, 21);
    us = s.take();
    expect(us.map((u) => [u.orderId, u.status])).toEqual([[ask, 'filled']]);
    expect(fillsOf(us)).toEqual([[101.5, 3, true]]);
    expect(s.venue.restingCount).toBe(0);
  });

  it('a snapshot caps queue positions at the new level sizes and fills quotes through', () => {
    const s = standard();
    const bid = s.order(1, 'limit', 99, 1); // ahead 3
    const ask = s.order(-1, 'limit', 103, 1); // ahead 0
    s.take();
    // The engine replaces the book: bids 99 x 1.25, asks 102.5 x 1.
    s.book.clear();
    s.book.set(1, 99, 1.25);
    s.book.set(-1, 102.5, 1);
    s.venue.onSnapshot(30);
    expect(s.take()).toEqual([]);
    expect(s.venue.queueAhead(bid)).toBe(1.25);
    expect(s.venue.queueAhead(ask)).toBe(0);
    s.book.clear();
    s.book.set(1, 103, 1);
    s.book.set(-1, 104, 1);
    s.venue.onSnapshot(31);
    expect(s.take().map((u) => [u.orderId, u.status, u.fill!.price])).toEqual([[ask, 'filled', 103]]);
    // Our bid at 99 is no longer displayed at all: nothing is ahead of it.
    expect(s.venue.queueAhead(bid)).toBe(0);
  });

  it('cancel: an open order is cancelled; a filled one or an unknown id is unknown_order', () => {
    const s = standard();
    const a = s.order(1, 'limit', 99, 1);
    const b = s.order(1, 'limit', 98, 1);
    s.take();
    s.venue.cancel(a, 5);
    let us = s.take();
    expect(statuses(us)).toEqual(['cancelled:user_cancel']);
    expect(us[0]!.exchangeTimeNs).toBe(5);
    expect(us[0]!.remaining).toBe(0);
    s.venue.onTrade(97, 1, -1, 6); // through 98: b filled
    expect(statuses(s.take())).toEqual(['filled']);
    s.venue.cancel(b, 7);
    us = s.take();
    expect(statuses(us)).toEqual(['cancel_rejected:unknown_order']);
    expect(us[0]!.orderId).toBe(b);
    s.venue.cancel(a, 8); // already cancelled
    s.venue.cancel(12345, 9); // never existed
    expect(statuses(s.take())).toEqual(['cancel_rejected:unknown_order', 'cancel_rejected:unknown_order']);
  });

  it('modify is a cancel-replace: the order keeps its id and fills, goes to the back of the queue', () => {
    const s = standard();
    const id = s.order(1, 'limit', 99, 2);
    s.take();
    s.venue.onTrade(99, 3.5, -1, 1); // 3 ahead, 0.5 fills us
    s.take();
    s.level(1, 99, 4); // others join behind: 4 displayed
    expect(s.venue.queueAhead(id)).toBe(0);
    // Same price, new total size 3 (2.5 open): behind all 4 displayed now.
    s.venue.modify(id, 99, 3, 2);
    let us = s.take();
    expect(statuses(us)).toEqual(['modified']);
    expect([us[0]!.size, us[0]!.filledSize, us[0]!.remaining]).toEqual([3, 0.5, 2.5]);
    expect(s.venue.queueAhead(id)).toBe(4);
    // A modify to a crossing price takes (GTC), then rests.
    s.venue.modify(id, 100, 3, 3);
    us = s.take();
    expect(statuses(us)).toEqual(['modified', 'partially_filled']);
    expect(fillsOf(us)).toEqual([[100, 1, false]]);
    expect(s.venue.remaining(id)).toBe(1.5);
    // Size not above what is filled: refused, order unchanged.
    s.venue.modify(id, 100, 1.5, 4);
    expect(statuses(s.take())).toEqual(['modify_rejected:invalid_order']);
    expect(s.venue.remaining(id)).toBe(1.5);
    s.venue.modify(999, 100, 1, 5);
    expect(statuses(s.take())).toEqual(['modify_rejected:unknown_order']);
  });

  it('a post-only modify that would cross is refused and the order keeps its queue position', () => {
    const s = standard();
    const id = s.order(1, 'limit', 99, 1, 'POST_ONLY');
    s.take();
    s.venue.onTrade(99, 1, -1, 1); // ahead 3 -> 2
    s.venue.modify(id, 100, 1, 2);
    expect(statuses(s.take())).toEqual(['modify_rejected:post_only_would_take']);
    expect(s.venue.queueAhead(id)).toBe(2);
  });

  it('an emit callback that calls back into the venue is an error', () => {
    const book = new OrderBook();
    book.set(1, 99, 1);
    let venue: SimulatedVenue;
    venue = new SimulatedVenue({
      venue: 0,
      book,
      queue: new RiskAverseQueue(),
      fees,
      rateLimiter: unlimited,
      emit: () => venue.cancel(1, 0),
    });
    expect(() => venue.arrive({ orderId: 1, venue: 0, side: 1, type: 'limit', price: 99, size: 1, tif: 'GTC' }, 0)).toThrow(/re-entrant/);
  });
});

describe('rate limit', () => {
  it('orders over the limit are rejected with rate_limit before any other check; modifies count, cancels do not', () => {
    const s = standard({ limiter: new WindowLimiter(2, 1_000_000_000) });
    const a = s.order(1, 'limit', 99, 1, 'GTC', 0);
    s.order(1, 'limit', 98, 1, 'GTC', 100);
    s.order(1, 'limit', 97, 1, 'GTC', 200);
    s.order(1, 'limit', NaN, 1, 'GTC', 300); // invalid too, but the limiter answers first
    expect(statuses(s.take())).toEqual(['accepted', 'accepted', 'rejected:rate_limit', 'rejected:rate_limit']);
    s.venue.modify(a, 99, 2, 400);
    s.venue.cancel(a, 500);
    expect(statuses(s.take())).toEqual(['modify_rejected:rate_limit', 'cancelled:user_cancel']);
    // The first request (t = 0) leaves the window at t = 1e9.
    s.order(1, 'limit', 97, 1, 'GTC', 1_000_000_000);
    s.order(1, 'limit', 97, 1, 'GTC', 1_000_000_001);
    expect(statuses(s.take())).toEqual(['accepted', 'rejected:rate_limit']);
  });
});

describe('queue models', () => {
  const power1 = ProbabilisticQueue.power(1);
  const power2 = ProbabilisticQueue.power(2);
  const power3 = ProbabilisticQueue.power(3);
  const log = ProbabilisticQueue.log();
  const risk = new RiskAverseQueue();

  it('risk-averse: join behind the level, trades shrink the queue, a level change only caps it', () => {
    expect(risk.onJoin(10)).toBe(10);
    expect(risk.onJoin(0)).toBe(0);
    expect(risk.onTrade(10, 3)).toBe(7);
    expect(risk.onTrade(2, 5)).toBe(0);
    expect(risk.onLevelChange(7, 10, 9)).toBe(7); // cancels are assumed behind us
    expect(risk.onLevelChange(10, 10, 9)).toBe(9); // ... unless the level is now smaller than our queue
    expect(risk.onLevelChange(5, 5, 8)).toBe(5); // additions go behind
    expect(risk.onLevelChange(5, 5, 0)).toBe(0); // the level is gone: nothing is ahead
  });

  it('probabilistic: front 3, back 7, the level shrinks 10 -> 6 (chg 4)', () => {
    // pBehind = f(7) / (f(3) + f(7)); ahead = 3 - (1 - pBehind) * 4 (the back absorbs its share).
    expect(power1.onLevelChange(3, 10, 6)).toBeCloseTo(3 - 0.3 * 4, 12); // 1.8
    expect(power2.onLevelChange(3, 10, 6)).toBeCloseTo(3 - (9 / 58) * 4, 12); // 2.3793103448...
    expect(power3.onLevelChange(3, 10, 6)).toBeCloseTo(3 - (27 / 370) * 4, 12); // 2.7081081081...
    // ln 4 / (ln 4 + ln 8) = 2/5 of the decrease comes off the front.
    expect(log.onLevelChange(3, 10, 6)).toBeCloseTo(3 - 0.4 * 4, 12); // 1.4
    expect(risk.onLevelChange(3, 10, 6)).toBe(3);
  });

  it('probabilistic: what the back cannot absorb comes off the front (front 1, back 3, 4 -> 0.6, n = 2)', () => {
    // pBehind = 9/10; 1 - 0.1 * 3.4 + min(3 - 0.9 * 3.4, 0) = 0.66 - 0.06 = 0.6: everyone behind left.
    expect(power2.onLevelChange(1, 4, 0.6)).toBeCloseTo(0.6, 12);
    expect(power2.onLevelChange(1, 4, 0)).toBe(0);
  });

  it('probabilistic: increases go behind, nothing in front stays nothing, empty queues give 0', () => {
    expect(power2.onLevelChange(3, 10, 12)).toBe(3);
    expect(power2.onLevelChange(0, 5, 3)).toBe(0); // f(0) = 0: the whole decrease was behind
    expect(power2.onLevelChange(0, 0, 0)).toBe(0);
    expect(log.onLevelChange(4, 4, 12)).toBe(4);
    expect(power1.onTrade(4, 1.5)).toBe(2.5);
    expect(power1.onTrade(1, 1.5)).toBe(0);
  });

  it("one cancel at the price never clears the whole queue ahead (in either model)", () => {
    for (const m of [risk, power1, power2, power3, log]) {
      // We are behind 10, nobody behind us; one lot is cancelled.
      expect(m.onLevelChange(10, 10, 9)).toBe(9);
    }
    // With 10 behind us too: power-2 splits 50/50, so the front loses half a lot.
    expect(power2.onLevelChange(10, 20, 19)).toBeCloseTo(9.5, 12);
    expect(risk.onLevelChange(10, 20, 19)).toBe(10);
    // In the venue: join behind 10; one lot of 10 is cancelled.
    for (const queue of [risk, power2, log]) {
      const s = setup({ queue });
      s.level(1, 99, 10);
      s.level(-1, 100, 1);
      const id = s.order(1, 'limit', 99, 1);
      s.level(1, 99, 9);
      expect(s.venue.queueAhead(id)).toBe(9);
      expect(s.take().filter((u) => u.fill)).toEqual([]);
    }
  });

  it('in the venue, trades at the price are not counted again when the level shrinks', () => {
    // Join behind 10; 10 more join behind; a sell prints 4 at 99 (ahead 6); the level then shows 20 -> 14:
    // 4 of the 6 are the trade, 2 are cancels. power-1: front 6, back 16 - 6 = 10, pBehind = 10/16,
    // ahead = 6 - (6/16) * 2 = 5.25. Risk-averse: 6.
    const expected: [QueueModel, number][] = [
      [power1, 5.25],
      [risk, 6],
    ];
    for (const [queue, ahead] of expected) {
      const s = setup({ queue });
      s.level(1, 99, 10);
      const id = s.order(1, 'limit', 99, 1);
      s.level(1, 99, 20);
      s.venue.onTrade(99, 4, -1, 1);
      expect(s.venue.queueAhead(id)).toBe(6);
      s.level(1, 99, 14);
      expect(s.venue.queueAhead(id)).toBe(ahead);
      // A level change with no trade in between: power-1 14 -> 13, front 5.25, back 8.75:
      // pBehind = 8.75/14, ahead = 5.25 - 5.25/14 = 4.875. Risk-averse: still 6.
      s.level(1, 99, 13);
      expect(s.venue.queueAhead(id)).toBe(queue === risk ? 6 : 4.875);
    }
  });

  it('parseQueueModel: the accepted forms, descriptions and clear errors', () => {
    expect(parseQueueModel('risk-averse')).toBeInstanceOf(RiskAverseQueue);
    expect(parseQueueModel('risk-averse').description).toBe('risk-averse');
    expect(parseQueueModel('prob-power:2').description).toBe('prob-power:2');
    expect(parseQueueModel('prob-power:3').onLevelChange(3, 10, 6)).toBeCloseTo(3 - (27 / 370) * 4, 12);
    expect(parseQueueModel('prob-power:1.5').description).toBe('prob-power:1.5');
    expect(parseQueueModel('prob-log').description).toBe('prob-log');
    expect(parseQueueModel('prob-log').onLevelChange(3, 10, 6)).toBeCloseTo(1.4, 12);
    expect(() => parseQueueModel('prob-power')).toThrow(/needs an exponent, e\.g\. prob-power:2/);
    expect(() => parseQueueModel('prob-power:0')).toThrow(/positive number, got "0"/);
    expect(() => parseQueueModel('prob-power:x')).toThrow(/positive number, got "x"/);
    expect(() => parseQueueModel('fifo')).toThrow(/unknown queue model "fifo" \(accepted: 'risk-averse', 'prob-power:<n>'/);
  });
});

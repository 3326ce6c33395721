// The replay engine's semantics, pinned with exact numbers (docs/replay.md).
//
// Part 1 builds tiny datasets by hand (one venue, binance-usdm BTCUSDT; exchange times chosen to the
// nanosecond, local times = exchange time + 1 ms unless a row says otherwise) and runs small strategies
// through runReplay directly, so every time and price below can be checked with pencil and paper.
// Part 2 runs the built-in strategies on the bundled capture (datasets/binance-2024-08-08) through runOnce,
// which loads them from dist/strategies: the suite builds dist first.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { DatasetWriter } from '../src/data/writer.js';
import { EventKind, Flag, type StreamInfo } from '../src/data/types.js';
import { NS_PER_S } from '../src/data/time.js';
import { loadMarketData } from '../src/engine/market-data.js';
import { runReplay, type FillRecord, type ReplayResult, type VenueSetup } from '../src/engine/replay.js';
import { buildVenueLatency, parseLatency, type VenueLatencyOptions } from '../src/simulation/latency.js';
import { ProbabilisticQueue, RiskAverseQueue } from '../src/simulation/queue.js';
import { ProportionalFees } from '../src/simulation/fees.js';
import { parseRateLimit } from '../src/simulation/rate-limit.js';
import { createRng } from '../src/simulation/random.js';
import { contractSpec } from '../src/exchanges/registry.js';
import { BUY, SELL, resolveParams, type Context, type OrderRequest, type OrderUpdate, type Strategy, type VenueRef } from '../src/strategy/api.js';
import type { QueueModel } from '../src/simulation/types.js';
import { tempDir } from './helpers.js';

const root = path.resolve(__dirname, '..');
const bundled = path.join(root, 'datasets/binance-2024-08-08');
const MS = 1_000_000;
const T0 = 1_723_161_600n * NS_PER_S; // 2024-08-09T00:00:00Z: the dataset origin (first local time, floored to the second)
const VENUE = { exchange: 'binance-usdm', symbol: 'BTCUSDT' };

// ---------------------------------------------------------------------------------------------------------
// Hand-made datasets.

interface Row {
  /** Exchange time, ns after T0. */
  t: number;
  kind: number;
  side: number;
  price: number;
  size: number;
  flags: number;
  /** local - exchange time, ns (default 1 ms). */
  delay?: number;
  /** Index into the dataset's streams (default 0). */
  stream?: number;
  /** publish - exchange time, ns (default 0: one exchange clock). */
  pub?: number;
}

const snapshot = (t: number, bids: [number, number][], asks: [number, number][]): Row[] => {
  const levels: [number, number, number][] = [...bids.map(([p, s]): [number, number, number] => [1, p, s]), ...asks.map(([p, s]): [number, number, number] => [-1, p, s])];
  return levels.map(([side, price, size], i) => ({
    t,
    kind: EventKind.BookSnapshot,
    side,
    price,
    size,
    flags: (i === 0 ? Flag.SnapshotBegin : 0) | (i === levels.length - 1 ? Flag.SnapshotEnd | Flag.MessageEnd : 0),
  }));
};
const level = (t: number, side: number, price: number, size: number, delay?: number): Row => ({ t, kind: EventKind.BookLevel, side, price, size, flags: Flag.MessageEnd, delay });
const trade = (t: number, aggressor: number, price: number, size: number, delay?: number): Row => ({ t, kind: EventKind.Trade, side: aggressor, price, size, flags: Flag.MessageEnd, delay });

const USDM_STREAM: StreamInfo = { exchange: 'binance-usdm', market: 'linear', symbol: 'BTCUSDT' };

/** Writes `rows` (in this order) as a dataset of `streams` (default: binance-usdm BTCUSDT); returns its folder. */
function makeDataset(rows: Row[], streams: StreamInfo[] = [USDM_STREAM]): string {
  const dir = path.join(tempDir('latencylab-replay-'), 'ds');
  const w = new DatasetWriter(dir);
  const ids = streams.map((x) => w.stream(x));
  rows.forEach((r, i) => {
    const exch = T0 + BigInt(r.t);
    w.event(ids[r.stream ?? 0]!, exch + BigInt(r.delay ?? MS), exch, r.kind, r.side, r.price, r.size, BigInt(i + 1), BigInt(i), r.flags, exch + BigInt(r.pub ?? 0));
  });
  w.close();
  return dir;
}

interface Setup {
  latency: VenueLatencyOptions;
  queue?: QueueModel;
  seed?: number;
}

/** One run of `strategy` on a hand-made dataset: constant fees 0.02%/0.05%, no rate limit, 100,000 USDT. */
function replay(dir: string, strategy: Strategy, s: Setup, venues: VenueRef[] = [VENUE]): ReplayResult {
  const data = loadMarketData(dir, venues);
  const rng = createRng(s.seed ?? 1);
  const setups = venues.map(
    (v, i): VenueSetup => ({
      // Toy prices near 100 are below BTCUSDT's minimum order value (100 USDT on USD-M): drop that one rule
      // here (test/order-rules.test.ts covers the exchange rules).
      spec: { ...contractSpec(v.exchange, v.symbol), minNotional: 0 },
      latency: buildVenueLatency(s.latency, rng, data.clock),
      queue: s.queue ?? new RiskAverseQueue(),
      fees: new ProportionalFees(0.0002, 0.0005),
      rateLimiter: parseRateLimit('none'),
      initialBalances: v.exchange === 'binance-spot' ? { USDT: 100_000, BTC: 1 } : { USDT: 100_000 },
    }),
  );
  return runReplay({ data, strategy, venues: setups, rng });
}

/** What a strategy saw, in the order it saw it. */
interface Seen {
  at: number;
  what: 'book' | 'trade' | 'update';
  bestAsk?: number;
  tradeExchNs?: number;
  update?: Pick<OrderUpdate, 'orderId' | 'status' | 'reason' | 'exchangeTimeNs' | 'lastFillPrice' | 'lastFillSize'>;
}

/**
 * A test strategy: writes down every callback with ctx.now(), and runs `onBookN(ctx, n)` on the n-th book
 * callback (0-based) to send orders.
 */
function observer(onBookN: (ctx: Context, n: number) => void = () => {}): { strategy: Strategy; seen: Seen[] } {
  const seen: Seen[] = [];
  let n = 0;
  const strategy: Strategy = {
    onBook(ctx) {
      seen.push({ at: ctx.now(), what: 'book', bestAsk: ctx.book(0).bestAsk() });
      onBookN(ctx, n++);
    },
    onTrade(ctx, t) {
      seen.push({ at: ctx.now(), what: 'trade', tradeExchNs: t.exchangeTimeNs });
    },
    onOrderUpdate(ctx, u) {
      const { orderId, status, reason, exchangeTimeNs, lastFillPrice, lastFillSize } = u;
      seen.push({ at: ctx.now(), what: 'update', update: { orderId, status, reason, exchangeTimeNs, lastFillPrice, lastFillSize } });
    },
  };
  return { strategy, seen };
}

const marketBuy = (size: number): OrderRequest => ({ venue: 0, side: BUY, type: 'market', size });

// The story dataset: a book at 10 ms whose best ask (101) is taken away at 20 ms and comes back at 30 ms.
// The trade at 19 ms was recorded after the 20 ms depth row (trades and depth are separate channels), so it
// takes effect at 20 ms; the 30 ms row reached the recorder 3.5 ms after its exchange time, not 1 ms.
const STORY: Row[] = [
  ...snapshot(10 * MS, [[100, 5], [99, 5]], [[101, 1], [102, 1]]),
  level(20 * MS, -1, 101, 0),
  trade(19 * MS, 1, 102, 0.1, 3 * MS),
  level(30 * MS, -1, 101, 2, 3.5 * MS),
  level(40 * MS, 1, 100, 4),
];

describe('latency semantics on a hand-made dataset', () => {
  const story = makeDataset(STORY);

  it('the dataset: origin at the first local time floored to the second, clock offset 1 ms, each message at its exchange time', () => {
    const data = loadMarketData(story, [VENUE]);
    expect(data.originNs).toBe(T0);
    // one 10 s window of the recorder's clock model: its knot is the smallest local - exchange time, 1 ms
    expect(data.clock.knots).toBe(1);
    expect(data.clock.offsetAt(0)).toBe(1 * MS);
    // no publish_ts given: publish time = exchange time
    expect([...data.byVenue[0]![0]!.pubNs]).toEqual([...data.byVenue[0]![0]!.exchNs]);
    const c = data.byVenue[0]![0]!;
    expect([...c.exchNs]).toEqual([10, 10, 10, 10, 20, 19, 30, 40].map((x) => x * MS));
    // each message takes effect at its own exchange time: the late trade (19 ms, recorded after the 20 ms row) at 19 ms
    expect([...c.effNs]).toEqual([10, 10, 10, 10, 20, 19, 30, 40].map((x) => x * MS));
    // the exchange side applies the rows in exchange-time order: the trade before the 20 ms depth row
    const x = data.exchangeOrder[0]![0]!;
    expect([...x.exchNs]).toEqual([10, 10, 10, 10, 19, 20, 30, 40].map((x) => x * MS));
    expect([...x.effNs]).toEqual([10, 10, 10, 10, 19, 20, 30, 40].map((x) => x * MS));
  });

  it('feed latency 0: the strategy sees each row at its effect time', () => {
    const { strategy, seen } = observer();
    replay(story, strategy, { latency: { latency: '0' } });
    expect(seen).toEqual([
      { at: 10 * MS, what: 'book', bestAsk: 101 },
      { at: 20 * MS, what: 'book', bestAsk: 102 },
      { at: 20 * MS, what: 'trade', tradeExchNs: 19 * MS },
      { at: 30 * MS, what: 'book', bestAsk: 101 },
      { at: 40 * MS, what: 'book', bestAsk: 101 },
    ]);
  });

  it('--feed 1ms: exactly 1 ms later, row by row', () => {
    const { strategy, seen } = observer();
    replay(story, strategy, { latency: { feed: '1ms' } });
    expect(seen.map((s) => s.at)).toEqual([11, 21, 21, 31, 41].map((x) => x * MS));
  });

  it('--feed 250us: units are honoured to the nanosecond', () => {
    const { strategy, seen } = observer();
    replay(story, strategy, { latency: { feed: '250us' } });
    expect(seen.map((s) => s.at)).toEqual([10_250_000, 20_250_000, 20_250_000, 30_250_000, 40_250_000]);
  });

  it('--feed recorded: each row when the recorder got it, less the clock offset (local - 1 ms)', () => {
    const { strategy, seen } = observer();
    replay(story, strategy, { latency: { feed: 'recorded' } });
    // local - offset: 10, 20, 22 - 1 = 21 (the late trade), 33.5 - 1 = 32.5, 40
    expect(seen.map((s) => s.at)).toEqual([10 * MS, 20 * MS, 21 * MS, 32.5 * MS, 40 * MS]);
  });

  describe('two exchange clocks: the exchange moves at the match time, the feed counts from the publish time', () => {
    // The 20 ms change was published at 25 ms (Binance futures T = 20, E = 25) and received at 27 ms.
    const published = makeDataset([
      ...snapshot(10 * MS, [[100, 5]], [[101, 1], [102, 1]]),
      { ...level(20 * MS, -1, 101, 0, 7 * MS), pub: 5 * MS },
      level(40 * MS, 1, 100, 4),
    ]);

    it('--feed 1ms: the change reaches the strategy at publish + 1 = 26 ms, not match + 1 = 21 ms', () => {
      const { strategy, seen } = observer();
      replay(published, strategy, { latency: { feed: '1ms' } });
      expect(seen.map((x) => [x.at / MS, x.bestAsk])).toEqual([
        [11, 101],
        [26, 102],
        [41, 102],
      ]);
    });

    it('the exchange side moves at the match time: an order arriving at 21 ms finds 101 gone', () => {
      const { strategy } = observer((ctx, n) => {
        if (n === 0) ctx.submit(marketBuy(0.5));
      });
      const r = replay(published, strategy, { latency: { feed: '0', order: '11ms', response: '0' } });
      expect(r.orders[0]!.arrivedNs).toBe(21 * MS);
      expect(r.fills.map((f) => [f.price, f.size])).toEqual([[102, 0.5]]);
    });

    it('--feed recorded: the recorder clock (offset 1 ms, the fastest rows) puts the change at 27 - 1 = 26 ms', () => {
      const { strategy, seen } = observer();
      replay(published, strategy, { latency: { feed: 'recorded' } });
      expect(seen.map((x) => x.at / MS)).toEqual([10, 26, 40]);
    });
  });

  it('--feed recorded: one clock for the recorder, so rows of two venues keep the order the recorder received them in', () => {
    // USD-M trades arrive 1 ms after their exchange time, spot trades 60 ms after theirs; local times interleave:
    // usdm 100, spot 150, usdm 200, spot 250, usdm 300 ms. A clock offset per venue (spot 60 ms, USD-M 1 ms)
    // would deliver spot at 90 and 190 ms, before the USD-M rows received earlier; one offset (1 ms) keeps the
    // receive order.
    const spot = (r: Row): Row => ({ ...r, stream: 1 });
    const dir = makeDataset(
      [
        trade(99 * MS, 1, 100, 0.1),
        spot(trade(90 * MS, 1, 200, 0.1, 60 * MS)),
        trade(199 * MS, 1, 100, 0.1),
        spot(trade(190 * MS, 1, 200, 0.1, 60 * MS)),
        trade(299 * MS, 1, 100, 0.1),
      ],
      [USDM_STREAM, { exchange: 'binance-spot', market: 'spot', symbol: 'BTCUSDT' }],
    );
    const seen: [number, number][] = [];
    const strategy: Strategy = {
      onTrade(ctx, t) {
        seen.push([t.venue, ctx.now() / MS]);
      },
    };
    replay(dir, strategy, { latency: { feed: 'recorded' } }, [VENUE, { exchange: 'binance-spot', symbol: 'BTCUSDT' }]);
    expect(seen).toEqual([
      [0, 99],
      [1, 149],
      [0, 199],
      [1, 249],
      [0, 299],
    ]);
  });

  describe('an order sent at t with order latency L fills against the book as of t + L', () => {
    // Sent at 10 ms (the snapshot, feed 0); the best ask 101 disappears at exactly 20 ms.
    const run = (order: string) => {
      const { strategy } = observer((ctx, n) => {
        if (n === 0) ctx.submit(marketBuy(0.5));
      });
      return replay(story, strategy, { latency: { feed: '0', order, response: '0' } });
    };

    it('L = 9 ms - 1 ns: arrives at 18.999999 ms, before the buy print at 102 (19 ms) and the change, and buys at 101', () => {
      const r = run('8999999ns');
      expect(r.orders[0]!.sentNs).toBe(10 * MS);
      expect(r.orders[0]!.arrivedNs).toBe(19 * MS - 1);
      expect(r.fills.map((f) => [f.price, f.size, f.exchangeTimeNs])).toEqual([[101, 0.5, 19 * MS - 1]]);
    });

    it('L = 10 ms - 1 ns: arrives at 19.999999 ms, after the buy print at 102 at 19 ms: 101 was gone (real-time touch), buys at 102', () => {
      const r = run('9999999ns');
      expect(r.orders[0]!.arrivedNs).toBe(20 * MS - 1);
      // (before the real-time touch: 101, from the depth book that still showed it until 20 ms)
      expect(r.fills.map((f) => [f.price, f.size, f.exchangeTimeNs])).toEqual([[102, 0.5, 20 * MS - 1]]);
    });

    it('L = 10 ms + 1 ns: arrives 1 ns after the change, and buys at 102', () => {
      const r = run('10000001ns');
      expect(r.orders[0]!.arrivedNs).toBe(20 * MS + 1);
      expect(r.fills.map((f) => [f.price, f.size, f.exchangeTimeNs])).toEqual([[102, 0.5, 20 * MS + 1]]);
    });

    it('tie rule: L = 10 ms arrives at exactly the change’s exchange time and sees it (market data first): 102', () => {
      const r = run('10ms');
      expect(r.orders[0]!.arrivedNs).toBe(20 * MS);
      expect(r.fills.map((f) => [f.price, f.size, f.exchangeTimeNs])).toEqual([[102, 0.5, 20 * MS]]);
    });
  });

  it('the fill is seen at its exchange time + response latency, exactly', () => {
    const { strategy, seen } = observer((ctx, n) => {
      if (n === 0) ctx.submit(marketBuy(0.5));
    });
    const r = replay(story, strategy, { latency: { feed: '0', order: '1ms', response: '2.5ms' } });
    // sent 10 ms, at the exchange 11 ms (ask 101 x1), responses 2.5 ms later
    expect(seen.filter((s) => s.what === 'update')).toEqual([
      { at: 13.5 * MS, what: 'update', update: { orderId: 1, status: 'accepted', reason: undefined, exchangeTimeNs: 11 * MS, lastFillPrice: NaN, lastFillSize: 0 } },
      { at: 13.5 * MS, what: 'update', update: { orderId: 1, status: 'filled', reason: undefined, exchangeTimeNs: 11 * MS, lastFillPrice: 101, lastFillSize: 0.5 } },
    ]);
    expect(r.fills).toEqual([{ orderId: 1, venue: 0, side: 1, price: 101, size: 0.5, maker: false, fee: 101 * 0.5 * 0.0005, exchangeTimeNs: 11 * MS, seenNs: 13.5 * MS, midAtFill: 100.5, midAfter: 100.5 }]);
    expect(r.orders[0]).toMatchObject({ sentNs: 10 * MS, arrivedNs: 11 * MS, finalStatus: 'filled', filledSize: 0.5 });
  });

  it('adverse selection: each fill is marked to the exchange-side mid 1 s later, without moving the strategy clock', () => {
    // Bought 0.5 at 101 at 11 ms (mid 100.5); at 500 ms the market is 102 / 103 (mid 102.5); at 1.2 s 99 / 100.
    const dir = makeDataset([
      ...snapshot(10 * MS, [[100, 5]], [[101, 1]]),
      level(500 * MS, 1, 102, 1),
      level(500 * MS, -1, 101, 0),
      level(500 * MS, -1, 103, 1),
      level(1200 * MS, 1, 102, 0),
      level(1200 * MS, 1, 99, 1),
      level(1200 * MS, 1, 100, 0),
      level(1200 * MS, -1, 103, 0),
      level(1200 * MS, -1, 100, 1),
    ]);
    const { strategy } = observer((ctx, n) => {
      if (n === 0) ctx.submit(marketBuy(0.5));
    });
    const r = replay(dir, strategy, { latency: { latency: '1ms' } });
    expect(r.fills.map((f) => [f.price, f.midAtFill, f.midAfter])).toEqual([[101, 100.5, 102.5]]);
    expect(r.markoutNs).toBe(1e9);
    expect(r.lastNs).toBe(1201 * MS); // the markout at 1.011 s did not stretch the run
  });

  it('tie rule on the strategy side: data reaching the strategy at t comes before a response reaching it at t', () => {
    // Sent at 10 ms, at the exchange 10 ms, response due at 20 ms: the same time as the 20 ms row's delivery.
    const { strategy, seen } = observer((ctx, n) => {
      if (n === 0) ctx.submit(marketBuy(0.5));
    });
    replay(story, strategy, { latency: { feed: '0', order: '0', response: '10ms' } });
    expect(seen.map((s) => [s.at / MS, s.what, s.update?.status ?? s.bestAsk ?? s.tradeExchNs])).toEqual([
      [10, 'book', 101],
      [20, 'book', 102],
      [20, 'trade', 19 * MS],
      [20, 'update', 'accepted'],
      [20, 'update', 'filled'],
      [30, 'book', 101],
      [40, 'book', 101],
    ]);
  });

  it('per-operation latency: a cancel takes its own latency, but never overtakes an earlier new order on the connection', () => {
    // order (new) 5 ms, cancel 1 ms. At 10 ms: A sent and cancelled at once, B sent. At 20 ms: B cancelled.
    const ids: number[] = [];
    const { strategy, seen } = observer((ctx, n) => {
      const bid = (): OrderRequest => ({ venue: 0, side: BUY, type: 'limit', price: 99, size: 1 });
      if (n === 0) {
        ids.push(ctx.submit(bid()));
        ctx.cancel(ids[0]!); // would reach the exchange at 11 ms, before A itself: it is held back to 15 ms
        ids.push(ctx.submit(bid()));
      }
      if (n === 1) ctx.cancel(ids[1]!); // 20 ms + 1 ms (cancel latency): 21 ms
    });
    const r = replay(story, strategy, { latency: { feed: '0', order: '5ms', cancel: '1ms', response: '0' } });
    expect(r.orders.map((o) => [o.orderId, o.sentNs, o.arrivedNs, o.finalStatus, o.reason])).toEqual([
      [1, 10 * MS, 15 * MS, 'cancelled', 'user_cancel'],
      [2, 10 * MS, 15 * MS, 'cancelled', 'user_cancel'],
    ]);
    expect(seen.filter((s) => s.what === 'update').map((s) => [s.update!.orderId, s.update!.status, s.update!.exchangeTimeNs])).toEqual([
      [1, 'accepted', 15 * MS],
      [1, 'cancelled', 15 * MS], // the cancel arrived right after its order, not at 11 ms
      [2, 'accepted', 15 * MS],
      [2, 'cancelled', 21 * MS], // a later cancel takes 1 ms, not 5
    ]);
  });

  it('two venues: at equal times the lower venue index goes first, on both timelines, whatever the recorded order', () => {
    // Spot rows are recorded first, but the run lists the perpetual first (venue 0).
    const spot = (r: Row): Row => ({ ...r, stream: 1 });
    const dir = makeDataset(
      [
        ...snapshot(10 * MS, [[100, 5]], [[101, 5]]).map(spot),
        ...snapshot(10 * MS, [[200, 5]], [[201, 5]]),
        spot(level(20 * MS, -1, 101, 0)),
        level(20 * MS, -1, 201, 0),
      ],
      [USDM_STREAM, { exchange: 'binance-spot', market: 'spot', symbol: 'BTCUSDT' }],
    );
    const seen: [number, number, number][] = [];
    let sent = false;
    const strategy: Strategy = {
      onBook(ctx, v) {
        seen.push([ctx.now() / MS, v, ctx.book(v).bestAsk()]);
        // a spot buy sent at 10 ms (on the perpetual's book) arriving at 20 ms sees both venues' 20 ms rows
        if (!sent && v === 0) {
          sent = true;
          ctx.submit({ venue: 1, side: BUY, type: 'market', size: 0.1 });
        }
      },
    };
    const r = replay(dir, strategy, { latency: { feed: '0', order: '10ms', response: '0' } }, [VENUE, { exchange: 'binance-spot', symbol: 'BTCUSDT' }]);
    expect(seen).toEqual([
      [10, 0, 201],
      [10, 1, 101],
      [20, 0, NaN],
      [20, 1, NaN],
    ]);
    expect(r.orders[0]).toMatchObject({ venue: 1, sentNs: 10 * MS, arrivedNs: 20 * MS, finalStatus: 'cancelled', reason: 'no_liquidity' });
    expect(r.fills).toEqual([]);
  });

  describe('lognormal latency with a seed', () => {
    // 1 snapshot and 200 changes of the best ask, one every 0.1 ms; the strategy buys or sells 0.01 on every
    // book it sees and cancels nothing.
    const rows: Row[] = [...snapshot(10 * MS, [[100, 50]], [[101, 50]])];
    for (let i = 1; i <= 200; i++) rows.push(level(10 * MS + i * 100_000, -1, 101, 50 + (i % 7)));
    const busy = makeDataset(rows);
    const run = (seed: number) => {
      const { strategy, seen } = observer((ctx, n) => {
        ctx.submit({ venue: 0, side: n % 2 ? SELL : BUY, type: 'market', size: 0.01 });
      });
      const r = replay(busy, strategy, { latency: { latency: 'lognormal:p50=1ms,p99=5ms' }, seed });
      return { r, seen };
    };

    it('the same seed gives identical arrivals, fills and callbacks; another seed different arrival times', () => {
      const a = run(7);
      const b = run(7);
      const c = run(8);
      expect(a.r.orders).toHaveLength(201);
      expect(a.r.fills).toHaveLength(201);
      expect(b.r.fills).toEqual(a.r.fills);
      expect(b.r.orders).toEqual(a.r.orders);
      expect(b.seen).toEqual(a.seen);
      expect(c.r.orders.map((o) => o.arrivedNs)).not.toEqual(a.r.orders.map((o) => o.arrivedNs));
      expect(c.seen.map((s) => s.at)).not.toEqual(a.seen.map((s) => s.at));
    });

    it('every delivery stays in order: feed, order arrivals and responses never go back in time', () => {
      for (const seed of [7, 8, 9]) {
        const { r, seen } = run(seed);
        const nonDecreasing = (xs: number[]) => xs.every((x, i) => i === 0 || x >= xs[i - 1]!);
        expect(nonDecreasing(seen.map((s) => s.at))).toBe(true);
        expect(nonDecreasing(seen.filter((s) => s.what === 'book').map((s) => s.at))).toBe(true);
        expect(nonDecreasing(r.orders.map((o) => o.arrivedNs))).toBe(true); // in send order
        expect(nonDecreasing(r.fills.map((f) => f.seenNs))).toBe(true);
        expect(r.orders.every((o) => o.arrivedNs >= o.sentNs && Number.isInteger(o.arrivedNs))).toBe(true);
        expect(r.fills.every((f) => f.seenNs >= f.exchangeTimeNs)).toBe(true);
        // the latency really is random: arrivals are not a constant distance after sending (many are equal
        // only because a slow message holds back the ones behind it on the connection)
        expect(new Set(r.orders.map((o) => o.arrivedNs - o.sentNs)).size).toBeGreaterThan(10);
      }
    });
  });
});

describe('exchange-time order and per-message delivery', () => {
  const limitBid = (price: number, size: number) =>
    observer((ctx, n) => {
      if (n === 0) ctx.submit({ venue: 0, side: BUY, type: 'limit', price, size });
    });

  // A sell print at 12 ms reached the recorder after the 16 ms depth row (delay 5 ms: local 17 ms).
  const LATE_PRINT: Row[] = [
    ...snapshot(10 * MS, [[100, 5]], [[101, 5]]),
    level(16 * MS, -1, 101, 4),
    trade(12 * MS, -1, 100, 10, 5 * MS),
  ];

  it('a print never fills an order that arrived after it: a bid arriving at 15 ms is not filled by the 12 ms print received late', () => {
    const dir = makeDataset(LATE_PRINT);
    const { strategy } = limitBid(100, 1);
    const r = replay(dir, strategy, { latency: { feed: '0', order: '5ms', response: '0' } });
    expect(r.orders[0]!.arrivedNs).toBe(15 * MS);
    // (before: the print took effect at max(12, 16) = 16 ms and filled the bid: 10 printed, 5 ahead)
    expect(r.fills).toEqual([]);
  });

  it('the same print fills a bid that arrived before it (at 11 ms): 10 printed, 5 ahead, 1 ours at 12 ms', () => {
    const dir = makeDataset(LATE_PRINT);
    const { strategy } = limitBid(100, 1);
    const r = replay(dir, strategy, { latency: { feed: '0', order: '1ms', response: '0' } });
    expect(r.fills.map((f) => [f.price, f.size, f.maker, f.exchangeTimeNs])).toEqual([[100, 1, true, 12 * MS]]);
  });

  it('a depth update received before the trade it reflects (same exchange time) does not move the queue twice: 7 ahead, not 4', () => {
    // Our bid of 1 at 100 joins behind 10 at 10 ms. At 20 ms a sell of 3 prints at 100 and the level goes to 7;
    // the depth row reached the recorder first. Trades go first at an equal exchange time, and the level's
    // decrease less the trade already counted is 0: 7 stay ahead. A print of 5 at 30 ms leaves 2 ahead and no
    // fill (it filled 1 before, with 4 ahead); a print of 3 at 40 ms gives 1 to us.
    const dir = makeDataset([
      ...snapshot(10 * MS, [[100, 10]], [[101, 5]]),
      level(20 * MS, 1, 100, 7, 1 * MS),
      trade(20 * MS, -1, 100, 3, 2 * MS),
      trade(30 * MS, -1, 100, 5),
      trade(40 * MS, -1, 100, 3),
    ]);
    for (const queue of [new RiskAverseQueue(), ProbabilisticQueue.power(2)]) {
      const { strategy } = limitBid(100, 1);
      const r = replay(dir, strategy, { latency: { latency: '0' }, queue });
      expect(r.fills.map((f) => [f.price, f.size, f.exchangeTimeNs])).toEqual([[100, 1, 40 * MS]]);
    }
  });

  // 100 messages of 5 book rows each, 10 ms apart (one exchange time per message).
  const MULTI: Row[] = [...snapshot(10 * MS, [[100, 50]], [[101, 50]])];
  for (let m = 1; m <= 100; m++) {
    for (let k = 0; k < 5; k++) {
      MULTI.push({ t: 10 * MS + m * 10 * MS, kind: EventKind.BookLevel, side: -1, price: 101 + k, size: 1 + ((m + k) % 4), flags: k === 4 ? Flag.MessageEnd : 0 });
    }
  }

  it('lognormal feed: one draw per message, every row of a message delivered at once, the delays exactly the seeded draws', () => {
    const dir = makeDataset(MULTI);
    const at: number[] = [];
    const strategy: Strategy = {
      onBook(ctx) {
        at.push(ctx.now());
      },
    };
    const L = 'lognormal:p50=1ms,p99=5ms';
    replay(dir, strategy, { latency: { feed: L }, seed: 3 });
    // The same model with the same seed, drawn once per message in order (snapshot first), each at
    // max(its exchange time + draw, the previous delivery).
    const model = buildVenueLatency({ feed: L }, createRng(3), 1 * MS).feed;
    const want: number[] = [];
    let last = -Infinity;
    for (let m = 0; m <= 100; m++) {
      const t = 10 * MS + m * 10 * MS;
      last = Math.max(last, t + model.sample(t, 1 * MS));
      want.push(last);
    }
    expect(at).toEqual(want);
    const delays = want.map((x, m) => x - (10 * MS + m * 10 * MS)).sort((a, b) => a - b);
    // The median delivered delay is the model's (p50 1 ms), not the largest of 5 draws (before: about 2 ms).
    expect(delays[50]! / MS).toBeGreaterThan(0.8);
    expect(delays[50]! / MS).toBeLessThan(1.25);
  });

  it('a timer falling inside a message never runs between its rows: 4 trade rows of one message are seen together', () => {
    // One trade message of 4 rows at 20 ms, then nothing; timers every 0.05 ms from 20 to 30 ms.
    const rows: Row[] = [...snapshot(10 * MS, [[100, 5]], [[101, 5]])];
    for (let k = 0; k < 4; k++) rows.push({ t: 20 * MS, kind: EventKind.Trade, side: 1, price: 101, size: 0.1, flags: k === 3 ? Flag.MessageEnd : 0 });
    rows.push(level(40 * MS, -1, 101, 4));
    const dir = makeDataset(rows);
    for (const seed of [1, 2, 3, 4, 5]) {
      const seen: string[] = [];
      const strategy: Strategy = {
        onBook(ctx) {
          if (seen.length === 0) for (let i = 0; i <= 200; i++) ctx.setTimer(20 * MS + i * 50_000);
          seen.push('book');
        },
        onTrade(ctx) {
          seen.push(`trade@${ctx.now()}`);
        },
        onTimer() {
          seen.push('timer');
        },
      };
      replay(dir, strategy, { latency: { feed: 'lognormal:p50=1ms,p99=5ms' }, seed });
      const first = seen.findIndex((x) => x.startsWith('trade'));
      const trades = seen.slice(first, first + 4);
      expect(trades.every((x) => x === trades[0])).toBe(true);
      expect(trades[0]!.startsWith('trade@')).toBe(true);
      expect(seen.filter((x) => x.startsWith('trade')).length).toBe(4);
    }
  });
});

describe('queue position through the engine', () => {
  // Our bid of 0.5 at 100 joins behind the 2 displayed there (zero latency: it arrives at 10 ms).
  const bidAt100 = () =>
    observer((ctx, n) => {
      if (n === 0) ctx.submit({ venue: 0, side: BUY, type: 'limit', price: 100, size: 0.5 });
    });

  it('risk-averse: a resting bid behind 2 fills only once 2 have traded at its price', () => {
    const dir = makeDataset([
      ...snapshot(10 * MS, [[100, 2], [99, 5]], [[101, 5]]),
      trade(20 * MS, -1, 100, 1), // 1 of the 2 ahead
      level(21 * MS, 1, 100, 1),
      trade(30 * MS, -1, 100, 1), // the other: nobody is ahead now, nothing for us yet
      level(31 * MS, 1, 100, 3), // others join behind us
      trade(40 * MS, -1, 100, 0.5), // ours
      level(41 * MS, 1, 100, 2.5),
    ]);
    for (const queue of [new RiskAverseQueue(), ProbabilisticQueue.power(2)]) {
      const { strategy } = bidAt100();
      const r = replay(dir, strategy, { latency: { latency: '0' }, queue });
      expect(r.orders[0]!.arrivedNs).toBe(10 * MS);
      expect(r.fills).toEqual([{ orderId: 1, venue: 0, side: 1, price: 100, size: 0.5, maker: true, fee: 100 * 0.5 * 0.0002, exchangeTimeNs: 40 * MS, seenNs: 40 * MS, midAtFill: 100.5, midAfter: 100.5 }]);
    }
  });

  it('probabilistic (prob-power:2): cancels without trades move the bid up, so it fills at the first trade; risk-averse waits for the second', () => {
    const dir = makeDataset([
      ...snapshot(10 * MS, [[100, 2], [99, 5]], [[101, 5]]),
      level(12 * MS, 1, 100, 4), // 2 join behind us: front 2, back 2
      level(15 * MS, 1, 100, 3), // 1 cancelled: prob-power:2 takes half from the front → 1.5 ahead
      level(16 * MS, 1, 100, 2), // another: front 1.5, back 1.5 → 1 ahead (risk-averse: still 2)
      trade(20 * MS, -1, 100, 1.5), // prob: 0.5 beyond the 1 ahead fills us; risk-averse: 0.5 ahead left
      level(21 * MS, 1, 100, 0.5),
      trade(30 * MS, -1, 100, 1), // risk-averse: now 0.5 beyond the queue
      level(31 * MS, 1, 100, 0),
    ]);
    const fillsWith = (queue: QueueModel) => {
      const { strategy } = bidAt100();
      return replay(dir, strategy, { latency: { latency: '0' }, queue }).fills.map((f) => [f.exchangeTimeNs / MS, f.price, f.size, f.maker]);
    };
    expect(fillsWith(ProbabilisticQueue.power(2))).toEqual([[20, 100, 0.5, true]]);
    expect(fillsWith(ProbabilisticQueue.power(1))).toEqual([[20, 100, 0.5, true]]);
    expect(fillsWith(new RiskAverseQueue())).toEqual([[30, 100, 0.5, true]]);
  });
});

// ---------------------------------------------------------------------------------------------------------
// The built-in strategies on the bundled capture, through runOnce (which loads dist/strategies/*.js).

type Session = typeof import('../src/engine/session.js');

const opts = (strategy: string, latency: VenueLatencyOptions, seed = 1) => ({
  dataset: bundled,
  strategy,
  params: {},
  latency,
  seed,
  queue: 'risk-averse',
});

describe('the built-in strategies on the bundled capture', () => {
  let session: Session;
  beforeAll(async () => {
    execFileSync('npx', ['tsc', '-p', root], { cwd: root, stdio: 'ignore' });
    session = (await import(path.join(root, 'dist/src/engine/session.js'))) as Session;
  }, 120_000);

  describe('determinism on the bundled capture', () => {
    it('market-maker at 1 ms, run twice: the same fills, orders and summary', async () => {
      const a = await session.runOnce(opts('market-maker', { latency: '1ms' }));
      const b = await session.runOnce(opts('market-maker', { latency: '1ms' }));
      expect(a.result.fills.length).toBe(180);
      expect(b.result.fills).toEqual(a.result.fills);
      expect(b.result.orders).toEqual(a.result.orders);
      expect(b.result.equity).toEqual(a.result.equity);
      expect(b.summary).toEqual(a.summary);
    });

    it('market-maker with lognormal latency, seed 7, run twice: identical too', async () => {
      const lat = { latency: 'lognormal:p50=1ms,p99=5ms' };
      const a = await session.runOnce(opts('market-maker', lat, 7));
      const b = await session.runOnce(opts('market-maker', lat, 7));
      expect(a.result.fills.length).toBeGreaterThan(0);
      expect(b.result.fills).toEqual(a.result.fills);
      expect(b.result.orders).toEqual(a.result.orders);
      expect(b.summary).toEqual(a.summary);
      expect(a.summary.latency).toEqual(['binance-usdm BTCUSDT: feed lognormal(p50=1ms, p99=5ms), order lognormal(p50=1ms, p99=5ms), response lognormal(p50=1ms, p99=5ms)']);
    });
  });

  describe('accounting invariants on every run of the built-in strategies', () => {
    for (const strategy of ['market-maker', 'ma-crossover', 'perp-leads-spot']) {
      for (const latency of ['0', '5ms']) {
        it(`${strategy} at ${latency}`, async () => {
          const { result: r, summary: s } = await session.runOnce(opts(strategy, { latency }));
          expect(s.reconciled).toBe(true);
          expect(r.venues.every((v) => v.reconcile.ok)).toBe(true);
          expect(s.fills).toBe(r.fills.length);
          expect(s.orders).toBe(r.orders.length);
          expect(s.fills).toBeGreaterThan(0);
          r.venues.forEach((v, i) => {
            const mine = r.fills.filter((f) => f.venue === i);
            const fees = mine.reduce((a, f) => a + f.fee, 0);
            // Binance spot takes a buy's fee from the BTC bought (fee / price of it).
            const baseFee = (f: FillRecord) => (r.venues[i]!.venue.exchange === 'binance-spot' && f.side > 0 ? f.fee / f.price : 0);
            const position = mine.reduce((a, f) => a + f.side * f.size - baseFee(f), 0);
            expect(Math.abs(fees - v.fees)).toBeLessThan(1e-9);
            expect(Math.abs(position - v.position)).toBeLessThan(1e-9);
            expect(v.fills).toBe(mine.length);
            expect(v.makerFills).toBe(mine.filter((f) => f.maker).length);
            // net = gross - fees, per venue, unrounded: equity change = realized + unrealized - fees
            expect(Math.abs(v.netPnl - (v.realizedPnl + v.unrealizedPnl - v.fees))).toBeLessThan(1e-9);
          });
          // the summary (every venue here settles in USDT) rounds each figure to 6 decimals
          const allFees = r.fills.reduce((a, f) => a + f.fee, 0);
          expect(Math.abs(s.fees_paid - allFees)).toBeLessThanOrEqual(5e-7);
          expect(Math.abs(s.net_pnl - (s.gross_pnl - s.fees_paid))).toBeLessThanOrEqual(1e-6 + 1e-9);
          const maker = r.fills.filter((f) => f.maker).length;
          expect(s.maker_share).toBe(Math.round((maker / r.fills.length) * 1e4) / 1e4);
          const taker = r.fills.filter((f) => !f.maker).length;
          expect(s.taker_share).toBe(Math.round((taker / r.fills.length) * 1e4) / 1e4);
        });
      }
    }
  });

  describe('latency costs the lead-lag strategy', () => {
    it('perp-leads-spot: gross PnL at 0 ms beats 50 ms', async () => {
      const fast = await session.runOnce(opts('perp-leads-spot', { latency: '0' }));
      const slow = await session.runOnce(opts('perp-leads-spot', { latency: '50ms' }));
      expect(fast.summary.gross_pnl).toBe(0.494535);
      expect(slow.summary.gross_pnl).toBe(0.290092);
      expect(fast.summary.gross_pnl).toBeGreaterThan(slow.summary.gross_pnl);
    });
  });

  describe('errors a user meets', () => {
    it('an unknown strategy name lists the built-ins', async () => {
      await expect(session.loadStrategy('nosuch')).rejects.toThrow('unknown strategy "nosuch" (built in: ma-crossover, market-maker, perp-leads-spot; or give a path to a .js module)');
    });

    it('a bad parameter is named', async () => {
      const def = await session.loadStrategy('ma-crossover');
      expect(() => resolveParams(def.params, { fast: 'abc' })).toThrow('parameter "fast" must be a number, got "abc"');
      expect(() => resolveParams(def.params, { nosuch: '1' })).toThrow('unknown parameter "nosuch" (known: symbol, exchange, sampleMs, fast, slow, size)');
      await expect(session.runOnce({ ...opts('ma-crossover', {}), params: { fast: 'abc' } })).rejects.toThrow('parameter "fast" must be a number, got "abc"');
    });

    it('a latency in an unknown unit is refused', () => {
      expect(() => parseLatency('5 parsecs', 'order', createRng(1))).toThrow('order latency "5 parsecs": unknown unit "parsecs" (use ns, us, ms or s)');
      expect(() => buildVenueLatency({ feed: '5 parsecs' }, createRng(1))).toThrow('feed latency "5 parsecs": unknown unit "parsecs"');
    });

    it('a missing dataset folder is named', async () => {
      const missing = path.join(tempDir(), 'no-such-dataset');
      expect(fs.existsSync(missing)).toBe(false);
      await expect(session.runOnce({ ...opts('market-maker', { latency: '1ms' }), dataset: missing })).rejects.toThrow(`dataset not found: ${missing} does not exist`);
    });
  });
});

describe('the real-time touch: BBO rows and prints between depth messages (docs/matching.md)', () => {
  const bbo = (t: number, bid: [number, number], ask: [number, number]): Row[] => [
    { t, kind: EventKind.BestBidOffer, side: 1, price: bid[0], size: bid[1], flags: 0 },
    { t, kind: EventKind.BestBidOffer, side: -1, price: ask[0], size: ask[1], flags: Flag.MessageEnd },
  ];
  const taker = (side: 1 | -1, size: number) =>
    observer((ctx, n) => {
      if (n === 0) ctx.submit({ venue: 0, side: side > 0 ? BUY : SELL, type: 'market', size });
    });
  const fills = (r: ReplayResult) => r.fills.map((f) => [f.price, f.size, f.exchangeTimeNs]);

  it('a BBO above stale depth levels hides them for a taker buy, and the touch size is capped to the BBO size', () => {
    // Depth at 10 ms shows asks 101, 102, 103; the BBO at 12 ms says the best ask is 102 with 0.4 there.
    const dir = makeDataset([...snapshot(10 * MS, [[100, 5]], [[101, 1], [102, 1], [103, 5]]), ...bbo(12 * MS, [100, 5], [102, 0.4])]);
    const { strategy } = taker(1, 1);
    const r = replay(dir, strategy, { latency: { feed: '0', order: '5ms', response: '0' } });
    // (without the touch: 1 at 101)
    expect(fills(r)).toEqual([
      [102, 0.4, 15 * MS],
      [103, 0.6, 15 * MS],
    ]);
  });

  it('a sell print at p hides the bids above p until the next depth message, which restores the depth truth', () => {
    // Depth at 10 ms: bids 100, 99, 98. A sell prints at 99 at 12 ms; the next depth message is at 20 ms.
    const rows = [...snapshot(10 * MS, [[100, 1], [99, 1], [98, 5]], [[101, 5]]), trade(12 * MS, -1, 99, 0.1), level(20 * MS, -1, 101, 4)];
    const dir = makeDataset(rows);
    const early = replay(dir, taker(-1, 0.5).strategy, { latency: { feed: '0', order: '5ms', response: '0' } });
    // (without the touch: 0.5 at 100)
    expect(fills(early)).toEqual([[99, 0.5, 15 * MS]]);
    const late = replay(dir, taker(-1, 0.5).strategy, { latency: { feed: '0', order: '15ms', response: '0' } });
    expect(fills(late)).toEqual([[100, 0.5, 25 * MS]]);
  });

  it('a post-only buy at or above a BBO ask the depth book does not show yet is rejected (it would have taken)', () => {
    // Depth at 10 ms: bid 100, ask 102. The real-time quote at 12 ms: ask 101 x 0.3, a level the depth book lacks.
    const dir = makeDataset([...snapshot(10 * MS, [[100, 5]], [[102, 1]]), ...bbo(12 * MS, [100, 5], [101, 0.3])]);
    const { strategy, seen } = observer((ctx, n) => {
      if (n !== 0) return;
      ctx.submit({ venue: 0, side: BUY, type: 'limit', price: 101, size: 1, tif: 'POST_ONLY' });
      ctx.submit({ venue: 0, side: BUY, type: 'limit', price: 100.5, size: 1, tif: 'POST_ONLY' });
    });
    const r = replay(dir, strategy, { latency: { feed: '0', order: '5ms', response: '0' } });
    expect(seen.filter((x) => x.what === 'update').map((x) => [x.update!.orderId, x.update!.status, x.update!.reason, x.update!.exchangeTimeNs / MS])).toEqual([
      [1, 'rejected', 'post_only_would_take', 15],
      [2, 'accepted', undefined, 15],
    ]);
    expect(r.fills).toEqual([]);
  });

  describe("the strategy's book: BBO rows and prints reach it with the feed latency, one message at a time", () => {
    const SPOT_STREAM: StreamInfo = { exchange: 'binance-spot', market: 'spot', symbol: 'BTCUSDT' };
    const SPOT = { exchange: 'binance-spot', symbol: 'BTCUSDT' };
    // Binance spot bookTicker: no exchange time; its effect time is its receive time in the exchange's clock
    // (here local - 1 ms = t), its feed latency counts from there.
    const spotBbo = (t: number, bid: [number, number], ask: [number, number]): Row[] => [
      { t, kind: EventKind.BestBidOffer, side: 1, price: bid[0], size: bid[1], flags: Flag.NoExchangeTime },
      { t, kind: EventKind.BestBidOffer, side: -1, price: ask[0], size: ask[1], flags: Flag.NoExchangeTime | Flag.MessageEnd },
    ];
    // Depth at 10 ms: bids 100 x 5, 99 x 5; asks 101 x 1, 102 x 1, 103 x 5. The real-time quote moves to
    // 99 x 2 / 102 x 0.4 at 12 ms; a buy prints at 103 at 15 ms; the next depth message (ask 104) is at 20 ms.
    const rows = [
      ...snapshot(10 * MS, [[100, 5], [99, 5]], [[101, 1], [102, 1], [103, 5]]),
      ...spotBbo(12 * MS, [99, 2], [102, 0.4]),
      trade(15 * MS, 1, 103, 0.2),
      level(20 * MS, -1, 104, 1),
    ];
    type Look = [string, number, number, number, number, number, number, number];
    const probe = (probeAtMs: number[]) => {
      const seen: Look[] = [];
      const look = (ctx: Context, what: string) => {
        const b = ctx.book(0);
        seen.push([what, ctx.now() / MS, b.bestBid(), b.bidSize(), b.bestAsk(), b.askSize(), b.bidLevels(), b.askLevels()]);
      };
      const strategy: Strategy = {
        onStart(ctx) {
          for (const t of probeAtMs) ctx.setTimer(t * MS);
        },
        onBook: (ctx) => look(ctx, 'book'),
        onTrade: (ctx) => look(ctx, 'trade'),
        onTimer: (ctx) => look(ctx, 'timer'),
      };
      return { strategy, seen };
    };

    it('1 ms feed latency: the stale depth touch until 13 ms, the BBO from 13 ms, the print from 16 ms, depth again from 21 ms', () => {
      const dir = makeDataset(rows, [SPOT_STREAM]);
      const { strategy, seen } = probe([12.999, 13, 15.999, 20.999]);
      replay(dir, strategy, { latency: { feed: '1ms', order: '0', response: '0' } }, [SPOT]);
      expect(seen).toEqual([
        ['book', 11, 100, 5, 101, 1, 2, 3],
        // before the BBO message reaches the strategy: the depth book's touch
        ['timer', 12.999, 100, 5, 101, 1, 2, 3],
        // the BBO message, delivered at 13 ms (before a timer of the same time; no callback of its own): bid 100
        // and ask 101 hidden, the touch sizes are the BBO's
        ['timer', 13, 99, 2, 102, 0.4, 1, 2],
        ['timer', 15.999, 99, 2, 102, 0.4, 1, 2],
        // a buy print at 103: every ask below 103 was gone (and the 102 size cap with it)
        ['trade', 16, 99, 2, 103, 5, 1, 1],
        ['timer', 20.999, 99, 2, 103, 5, 1, 1],
        // the next depth message: the depth book is the truth again (the spot diff did not repeat 100 or 101)
        ['book', 21, 100, 5, 101, 1, 2, 4],
      ]);
    });

    it('the same data at 0 feed latency: the strategy sees the BBO at 12 ms', () => {
      const dir = makeDataset(rows, [SPOT_STREAM]);
      const { strategy, seen } = probe([11.999, 12]);
      replay(dir, strategy, { latency: { feed: '0', order: '0', response: '0' } }, [SPOT]);
      expect(seen.map((x) => x.slice(0, 6))).toEqual([
        ['book', 10, 100, 5, 101, 1],
        ['timer', 11.999, 100, 5, 101, 1],
        ['timer', 12, 99, 2, 102, 0.4],
        ['trade', 15, 99, 2, 103, 5],
        ['book', 20, 100, 5, 101, 1],
      ]);
    });

    it('a strategy that defines onQuote hears each BBO message once, complete, at its delivery (13 ms at 1 ms feed latency); onBook is not called for it', () => {
      const dir = makeDataset([...rows, ...spotBbo(22 * MS, [100, 1], [100.5, 2])], [SPOT_STREAM]);
      const heard: [string, number, number, number, number, number, number, number][] = [];
      const look = (what: string, ctx: Context, v: number) => {
        const b = ctx.book(v);
        heard.push([what, ctx.now() / MS, v, b.bestBid(), b.bestAsk(), b.askSize(), b.quoteBid(), b.quoteAsk()]);
      };
      const strategy: Strategy = { onBook: (ctx, v) => look('book', ctx, v), onQuote: (ctx, v) => look('quote', ctx, v) };
      replay(dir, strategy, { latency: { feed: '1ms', order: '0', response: '0' } }, [SPOT]);
      expect(heard).toEqual([
        ['book', 11, 0, 100, 101, 1, NaN, NaN],
        ['quote', 13, 0, 99, 102, 0.4, 99, 102],
        ['book', 21, 0, 100, 101, 1, NaN, NaN],
        // a BBO ask of 100.5, better than any ask the depth book shows: the view keeps 101 x 1 (it never adds a
        // level the depth book lacks), and quoteAsk() gives the real-time 100.5
        ['quote', 23, 0, 100, 101, 1, 100, 100.5],
      ]);
    });

    it('a taker pricing off the touch it sees: a buy IOC at the best ask at 13 ms is priced 102 (not the stale 101) and takes the 0.4 there', () => {
      // (a timer: a BBO message calls no callback of its own)
      const dir = makeDataset(rows, [SPOT_STREAM]);
      const strategy: Strategy = {
        onStart: (ctx) => void ctx.setTimer(13 * MS),
        onTimer: (ctx) => void ctx.submit({ venue: 0, side: BUY, type: 'limit', price: ctx.book(0).bestAsk(), size: 1, tif: 'IOC' }),
      };
      const r = replay(dir, strategy, { latency: { feed: '1ms', order: '1ms', response: '0' } }, [SPOT]);
      expect(r.fills.map((f) => [f.price, f.size, f.exchangeTimeNs / MS])).toEqual([[102, 0.4, 14]]);
    });
  });
});

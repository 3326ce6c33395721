// `dataset book` and the replay must show the same book: the same rows go through bookAt (what
// `latencylab dataset book` prints) and through the replay's two timelines, and the books must be equal at
// every message end. Part 1 uses hand-made rows with the cases the book implementations once disagreed on
// (a gap inside a snapshot; a level row between a snapshot's Begin and End), each with its expected book
// written out; part 2 the bundled real dataset.
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { StreamBook } from '../src/book/stream-book.js';
import { BookBuilder } from '../src/book/book-builder.js';
import { bookAt } from '../src/inspection/book-at.js';
import { openDataset } from '../src/data/reader.js';
import { NS_PER_S } from '../src/data/time.js';
import { EventKind, Flag } from '../src/data/types.js';
import { DatasetWriter } from '../src/data/writer.js';
import { EventQueue } from '../src/engine/event-queue.js';
import { ExchangeTimeline } from '../src/engine/exchange-timeline.js';
import { loadMarketData, type MarketData } from '../src/engine/market-data.js';
import { runReplay, type VenueSetup } from '../src/engine/replay.js';
import type { QueueItem } from '../src/engine/replay-types.js';
import { StrategyTimeline } from '../src/engine/strategy-timeline.js';
import { contractSpec } from '../src/exchanges/registry.js';
import { ProportionalFees } from '../src/simulation/fees.js';
import { buildVenueLatency, ConstantLatency } from '../src/simulation/latency.js';
import { RiskAverseQueue } from '../src/simulation/queue.js';
import { createRng } from '../src/simulation/random.js';
import { parseRateLimit } from '../src/simulation/rate-limit.js';
import type { Context, Strategy, VenueRef } from '../src/strategy/api.js';
import { tempDir } from './helpers.js';

const MS = 1_000_000;
const T0 = 1_723_161_600n * NS_PER_S; // 2024-08-09T00:00:00Z: the dataset origin (first local time, floored to the second)
const VENUE = { exchange: 'binance-usdm', symbol: 'BTCUSDT' } as const;
const { BookSnapshot: S, BookLevel: L, Gap, Disconnect, Trade, BestBidOffer: BBO } = EventKind;
const { SnapshotBegin: SB, SnapshotEnd: SE, MessageEnd: ME } = Flag;

/** [exchange time in ms after T0, kind, side, price, size, flags]; local time = exchange time + 1 ms. */
type Row = [ms: number, kind: number, side: number, price: number, size: number, flags: number];

// Every message has its own exchange time, so "the book at a message end" is "the book at that time" for
// bookAt and for the timelines alike.
const ROWS: Row[] = [
  [10, S, 1, 100, 1, SB],
  [10, S, 1, 99, 2, 0],
  [10, S, -1, 101, 1, 0],
  [10, S, -1, 102, 3, SE | ME],
  [11, L, 1, 100, 4, ME],
  [12, L, -1, 101, 0, ME],
  [13, Trade, 1, 102, 0.5, ME],
  // A gap inside a snapshot: the rest of that snapshot does not make a book.
  [20, S, 1, 100, 1, SB],
  [21, Gap, 0, NaN, 1, ME],
  [22, S, 1, 98, 1, 0],
  [22, S, -1, 101, 1, SE | ME],
  [23, L, 1, 97, 1, ME],
  // A level row between a snapshot's Begin and End: not applied, the snapshot alone makes the book.
  [30, S, 1, 99, 1, SB],
  [31, L, 1, 99.5, 2, ME],
  [32, S, -1, 101, 1, SE | ME],
  [33, L, 1, 99.5, 2, ME],
  [40, Disconnect, 0, NaN, 0, ME],
  [50, S, 1, 100, 1, SB],
  [50, S, -1, 100.5, 1, SE | ME],
  [51, L, -1, 100.5, 0, 0],
  [51, L, -1, 101, 2, ME],
];

/** The book at each book message end (and gap/disconnect marker), written out by hand. */
const EXPECTED: [ms: number, book: string][] = [
  [10, 'valid 100,1|99,2 / 101,1|102,3'],
  [11, 'valid 100,4|99,2 / 101,1|102,3'],
  [12, 'valid 100,4|99,2 / 102,3'],
  [21, 'invalid  / '],
  [22, 'invalid  / '], // not "valid 98,1 / 101,1"
  [23, 'invalid  / '],
  [31, 'invalid 99,1 / '], // not 99.5: the snapshot is still being read
  [32, 'valid 99,1 / 101,1'], // not "99.5,2|99,1"
  [33, 'valid 99.5,2|99,1 / 101,1'],
  [40, 'invalid  / '],
  [50, 'valid 100,1 / 100.5,1'],
  [51, 'valid 100,1 / 101,2'],
];

function writeRows(rows: Row[]): string {
  const dir = path.join(tempDir('latencylab-agreement-'), 'ds');
  const w = new DatasetWriter(dir);
  const s = w.stream({ exchange: VENUE.exchange, market: 'linear', symbol: VENUE.symbol });
  rows.forEach(([ms, kind, side, price, size, flags], i) => {
    const exch = T0 + BigInt(ms * MS);
    w.event(s, exch + BigInt(MS), exch, kind, side, price, size, BigInt(i + 1), BigInt(i), flags);
  });
  w.close();
  return dir;
}

const show = (valid: boolean, bids: [number, number][], asks: [number, number][]) => `${valid ? 'valid' : 'invalid'} ${bids.join('|')} / ${asks.join('|')}`;
const showBook = (sb: StreamBook, depth = Infinity) => show(sb.valid, sb.book.bids.levels(depth), sb.book.asks.levels(depth));

function setups(data: MarketData): VenueSetup[] {
  const rng = createRng(1);
  return data.venues.map((v, i) => ({
    latency: buildVenueLatency({ latency: '0' }, rng, data.clock),
    queue: new RiskAverseQueue(),
    fees: new ProportionalFees(0.0002, 0.0005),
    rateLimiter: parseRateLimit('none'),
    initialBalances: { USDT: 100_000 },
    spec: contractSpec(v.exchange, v.symbol),
  }));
}

/**
 * The replay's two timelines over `data`, each advanced (by its own run(), as runReplay drives it) to one
 * time after another: `at(v, t)` applies venue v's rows up to time t (feed latency 0: the strategy timeline
 * gets each row at its effect time) and returns both timelines' books.
 */
function timelines(data: MarketData): (v: number, t: number) => { exchange: StreamBook; strategy: StreamBook } {
  const noQueue = Float64Array.of(Infinity);
  const exchange = new ExchangeTimeline(data, setups(data), noQueue, () => {
    throw new Error('no orders in this test');
  });
  const never = new Float64Array(data.venues.length).fill(Infinity);
  const strategy = new StrategyTimeline(data, data.venues.map(() => new ConstantLatency(0)), new Float64Array(1), new EventQueue<QueueItem>(), never);
  strategy.deliverTo({}, {} as Context);
  return (v, t) => {
    exchange.bounds[0] = Infinity; // no other venue
    exchange.bounds[1] = t; // stop after time t
    exchange.run(v, -1);
    strategy.bounds[0] = t; // as if another venue, of a higher index, had its next row at t
    strategy.run(v, data.venues.length);
    return { exchange: exchange.books[v]!, strategy: strategy.books[v]! };
  };
}

describe('dataset book and the replay agree on hand-made rows', () => {
  const dir = writeRows(ROWS);

  it('bookAt gives the hand-written book at every message end', () => {
    const got = EXPECTED.map(([ms]): [number, string] => {
      const b = bookAt(dir, VENUE.exchange, VENUE.symbol, T0 + BigInt(ms * MS), 100);
      return [ms, show(b.valid, b.bids.map((l) => [l.price, l.size]), b.asks.map((l) => [l.price, l.size]))];
    });
    expect(got).toEqual(EXPECTED);
  });

  it('both replay timelines hold the same books at every message end', () => {
    const data = loadMarketData(dir, [VENUE]);
    const at = timelines(data);
    const exchange: [number, string][] = [];
    const strategy: [number, string][] = [];
    for (const [ms] of EXPECTED) {
      const books = at(0, ms * MS);
      exchange.push([ms, showBook(books.exchange)]);
      strategy.push([ms, showBook(books.strategy)]);
    }
    expect(exchange).toEqual(EXPECTED);
    expect(strategy).toEqual(EXPECTED);
  });

  it('runReplay: the strategy is told of exactly the valid book message ends, and sees those books', () => {
    const data = loadMarketData(dir, [VENUE]);
    const seen: [number, string][] = [];
    const strategy: Strategy = {
      onBook(ctx, v) {
        const b = ctx.book(v);
        const side = (n: number, price: (k: number) => number, size: (k: number) => number) => Array.from({ length: n }, (_, k): [number, number] => [price(k), size(k)]);
        seen.push([ctx.now() / MS, show(b.valid, side(b.bidLevels(), (k) => b.bidPrice(k), (k) => b.bidSize(k)), side(b.askLevels(), (k) => b.askPrice(k), (k) => b.askSize(k)))]);
      },
    };
    runReplay({ data, strategy, venues: setups(data), rng: createRng(1) });
    expect(seen).toEqual(EXPECTED.filter(([, book]) => book.startsWith('valid')));
  });
});

describe('dataset book and the replay agree on the bundled capture', () => {
  const dir = path.resolve(__dirname, '../datasets/binance-2024-08-08');

  it('BookBuilder (behind dataset book) and both replay timelines: the same top 10 levels at every effect time of every venue', () => {
    const venues: VenueRef[] = [
      { exchange: 'binance-spot', symbol: 'BTCUSDT' },
      { exchange: 'binance-usdm', symbol: 'BTCUSDT' },
    ];
    const data = loadMarketData(dir, venues);
    const ds = openDataset(dir);
    const streamOf = venues.map((v) => ds.findStream(v.exchange, v.symbol));
    // BookBuilder over the dataset's own batches, in file order. The replay's rows of a venue (byVenue) are the
    // stream's rows of the kinds it keeps, in the same order: the k-th of them carries effNs[k]. The exchange
    // timeline applies the book channel in this order at its effect times (non-decreasing within the channel;
    // trades and BBO rows are merged in by exchange time but do not change the book), so its book is compared after the last
    // book row of each effect time. The strategy timeline (feed 0) gets the k-th row at the running maximum of
    // max(effNs, pubNs)[0..k] (one connection never reorders), so its book is compared after the last row of each
    // such time.
    const kept = new Set<number>([Trade, BBO, L, S, Gap, Disconnect]);
    const builder = new BookBuilder(ds.streams.length);
    const effOf = data.byVenue.map((chunks) => Float64Array.from(chunks.flatMap((c) => [...c.effNs])));
    const kindOf = data.byVenue.map((chunks) => Uint8Array.from(chunks.flatMap((c) => [...c.kind])));
    // Published at max(effect, publish time) (feed latency 0), never before the previous row's delivery.
    const deliveryOf = data.byVenue.map((chunks) => {
      let m = -Infinity;
      return Float64Array.from(chunks.flatMap((c) => [...c.effNs].map((e, r) => (m = Math.max(m, e, c.pubNs[r]!)))));
    });
    // The effect time of the next book row after each row (NaN after the last).
    const nextBookEff = effOf.map((e, v) => {
      const out = new Float64Array(e.length).fill(NaN);
      let next = NaN;
      for (let n = e.length - 1; n >= 0; n--) {
        out[n] = next;
        if (kindOf[v]![n] !== Trade && kindOf[v]![n] !== BBO) next = e[n]!;
      }
      return out;
    });
    const exchangeWant: string[][] = venues.map(() => []);
    const exchangeTimes: number[][] = venues.map(() => []);
    const strategyWant: string[][] = venues.map(() => []);
    const strategyTimes: number[][] = venues.map(() => []);
    const k = venues.map(() => 0);
    ds.forEachEventBatch((b) => {
      for (let i = 0; i < b.length; i++) {
        builder.apply(b, i);
        const v = streamOf.indexOf(b.stream[i]!);
        if (v < 0 || !kept.has(b.kind[i]!)) continue;
        const n = k[v]!++;
        if (kindOf[v]![n] !== b.kind[i]) throw new Error(`venue ${v} row ${n}: the replay's row is not the dataset's`);
        if (b.kind[i] !== Trade && b.kind[i] !== BBO && nextBookEff[v]![n] !== effOf[v]![n]) {
          exchangeTimes[v]!.push(effOf[v]![n]!);
          exchangeWant[v]!.push(showBook(builder.streams[b.stream[i]!]!, 10));
        }
        if (deliveryOf[v]![n + 1] !== deliveryOf[v]![n]) {
          strategyTimes[v]!.push(deliveryOf[v]![n]!);
          strategyWant[v]!.push(showBook(builder.streams[b.stream[i]!]!, 10));
        }
      }
    });
    expect(k).toEqual(effOf.map((e) => e.length));
    // Compared whole, but a difference is reported by its first index rather than as a huge diff.
    const firstDiff = (xs: string[], want: string[]) => xs.findIndex((x, i) => x !== want[i]);
    for (let v = 0; v < venues.length; v++) {
      const exchangeAt = timelines(data);
      const exchange = exchangeTimes[v]!.map((t) => showBook(exchangeAt(v, t).exchange, 10));
      const strategyAt = timelines(data);
      const strategy = strategyTimes[v]!.map((t) => showBook(strategyAt(v, t).strategy, 10));
      expect(exchangeTimes[v]!.length).toBeGreaterThan(5_000);
      expect(strategyTimes[v]!.length).toBeGreaterThan(10_000);
      expect(firstDiff(exchange, exchangeWant[v]!), venues[v]!.exchange).toBe(-1);
      expect(firstDiff(strategy, strategyWant[v]!), venues[v]!.exchange).toBe(-1);
      expect(exchange.length).toBe(exchangeWant[v]!.length);
      expect(strategy.length).toBe(strategyWant[v]!.length);
    }
  });

  it('bookAt at a few exchange times equals the exchange timeline at the same time', () => {
    const venue = { exchange: 'binance-usdm', symbol: 'BTCUSDT' };
    const data = loadMarketData(dir, [venue]);
    const at = timelines(data);
    const origin = data.originNs;
    // Whole seconds through the capture: at those instants the exchange timeline (effect times) and bookAt
    // (exchange times) have applied the same rows unless a row's effect time was pushed past its own time.
    const got: string[] = [];
    const want: string[] = [];
    for (const s of [60, 120, 180, 240, 300]) {
      const t = s * 1e9;
      got.push(showBook(at(0, t).exchange, 20));
      const b = bookAt(dir, venue.exchange, venue.symbol, origin + BigInt(t), 20);
      want.push(show(b.valid, b.bids.map((l) => [l.price, l.size]), b.asks.map((l) => [l.price, l.size])));
    }
    expect(got).toEqual(want);
    expect(want.every((w) => w.startsWith('valid 6'))).toBe(true);
  });
});

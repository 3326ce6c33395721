// The replay engine: one deterministic simulation of a strategy against recorded market data, with the
// two timelines a real connection has (docs/replay.md). The parts:
//
//   exchange-timeline.ts  recorded rows change the exchange-side book at their effect time (market-data.ts);
//                         orders are matched there (SimulatedVenue) and the exchange's account kept.
//   strategy-timeline.ts  each row reaches the strategy at effect time + feed latency (`recorded`: at its local
//                         time less the clock offset, never before its effect time) and changes its book.
//   venue-channel.ts      per venue, orders reach the exchange at send time + order latency and responses the
//                         strategy at their exchange time + response latency; no message overtakes another.
//   strategy-context.ts   the Context the strategy sees, and what it knows of its orders and account.
//   observers.ts          equity on a time grid and fill markouts, which the strategy never sees.
//
// This file holds the main loop. Equal times are broken by this rule (docs/replay.md):
//   1. exchange-side market data (lower venue index first), 2. order messages reaching the exchange,
//   3. market data reaching the strategy (lower venue index first), 4. responses reaching the strategy,
//   5. timers, 6. markouts; within a class, in the order they were scheduled.
// So an order that reaches the exchange at t sees every market event of time <= t, and a strategy reacting
// to data at t acts after the exchange has moved at t.
import { settlementAsset } from '../simulation/accounting.js';
import { orderRulesFor } from '../simulation/order-rules.js';
import type { Rng } from '../simulation/types.js';
import type { Strategy } from '../strategy/api.js';
import { EventClass, EventQueue } from './event-queue.js';
import { ExchangeTimeline } from './exchange-timeline.js';
import type { MarketData } from './market-data.js';
import { EquitySampler, Markouts } from './observers.js';
import type { FillRecord, OrderMessage, OrderRecord, QueueItem, VenueSetup } from './replay-types.js';
import { StrategyContext } from './strategy-context.js';
import { StrategyTimeline } from './strategy-timeline.js';
import { VenueChannel } from './venue-channel.js';

export type { FillRecord, OrderRecord, VenueSetup } from './replay-types.js';

export interface ReplayConfig {
  data: MarketData;
  strategy: Strategy;
  venues: VenueSetup[];
  rng: Rng;
  /** Equity is sampled on this exchange-time grid (ns). */
  equityIntervalNs?: number;
  /** Fills are marked to the exchange-side mid this long after them (ns), to measure adverse selection. */
  markoutNs?: number;
}

export interface VenueResult {
  venue: { exchange: string; symbol: string };
  settlement: string;
  position: number;
  averageEntry: number;
  realizedPnl: number;
  unrealizedPnl: number;
  fees: number;
  /** PnL in the venue's settlement currency (fees included). */
  netPnl: number;
  lastMid: number;
  fills: number;
  makerFills: number;
  reconcile: { ok: boolean; differences: Record<string, number> };
}

export interface ReplayResult {
  venues: VenueResult[];
  fills: FillRecord[];
  orders: OrderRecord[];
  /** PnL so far (in quote currency; inverse venues converted at mid), on the time grid. */
  equityTimeNs: Float64Array;
  equity: Float64Array;
  events: number;
  firstNs: number;
  lastNs: number;
  log: string[];
  markoutNs: number;
}

export function runReplay(cfg: ReplayConfig): ReplayResult {
  const { data, strategy } = cfg;
  const queue = new EventQueue<QueueItem>();
  // Strategy time lives in a typed array: the timelines write it for every row.
  const clock = new Float64Array(1);
  const markouts = new Markouts(cfg.markoutNs ?? 1e9, queue);
  const channels: VenueChannel[] = [];
  const exchange = new ExchangeTimeline(data, cfg.venues, queue.head, (v, u) => {
    if (u.fill) markouts.onFill(v, u.fill, exchange.books[v]!.book.mid());
    channels[v]!.respond(u);
  });
  exchange.sims.forEach((sim, v) => channels.push(new VenueChannel(cfg.venues[v]!.latency, sim, queue, orderRulesFor(cfg.venues[v]!.spec))));
  const equity = new EquitySampler(exchange.books, exchange.accounts, cfg.venues, cfg.equityIntervalNs ?? 1e9);
  exchange.observe(equity);
  const feed = new StrategyTimeline(data, cfg.venues.map((s) => s.latency.feed), clock, queue, exchange.next);
  const ctx = new StrategyContext(data.venues, cfg.venues, feed.views, channels, queue, clock, cfg.rng, strategy, markouts);
  feed.deliverTo(strategy, ctx);

  // The earliest venue of each timeline and the runner-up: times and venue indices.
  const exT = new Float64Array(2);
  const exV = new Int32Array(2);
  const sT = new Float64Array(2);
  const sV = new Int32Array(2);
  strategy.onStart?.(ctx);
  for (;;) {
    earliestTwo(exchange.next, exT, exV);
    earliestTwo(feed.next, sT, sV);
    const qT = queue.peekTime();
    if (exT[0] === Infinity && sT[0] === Infinity) {
      if (qT === Infinity) break;
      // Once the data is over, what is already under way (orders, responses) finishes; timers no longer fire.
      if (queue.peekClass() === EventClass.Timer) {
        queue.pop();
        continue;
      }
    }
    if (exT[0]! !== Infinity && exT[0]! <= sT[0]! && exT[0]! <= qT) {
      // 1. exchange-side market data
      exchange.bounds[0] = exT[1]!;
      exchange.bounds[1] = sT[0]!;
      exchange.run(exV[0]!, exV[1]!);
    } else if (queue.peekClass() === EventClass.OrderArrival && qT <= sT[0]!) {
      // 2. order messages reaching the exchange
      const m = queue.pop() as OrderMessage;
      channels[m.venue]!.arrive(m, qT);
    } else if (sT[0]! !== Infinity && sT[0]! <= qT) {
      // 3. market data reaching the strategy
      feed.bounds[0] = sT[1]!;
      feed.run(sV[0]!, sV[1]!);
    } else {
      // 4./5. responses and timers reaching the strategy; 6. markouts
      const item = queue.pop();
      if ('markout' in item) {
        // The engine's own measurement: not an event of the strategy's, so its clock does not move.
        markouts.measure(item.markout, exchange.books[item.markout.venue]!.book.mid());
        continue;
      }
      clock[0] = qT;
      if ('update' in item) ctx.deliver(item.update);
      else if ('timer' in item) strategy.onTimer?.(ctx, item.timer);
    }
  }
  strategy.onEnd?.(ctx);

  markouts.fillIn(ctx.fills);
  const lastNs = Math.max(clock[0]!, exchange.lastEffNs());
  equity.sample(lastNs);
  return {
    venues: venueResults(data, cfg.venues, exchange, equity),
    fills: ctx.fills,
    orders: ctx.orderLog,
    ...equity.curve(),
    events: exchange.events,
    firstNs: equity.firstNs,
    lastNs,
    log: ctx.logLines,
    markoutNs: markouts.horizonNs,
  };
}

/** Writes the earliest time in `times` and the runner-up to t[0], t[1], their indices to v[0], v[1] (-1: none).
 *  At equal times the lower index comes first. */
function earliestTwo(times: Float64Array, t: Float64Array, v: Int32Array): void {
  let t0 = Infinity;
  let v0 = -1;
  let t1 = Infinity;
  let v1 = -1;
  for (let i = 0; i < times.length; i++) {
    const x = times[i]!;
    if (x < t0) {
      t1 = t0;
      v1 = v0;
      t0 = x;
      v0 = i;
    } else if (x < t1) {
      t1 = x;
      v1 = i;
    }
  }
  t[0] = t0;
  t[1] = t1;
  v[0] = v0;
  v[1] = v1;
}

function venueResults(data: MarketData, setups: VenueSetup[], exchange: ExchangeTimeline, equity: EquitySampler): VenueResult[] {
  return data.venues.map((venue, v) => {
    const a = exchange.accounts[v]!;
    const m = Number.isFinite(equity.lastMid[v]!) ? equity.lastMid[v]! : a.averageEntry;
    const pv = a.positionView(m);
    return {
      venue: { exchange: venue.exchange, symbol: venue.symbol },
      settlement: settlementAsset(setups[v]!.spec),
      position: a.position,
      averageEntry: a.averageEntry,
      realizedPnl: a.realizedPnl,
      unrealizedPnl: pv.unrealizedPnl,
      fees: a.fees,
      netPnl: a.equity(m) - equity.initial[v]!.equity(m),
      lastMid: m,
      fills: a.summary.fills,
      makerFills: a.summary.makerFills,
      reconcile: a.reconcile(),
    };
  });
}

// The simulator's interchangeable pieces, each behind a tiny interface so that a new model is one file
// (as in hftbacktest). All times are float64 ns relative to the run's origin; nothing here reads a clock
// or Math.random: randomness comes from a seeded Rng.

import type { OrderSide, TimeInForce, OrderType } from '../strategy/api.js';

/** A seeded pseudo-random generator (deterministic for a seed). */
export interface Rng {
  /** Uniform in [0, 1). */
  next(): number;
}

export type OrderOp = 'new' | 'cancel' | 'modify';

/** Latency of one leg, drawn per message. */
export interface LatencyModel {
  /** Human-readable, with units: "1ms", "lognormal(p50=1ms, p99=5ms)". */
  readonly description: string;
  /**
   * Latency in ns for a message at time `atNs`. `recordedNs` is the dataset's own local time of the market
   * event concerned minus its exchange-side effect time (its exch_ts, or later if it was recorded behind a
   * later row; see engine/market-data.ts) (feed leg only; NaN elsewhere).
   */
  sample(atNs: number, recordedNs: number): number;
  /** Set when every message takes this same latency (ns): the engine then adds it instead of calling sample()
   *  for every row of the feed. */
  readonly constantNs?: number;
}

/** The three legs of a connection, per operation for the order leg. */
export interface VenueLatency {
  feed: LatencyModel;
  order: Record<OrderOp, LatencyModel>;
  response: LatencyModel;
}

/** Fee per fill, in the venue's quote (or, for inverse contracts, base) currency; negative = rebate. */
export interface FeeModel {
  readonly description: string;
  /** `notional`: the fill's notional in the settlement currency (accounting.ts notional()). */
  fee(notional: number, maker: boolean): number;
}

/** Per-venue order rate limit: whether an order reaching the exchange at `atNs` is allowed. */
export interface RateLimiter {
  readonly description: string;
  /** Records the request if allowed. */
  allow(atNs: number): boolean;
}

/**
 * Queue position of one resting order at one price level (L2 data: the queue is inferred).
 * `ahead` is the quantity in front of the order.
 */
export interface QueueModel {
  readonly description: string;
  /** The order joins the back of a level that shows `levelSize` (excluding the order itself). */
  onJoin(levelSize: number): number;
  /** A trade at the order's price of `size` happened: returns the new quantity ahead. */
  onTrade(ahead: number, size: number): number;
  /**
   * The level's displayed size changed from `prevSize` to `newSize` by something other than trades already
   * accounted (cancels or additions): returns the new quantity ahead.
   */
  onLevelChange(ahead: number, prevSize: number, newSize: number): number;
}

/** One fill of a strategy order as the exchange makes it. */
export interface Fill {
  orderId: number;
  venue: number;
  side: OrderSide;
  price: number;
  size: number;
  maker: boolean;
  fee: number;
  exchangeTimeNs: number;
}

export interface SimOrderSpec {
  orderId: number;
  venue: number;
  side: OrderSide;
  type: OrderType;
  price: number;
  size: number;
  tif: TimeInForce;
}

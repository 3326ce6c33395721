// The Strategy API: everything a strategy sees, in replay and live alike.
// A strategy imports only this file (and plain helpers of its own). It never reads the wall clock, never
// uses Math.random, does no I/O and knows nothing of the simulator: time, books, orders and randomness
// all come through the Context.

/** +1 buy / bid, -1 sell / ask. */
export type OrderSide = 1 | -1;
export const BUY: OrderSide = 1;
export const SELL: OrderSide = -1;

export type TimeInForce = 'GTC' | 'IOC' | 'FOK' | 'POST_ONLY';
export type OrderType = 'limit' | 'market';

/** A venue is one tradable stream: an exchange's symbol, e.g. { exchange: 'binance-usdm', symbol: 'BTCUSDT' }. */
export interface VenueRef {
  exchange: string;
  symbol: string;
}

export interface OrderRequest {
  venue: number;
  side: OrderSide;
  type: OrderType;
  /** Limit price; ignored for market orders. */
  price?: number;
  size: number;
  tif?: TimeInForce;
  /** The strategy's own tag, echoed back in every update. */
  tag?: string;
}

export type OrderStatus = 'pending' | 'accepted' | 'partially_filled' | 'filled' | 'cancelled' | 'rejected';

/** What the strategy learns about its order, at the time the exchange's response reaches it. */
export interface OrderUpdate {
  orderId: number;
  venue: number;
  tag: string | undefined;
  status: OrderStatus;
  side: OrderSide;
  /** The order's limit price (NaN for market orders). */
  price: number;
  size: number;
  filledSize: number;
  /** This update's fill, if it reports one. */
  lastFillPrice: number;
  lastFillSize: number;
  /** Whether this update's fill provided liquidity (maker) or took it (taker). */
  lastFillMaker: boolean;
  /** This update's fill's fee valued in the settlement currency (quote; the coin for inverse contracts). */
  lastFillFee: number;
  /** The asset the exchange took that fee from (ctx.instrument(venue).feeAsset) and the amount in that asset:
   *  on Binance spot a buy of 0.01 BTC at 60000 at 0.1% pays 0.00001 BTC, lastFillFee 0.6 (USDT). */
  lastFillFeeAsset: string;
  lastFillFeeAmount: number;
  /** Why the order was rejected or cancelled by the exchange ('post_only_would_take', 'rate_limit', ...). */
  reason: string | undefined;
  /** Exchange time of the event this update reports, ns relative to the run's origin. */
  exchangeTimeNs: number;
}

/** A read-only view of one venue's order book as the strategy currently sees it (best level = index 0). */
export interface BookView {
  readonly valid: boolean;
  bestBid(): number;
  bestAsk(): number;
  bidSize(level?: number): number;
  askSize(level?: number): number;
  bidPrice(level: number): number;
  askPrice(level: number): number;
  bidLevels(): number;
  askLevels(): number;
  mid(): number;
  /**
   * The real-time best bid (ask) price from the venue's BBO stream since the last depth message, else NaN. It
   * can be better than bestBid() (bestAsk()) when the depth book lags: the view never shows a level or size the
   * depth book lacks, so this is the only place such a quote appears.
   */
  quoteBid(): number;
  quoteAsk(): number;
}

/**
 * An instrument's trading rules as its exchange publishes them (the contract spec in src/exchanges/<x>/).
 * An order whose limit price is off the tick grid, whose size is off the lot grid or below minQty, or whose
 * value price × size (× contract value) is below minNotional is rejected by the exchange with its own reason;
 * round with the helpers. Fields are 0 (decimals NaN, helpers the identity) where the rule is unknown.
 */
export interface Instrument {
  readonly base: string;
  readonly quote: string;
  /** Price increment. */
  readonly tickSize: number;
  /** Size increment, in the venue's size unit (base, or contracts). */
  readonly lotSize: number;
  /** Smallest order size (0: none). */
  readonly minQty: number;
  /** Smallest order value in quote, checked on limit orders (0: none). */
  readonly minNotional: number;
  /** Decimals of tickSize and lotSize (0.01 -> 2). */
  readonly priceDecimals: number;
  readonly sizeDecimals: number;
  /** The asset a fill's fee is taken from: e.g. Binance spot BTC for a buy, USDT for a sell. */
  feeAsset(side: OrderSide): string;
  /** `price` rounded down / up to the tick grid, `size` down to the lot grid. */
  priceDown(price: number): number;
  priceUp(price: number): number;
  sizeDown(size: number): number;
}

export interface TradeView {
  venue: number;
  price: number;
  size: number;
  /** The aggressor: +1 buy, -1 sell. */
  side: OrderSide;
  exchangeTimeNs: number;
}

export interface Position {
  /** Signed position in the venue's size unit (base currency, or contracts for inverse). */
  size: number;
  averageEntry: number;
  realizedPnl: number;
  unrealizedPnl: number;
  fees: number;
}

export interface Balances {
  /** Per asset, e.g. { BTC: 1, USDT: 10000 }. */
  readonly [asset: string]: number;
}

/** A seeded random source: the only randomness a strategy may use. */
export interface Random {
  /** Uniform in [0, 1). */
  next(): number;
}

export interface Context {
  /** Strategy time in ns, relative to the run's origin (what its local clock would read). */
  now(): number;
  /** The venues this run trades, in index order. */
  readonly venues: readonly VenueRef[];
  /** Index of a venue by exchange and symbol; throws naming what exists if absent. */
  venue(exchange: string, symbol: string): number;
  book(venue: number): BookView;
  /** The venue's instrument rules (tick, lot, minimums, fee asset) and rounding helpers. */
  instrument(venue: number): Instrument;
  position(venue: number): Position;
  balances(venue: number): Balances;
  /** Orders still open (sent and not finished), as last reported to the strategy. */
  openOrders(venue?: number): readonly OrderUpdate[];
  submit(order: OrderRequest): number;
  cancel(orderId: number): void;
  /** Change price and/or size: a cancel-replace that loses queue priority, as on most crypto venues. */
  modify(orderId: number, price: number, size: number): void;
  /** Calls onTimer(id) at strategy time `atNs` (relative ns). Returns the timer id. */
  setTimer(atNs: number, id?: string): string;
  readonly random: Random;
  /** Logged with the strategy's time into the run's log (not to the console). */
  log(message: string): void;
}

/** A typed parameter with its default and validation. */
export type ParamSpec =
  | { type: 'number'; default: number; min?: number; max?: number; integer?: boolean; description: string }
  | { type: 'string'; default: string; choices?: readonly string[]; description: string }
  | { type: 'boolean'; default: boolean; description: string };

export type ParamSpecs = Record<string, ParamSpec>;

export type ParamValues<S extends ParamSpecs> = {
  [K in keyof S]: S[K] extends { type: 'number' } ? number : S[K] extends { type: 'boolean' } ? boolean : string;
};

export interface Strategy {
  onStart?(ctx: Context): void;
  /** The book of `venue` changed (after a complete exchange message). */
  onBook?(ctx: Context, venue: number): void;
  onTrade?(ctx: Context, trade: TradeView): void;
  /**
   * A real-time best bid/offer message of `venue` reached the strategy (Binance bookTicker, Bybit orderbook.1,
   * OKX bbo-tbt: a subscription a trader can make); `ctx.book(venue)` shows it. Only strategies that define it
   * are called, so a strategy that does not pays nothing for the BBO stream's message rate.
   */
  onQuote?(ctx: Context, venue: number): void;
  onOrderUpdate?(ctx: Context, update: OrderUpdate): void;
  onTimer?(ctx: Context, id: string): void;
  onEnd?(ctx: Context): void;
}

/** What a strategy module exports as default. */
export interface StrategyDefinition<S extends ParamSpecs = ParamSpecs> {
  name: string;
  description: string;
  params: S;
  /** The venues to load from the dataset, given the parameters (e.g. spot and perp of `symbol`). */
  venues(params: ParamValues<S>): VenueRef[];
  create(params: ParamValues<S>): Strategy;
}

export function defineStrategy<S extends ParamSpecs>(def: StrategyDefinition<S>): StrategyDefinition<S> {
  return def;
}

/** Parse `k=v` overrides against the specs: unknown names, wrong types and out-of-range values are errors. */
export function resolveParams<S extends ParamSpecs>(specs: S, overrides: Record<string, string>): ParamValues<S> {
  const out: Record<string, number | string | boolean> = {};
  for (const [k, spec] of Object.entries(specs)) out[k] = spec.default;
  for (const [k, raw] of Object.entries(overrides)) {
    const spec = specs[k];
    if (!spec) throw new Error(`unknown parameter "${k}" (known: ${Object.keys(specs).join(', ') || 'none'})`);
    if (spec.type === 'number') {
      const v = Number(raw);
      if (raw.trim() === '' || !Number.isFinite(v)) throw new Error(`parameter "${k}" must be a number, got "${raw}"`);
      if (spec.integer && !Number.isInteger(v)) throw new Error(`parameter "${k}" must be a whole number, got "${raw}"`);
      if (spec.min !== undefined && v < spec.min) throw new Error(`parameter "${k}" must be >= ${spec.min}, got ${v}`);
      if (spec.max !== undefined && v > spec.max) throw new Error(`parameter "${k}" must be <= ${spec.max}, got ${v}`);
      out[k] = v;
    } else if (spec.type === 'boolean') {
      if (raw !== 'true' && raw !== 'false') throw new Error(`parameter "${k}" must be true or false, got "${raw}"`);
      out[k] = raw === 'true';
    } else {
      if (spec.choices && !spec.choices.includes(raw)) throw new Error(`parameter "${k}" must be one of ${spec.choices.join(', ')}, got "${raw}"`);
      out[k] = raw;
    }
  }
  return out as ParamValues<S>;
}

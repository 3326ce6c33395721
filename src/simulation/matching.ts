// SimulatedVenue: the exchange side of one venue (one symbol) in a replay. The rules are in docs/matching.md;
// this header is the short version.
//
// - The engine owns the exchange-side OrderBook and applies the recorded market data to it at exchange time.
//   The recorded book never contains the strategy's orders and never reacts to them (no market impact).
// - After applying a book row the engine calls onLevel(side, price, prevSize, newSize, atNs); after a complete
//   snapshot, onSnapshot(atNs) (not onLevel per snapshot row); for every on-book trade print, onTrade(...).
// - An order reaching the exchange at atNs is passed to arrive(spec, atNs) once every market event with
//   exchange time <= atNs has been applied (ties: market data first). cancel/modify likewise.
// - Taker orders walk the book level by level. Liquidity the strategy took at a level stays taken (a per-price
//   "consumed" map); when the recorded level changes, taken becomes min(taken, new size) (dropped at 0), by
//   onLevel for that price and onSnapshot for every price. Available = max(0, size - taken).
// - Resting orders: per price FIFO among the strategy's own orders; queue position from a QueueModel; filled
//   as maker by trades at or through their price, and by the opposite side quoting at or through their price.
//   One print fills at most its own size across them (price-time priority among our orders), unless the
//   venue uses the optimistic fill rule (hftbacktest's: each order may take the whole print).
//
// Hot path: onLevel and onTrade return after a couple of comparisons when the strategy has nothing resting on
// the side concerned and has taken no liquidity; they never allocate unless they fill an order.

import type { BookSideView, BookSidesView } from '../book/book-view.js';
import type { OrderSide, OrderType, TimeInForce } from '../strategy/api.js';
import { notional, type ContractSpec } from './accounting.js';
import type { FeeModel, Fill, QueueModel, RateLimiter, SimOrderSpec } from './types.js';

/**
 * What the exchange says, at exchange time:
 * - accepted: a new order passed the checks (always before its fills).
 * - modified: a modify (cancel-replace) was accepted; price/size are the new ones.
 * - partially_filled / filled: one fill (`fill` set); `filled` when nothing remains.
 * - cancelled: the order ended unfilled or partly filled. reason: 'user_cancel', 'ioc_unfilled',
 *   'fok_not_fillable', 'no_liquidity'.
 * - rejected: a new order was refused. reason: 'rate_limit', 'invalid_order', 'duplicate_order_id',
 *   'post_only_would_take'.
 * - cancel_rejected / modify_rejected: that request was refused and the order (if any) is unchanged.
 *   reason: 'unknown_order' (filled, cancelled or never existed), 'rate_limit', 'invalid_order',
 *   'post_only_would_take'.
 */
export type ExchangeStatus =
  | 'accepted'
  | 'modified'
  | 'partially_filled'
  | 'filled'
  | 'cancelled'
  | 'rejected'
  | 'cancel_rejected'
  | 'modify_rejected';

export interface ExchangeUpdate {
  status: ExchangeStatus;
  orderId: number;
  venue: number;
  /** 0 only for cancel_rejected / modify_rejected of an order the venue does not know. */
  side: OrderSide | 0;
  /** undefined only for a request about an order the venue does not know. */
  type: OrderType | undefined;
  tif: TimeInForce | undefined;
  /** Limit price; NaN for market orders and unknown orders. */
  price: number;
  /** The order's total size (after a modify, the new total). */
  size: number;
  /** Sum of all fills so far, including this update's. */
  filledSize: number;
  /** Size still open after this update (0 once filled, cancelled or rejected). */
  remaining: number;
  /** This update's fill (partially_filled / filled only). */
  fill: Fill | undefined;
  reason: string | undefined;
  /** Exchange time of the event, ns relative to the run's origin. */
  exchangeTimeNs: number;
}

export interface SimulatedVenueOptions {
  /** The venue's index (copied into every update and fill). */
  venue: number;
  /** The exchange-side book, owned and updated by the engine. */
  book: BookSidesView;
  queue: QueueModel;
  fees: FeeModel;
  rateLimiter: RateLimiter;
  /** Passed to the fee model. Default 1. */
  contractValue?: number;
  /** Passed to the fee model. Default false. */
  inverse?: boolean;
  /** Receives every exchange-side event synchronously. It must not call back into this venue. */
  emit: (update: ExchangeUpdate) => void;
  /** How one print fills several resting orders (see tradeFills). Default 'conservative'. */
  fillRule?: FillRule;
}

/** How one trade print fills the strategy's resting orders (docs/matching.md, "One print, many resting orders"). */
export type FillRule = 'conservative' | 'optimistic';
export const FILL_RULES: readonly FillRule[] = ['conservative', 'optimistic'];

/** `--fill-rule` text into a FillRule. */
export function parseFillRule(text: string): FillRule {
  if ((FILL_RULES as readonly string[]).includes(text)) return text as FillRule;
  throw new Error(`--fill-rule must be one of ${FILL_RULES.join(', ')}, got "${text}"`);
}

/** See SimulatedVenue.levelMatters; `r` is its `ranges`. */
export function levelMatters(r: Float64Array, side: number, price: number): boolean {
  if (r[4] !== 0) return true;
  return side > 0 ? (price >= r[0]! && price <= r[1]!) || price >= r[2]! : (price >= r[2]! && price <= r[3]!) || price <= r[1]!;
}

/** See SimulatedVenue.tradeMatters. */
export function tradeMatters(r: Float64Array, price: number, aggressorSide: number): boolean {
  return aggressorSide < 0 ? price <= r[1]! : aggressorSide > 0 && price >= r[2]!;
}

/**
 * Float tolerance, relative: a remainder or an available size at most this fraction of the order's (or the
 * level's) size is treated as zero, so that summing decimal sizes never leaves 1e-17 dust to trade.
 */
export const REL_EPS = 1e-9;

interface Order {
  readonly id: number;
  readonly side: OrderSide;
  readonly type: OrderType;
  readonly tif: TimeInForce;
  price: number;
  size: number;
  filled: number;
  remaining: number;
  /** Other participants' quantity in front of this order at its price (resting orders only). */
  ahead: number;
  /** Recorded trade volume at this order's price since its level last changed (for the queue model). */
  traded: number;
}

export class SimulatedVenue {
  readonly venue: number;
  private readonly book: BookSidesView;
  private readonly queue: QueueModel;
  private readonly fees: FeeModel;
  private readonly limiter: RateLimiter;
  /** What notional() needs of the venue's contract (spot and linear share the formula). */
  private readonly contract: Pick<ContractSpec, 'kind' | 'contractValue'>;
  private readonly emit: (update: ExchangeUpdate) => void;
  /** hftbacktest's rule: every resting order may be filled by the whole of one print. */
  private readonly optimistic: boolean;

  /** Resting buy / sell orders in arrival order (a modify re-appends). */
  private readonly bids: Order[] = [];
  private readonly asks: Order[] = [];
  /** Resting orders by id (looked up, never iterated). */
  private readonly open = new Map<number, Order>();
  /** Size the strategy has taken per price from the recorded bid (by its sells) and ask (by its buys) levels. */
  private readonly consumedBid = new Map<number, number>();
  private readonly consumedAsk = new Map<number, number>();
  private busy = false;

  constructor(opts: SimulatedVenueOptions) {
    this.venue = opts.venue;
    this.book = opts.book;
    this.queue = opts.queue;
    this.fees = opts.fees;
    this.limiter = opts.rateLimiter;
    this.contract = { kind: opts.inverse ? 'inverse' : 'linear', contractValue: opts.contractValue ?? 1 };
    this.emit = opts.emit;
    this.optimistic = (opts.fillRule ?? 'conservative') === 'optimistic';
    if (!(this.contract.contractValue > 0)) throw new Error(`venue ${this.venue}: contractValue must be positive, got ${this.contract.contractValue}`);
  }

  // ---------------------------------------------------------------------------------------------------------
  // Queries (tests, diagnostics, the engine's invariants).

  /** Whether the order is resting at the exchange. */
  isOpen(orderId: number): boolean {
    return this.open.has(orderId);
  }

  /** Estimated quantity of others ahead of a resting order; NaN if it is not resting. */
  queueAhead(orderId: number): number {
    const o = this.open.get(orderId);
    return o ? o.ahead : NaN;
  }

  /** Open size of a resting order; 0 if it is not resting. */
  remaining(orderId: number): number {
    const o = this.open.get(orderId);
    return o ? o.remaining : 0;
  }

  get restingCount(): number {
    return this.bids.length + this.asks.length;
  }

  /** Ids of resting orders: buys then sells, each in arrival order. Allocates. */
  restingOrderIds(): number[] {
    return [...this.bids.map((o) => o.id), ...this.asks.map((o) => o.id)];
  }

  /** What the strategy has taken at `price` on `side` (+1 bid levels, -1 ask levels) since that level last changed. */
  consumedAt(side: number, price: number): number {
    return (side > 0 ? this.consumedBid : this.consumedAsk).get(price) ?? 0;
  }

  // ---------------------------------------------------------------------------------------------------------
  // Strategy requests reaching the exchange.

  /** A new order reaches the exchange at `atNs`. */
  arrive(spec: SimOrderSpec, atNs: number): void {
    if (spec.venue !== this.venue) throw new Error(`order ${spec.orderId} is for venue ${spec.venue}, sent to venue ${this.venue}`);
    this.enter();
    try {
      if (!this.limiter.allow(atNs)) return this.rejectNew(spec, 'rate_limit', atNs);
      if (!validNew(spec)) return this.rejectNew(spec, 'invalid_order', atNs);
      if (this.open.has(spec.orderId)) return this.rejectNew(spec, 'duplicate_order_id', atNs);
      const market = spec.type === 'market';
      const side = spec.side;
      const limit = market ? (side > 0 ? Infinity : -Infinity) : spec.price;
      if (spec.tif === 'POST_ONLY' && this.wouldTake(side, limit)) return this.rejectNew(spec, 'post_only_would_take', atNs);
      const o: Order = {
        id: spec.orderId,
        side,
        type: spec.type,
        tif: spec.tif,
        price: market ? NaN : spec.price,
        size: spec.size,
        filled: 0,
        remaining: spec.size,
        ahead: 0,
        traded: 0,
      };
      this.send(o, 'accepted', undefined, undefined, atNs);
      if (spec.tif === 'FOK' && this.available(side, limit, o.size) < o.size * (1 - REL_EPS)) {
        return this.finish(o, 'fok_not_fillable', atNs);
      }
      this.take(o, limit, atNs);
      if (o.remaining === 0) return;
      if (market) return this.finish(o, 'no_liquidity', atNs);
      if (spec.tif === 'IOC' || spec.tif === 'FOK') return this.finish(o, 'ioc_unfilled', atNs);
      this.rest(o);
    } finally {
      this.busy = false;
    }
  }

  /** A cancel reaches the exchange. Not rate limited. */
  cancel(orderId: number, atNs: number): void {
    this.enter();
    try {
      const o = this.open.get(orderId);
      if (!o) return this.rejectUnknown('cancel_rejected', orderId, atNs);
      this.unrest(o);
      this.finish(o, 'user_cancel', atNs);
    } finally {
      this.busy = false;
    }
  }

  /**
   * A modify (cancel-replace) reaches the exchange: `size` is the new total size (fills so far count against
   * it). Rate limited like a new order. Accepted, the order keeps its id and fills, leaves its queue and is
   * processed as a fresh arrival at `price` (it may take liquidity if it now crosses, then rests at the back).
   */
  modify(orderId: number, price: number, size: number, atNs: number): void {
    this.enter();
    try {
      if (!this.limiter.allow(atNs)) {
        const known = this.open.get(orderId);
        return known ? this.send(known, 'modify_rejected', undefined, 'rate_limit', atNs) : this.rejectUnknown('modify_rejected', orderId, atNs, 'rate_limit');
      }
      const o = this.open.get(orderId);
      if (!o) return this.rejectUnknown('modify_rejected', orderId, atNs);
      if (!(Number.isFinite(price) && price > 0 && Number.isFinite(size) && size - o.filled > size * REL_EPS)) {
        return this.send(o, 'modify_rejected', undefined, 'invalid_order', atNs);
      }
      if (o.tif === 'POST_ONLY' && this.wouldTake(o.side, price)) {
        return this.send(o, 'modify_rejected', undefined, 'post_only_would_take', atNs);
      }
      this.unrest(o);
      o.price = price;
      o.size = size;
      o.remaining = size - o.filled;
      this.send(o, 'modified', undefined, undefined, atNs);
      this.take(o, price, atNs);
      if (o.remaining > 0) this.rest(o);
    } finally {
      this.busy = false;
    }
  }

  // ---------------------------------------------------------------------------------------------------------
  // Market data, in exchange-time order.

  /**
   * [bidLo, bidHi, askLo, askHi]: price ranges of the resting orders (an empty side: Infinity, -Infinity), and
   * [4] the number of prices with liquidity taken. A typed array, so the engine's loop reads them without a
   * call (see levelMatters).
   */
  readonly ranges = Float64Array.of(Infinity, -Infinity, Infinity, -Infinity, 0);

  /**
   * Level `price` now shows `newSize`: what the strategy took there stays taken, reduced only if the level
   * shrank below it (taken = min(taken, newSize); 0 = the entry is dropped). Allocates nothing.
   */
  private keepTaken(map: Map<number, number>, price: number, newSize: number): void {
    const taken = map.get(price);
    if (taken === undefined) return;
    if (newSize > 0 && taken > newSize) map.set(price, newSize);
    else if (!(newSize > 0)) {
      map.delete(price);
      this.countConsumed();
    }
  }

  private countConsumed(): void {
    this.ranges[4] = this.consumedBid.size + this.consumedAsk.size;
  }

  private updateRanges(): void {
    let bidLo = Infinity;
    let bidHi = -Infinity;
    let askLo = Infinity;
    let askHi = -Infinity;
    for (const o of this.bids) {
      if (o.price < bidLo) bidLo = o.price;
      if (o.price > bidHi) bidHi = o.price;
    }
    for (const o of this.asks) {
      if (o.price < askLo) askLo = o.price;
      if (o.price > askHi) askHi = o.price;
    }
    const r = this.ranges;
    r[0] = bidLo;
    r[1] = bidHi;
    r[2] = askLo;
    r[3] = askHi;
    r[4] = this.consumedBid.size + this.consumedAsk.size;
  }

  /**
   * Whether a change of this book level can matter here: it is in a resting order's price range (queue), it
   * could quote through a resting order of the other side, or liquidity was taken. The engine's loop inlines
   * the same test on `ranges` (passing doubles to a call it cannot inline allocates, on every row); a false
   * "yes" only costs a call.
   */
  levelMatters(side: number, price: number): boolean {
    return levelMatters(this.ranges, side, price);
  }

  /** Whether a trade at `price` can fill a resting order (a sell at or below a bid, a buy at or above an ask). */
  tradeMatters(price: number, aggressorSide: number): boolean {
    return tradeMatters(this.ranges, price, aggressorSide);
  }

  /**
   * The engine has just applied one book row: level `price` of `side` (+1 bid, -1 ask) went from `prevSize` to
   * `newSize` (0 = deleted).
   */
  onLevel(side: number, price: number, prevSize: number, newSize: number, atNs: number): void {
    if (side > 0) {
      if (this.consumedBid.size !== 0) this.keepTaken(this.consumedBid, price, newSize);
      if (this.bids.length === 0 && this.asks.length === 0) return;
      this.enter();
      try {
        if (this.bids.length !== 0) this.levelChanged(this.bids, price, prevSize, newSize);
        if (this.asks.length !== 0) this.quoteThrough(this.asks, -1, atNs);
      } finally {
        this.busy = false;
      }
    } else {
      if (this.consumedAsk.size !== 0) this.keepTaken(this.consumedAsk, price, newSize);
      if (this.bids.length === 0 && this.asks.length === 0) return;
      this.enter();
      try {
        if (this.asks.length !== 0) this.levelChanged(this.asks, price, prevSize, newSize);
        if (this.bids.length !== 0) this.quoteThrough(this.bids, 1, atNs);
      } finally {
        this.busy = false;
      }
    }
  }

  /** An on-book trade print: `size` at `price`, `aggressorSide` +1 buy / -1 sell (0: unknown, ignored). */
  onTrade(price: number, size: number, aggressorSide: number, atNs: number): void {
    if (aggressorSide < 0) {
      if (this.bids.length === 0) return;
      this.enter();
      try {
        this.tradeFills(this.bids, 1, price, size, atNs);
      } finally {
        this.busy = false;
      }
    } else if (aggressorSide > 0) {
      if (this.asks.length === 0) return;
      this.enter();
      try {
        this.tradeFills(this.asks, -1, price, size, atNs);
      } finally {
        this.busy = false;
      }
    }
  }

  /**
   * The engine has just applied a complete snapshot (the book was replaced). Consumed liquidity is forgotten,
   * every resting order's queue ahead becomes min(ahead, displayed size at its price), and quotes through
   * resting orders fill them.
   */
  onSnapshot(atNs: number): void {
    if (this.consumedBid.size !== 0) for (const p of [...this.consumedBid.keys()]) this.keepTaken(this.consumedBid, p, this.book.bids.sizeOf(p));
    if (this.consumedAsk.size !== 0) for (const p of [...this.consumedAsk.keys()]) this.keepTaken(this.consumedAsk, p, this.book.asks.sizeOf(p));
    if (this.bids.length === 0 && this.asks.length === 0) return;
    this.enter();
    try {
      this.recap(this.bids, this.book.bids);
      this.recap(this.asks, this.book.asks);
      if (this.bids.length !== 0) this.quoteThrough(this.bids, 1, atNs);
      if (this.asks.length !== 0) this.quoteThrough(this.asks, -1, atNs);
    } finally {
      this.busy = false;
    }
  }

  // ---------------------------------------------------------------------------------------------------------
  // Internals.

  private enter(): void {
    if (this.busy) throw new Error(`venue ${this.venue}: re-entrant call (an emit callback called back into the venue)`);
    this.busy = true;
  }

  /**
   * Liquidity available to an order of `side` whose limit is `limit` (±Infinity for market orders): the sum
   * over opposite levels that cross the limit of (size - consumed), stopping once the sum exceeds `upTo`.
   */
  private available(side: OrderSide, limit: number, upTo: number): number {
    const levels = side > 0 ? this.book.asks : this.book.bids;
    const consumed = side > 0 ? this.consumedAsk : this.consumedBid;
    let sum = 0;
    for (let k = 0; k < levels.count; k++) {
      const price = levels.priceAt(k);
      if (side > 0 ? price > limit : price < limit) break;
      sum += levelAvailable(levels.sizeAt(k), consumed, price);
      if (sum > upTo) break;
    }
    return sum;
  }

  /**
   * Whether an order of `side` at `limit` would take liquidity on arrival: some opposite level crosses it
   * with size the strategy has not taken, or the real-time quote (a BBO newer than the depth book, see
   * BookSideView.quotePrice) is at or through it although the depth book does not show that level yet.
   */
  private wouldTake(side: OrderSide, limit: number): boolean {
    if (this.available(side, limit, 0) > 0) return true;
    const levels = side > 0 ? this.book.asks : this.book.bids;
    const q = levels.quotePrice ? levels.quotePrice() : NaN;
    return side > 0 ? q <= limit : q >= limit;
  }

  /** Walk the opposite side from its best level, filling `o` as taker at each level's price. */
  private take(o: Order, limit: number, atNs: number): void {
    const side = o.side;
    const levels = side > 0 ? this.book.asks : this.book.bids;
    const consumed = side > 0 ? this.consumedAsk : this.consumedBid;
    for (let k = 0; k < levels.count && o.remaining > 0; k++) {
      const price = levels.priceAt(k);
      if (side > 0 ? price > limit : price < limit) break;
      const avail = levelAvailable(levels.sizeAt(k), consumed, price);
      if (avail <= 0) continue;
      let q = avail < o.remaining ? avail : o.remaining;
      if (o.remaining - q <= o.size * REL_EPS) q = o.remaining;
      consumed.set(price, (consumed.get(price) ?? 0) + q);
      this.countConsumed();
      this.fill(o, price, q, false, atNs);
    }
  }

  /** Join the back of the queue at o.price. */
  private rest(o: Order): void {
    const list = o.side > 0 ? this.bids : this.asks;
    const levels = o.side > 0 ? this.book.bids : this.book.asks;
    o.ahead = this.queue.onJoin(levels.sizeOf(o.price));
    o.traded = 0;
    list.push(o);
    this.open.set(o.id, o);
    this.updateRanges();
  }

  /** Remove a resting order (cancel, modify). */
  private unrest(o: Order): void {
    const list = o.side > 0 ? this.bids : this.asks;
    const i = list.indexOf(o);
    if (i >= 0) list.splice(i, 1);
    this.open.delete(o.id);
    this.updateRanges();
  }

  /** Drop filled orders from a list, keeping the others' order. */
  private compact(list: Order[]): void {
    let w = 0;
    for (let r = 0; r < list.length; r++) {
      const o = list[r]!;
      if (o.remaining > 0) list[w++] = o;
      else this.open.delete(o.id);
    }
    if (list.length !== w) {
      list.length = w;
      this.updateRanges();
    }
  }

  /** Queue update for our orders resting at `price` after the recorded level changed. */
  private levelChanged(list: Order[], price: number, prevSize: number, newSize: number): void {
    let before = 0; // `ahead` of our previous order at this price: a later order is never ahead of it
    for (let i = 0; i < list.length; i++) {
      const o = list[i]!;
      if (o.price !== price) continue;
      let prev = prevSize - o.traded;
      if (prev < 0) prev = 0;
      let a = this.queue.onLevelChange(o.ahead, prev, newSize);
      if (a < before) a = before;
      o.ahead = a;
      o.traded = 0;
      before = a;
    }
  }

  /**
   * Our orders of `ourSide` in `list` that the opposite side now quotes at or through are filled whole, as
   * maker, at their own price. Only opposite liquidity the strategy has not consumed counts.
   */
  private quoteThrough(list: Order[], ourSide: OrderSide, atNs: number): void {
    const levels = ourSide > 0 ? this.book.asks : this.book.bids;
    const best = bestAvailable(levels, ourSide > 0 ? this.consumedAsk : this.consumedBid);
    if (best !== best) return; // NaN: no liquidity on the other side
    let filled = false;
    for (let i = 0; i < list.length; i++) {
      const o = list[i]!;
      if (ourSide > 0 ? best <= o.price : best >= o.price) {
        this.fill(o, o.price, o.remaining, true, atNs);
        filled = true;
      }
    }
    if (filled) this.compact(list);
  }

  /**
   * A trade by an aggressor on the other side printed `size` at `price`: our orders better than `price` were
   * passed through (the aggressor would have met them first), our orders at `price` wait behind the queue
   * ahead of them (docs/matching.md, "One print, many resting orders").
   * - conservative (the default): the print fills at most its own size across all our orders, by price-time
   *   priority among them: better prices first, at a price in arrival order; what our orders took no longer
   *   reaches the queue at `price`.
   * - optimistic (hftbacktest's rule): each order may be filled by the whole print, as if it were alone.
   */
  private tradeFills(list: Order[], ourSide: OrderSide, price: number, size: number, atNs: number): void {
    let filled = false;
    let given = 0; // trade volume already given to our orders (conservative) and so not to the queue at `price`
    if (this.optimistic) {
      for (let i = 0; i < list.length; i++) {
        const o = list[i]!;
        if (ourSide > 0 ? o.price > price : o.price < price) {
          this.fill(o, o.price, o.remaining, true, atNs);
          filled = true;
        }
      }
    } else {
      // Prices strictly better than the print, best first; `last` is the price just done.
      let last = ourSide > 0 ? Infinity : -Infinity;
      while (size - given > size * REL_EPS) {
        let p = NaN;
        for (let i = 0; i < list.length; i++) {
          const x = list[i]!.price;
          if (list[i]!.remaining > 0 && (ourSide > 0 ? x > price && x < last && !(x <= p) : x < price && x > last && !(x >= p))) p = x;
        }
        if (p !== p) break;
        last = p;
        for (let i = 0; i < list.length && size - given > size * REL_EPS; i++) {
          const o = list[i]!;
          if (o.price !== p || o.remaining === 0) continue;
          const budget = size - given;
          let q = budget < o.remaining ? budget : o.remaining;
          if (o.remaining - q <= o.size * REL_EPS) q = o.remaining;
          given += q;
          this.fill(o, p, q, true, atNs);
          if (o.remaining === 0) filled = true;
        }
      }
    }
    for (let i = 0; i < list.length; i++) {
      const o = list[i]!;
      if (o.price !== price) continue;
      o.traded += size;
      let eff = size - given;
      if (eff < 0) eff = 0;
      const excess = eff - o.ahead;
      o.ahead = this.queue.onTrade(o.ahead, eff);
      if (excess > size * REL_EPS) {
        let q = excess < o.remaining ? excess : o.remaining;
        if (o.remaining - q <= o.size * REL_EPS) q = o.remaining;
        if (!this.optimistic) given += q;
        this.fill(o, price, q, true, atNs);
        if (o.remaining === 0) filled = true;
      }
    }
    if (filled) this.compact(list);
  }

  private recap(list: Order[], levels: BookSideView): void {
    for (let i = 0; i < list.length; i++) {
      const o = list[i]!;
      const s = levels.sizeOf(o.price);
      if (o.ahead > s) o.ahead = s;
      o.traded = 0;
    }
  }

  private fill(o: Order, price: number, size: number, maker: boolean, atNs: number): void {
    o.remaining = size === o.remaining ? 0 : o.remaining - size;
    o.filled += size;
    const fill: Fill = {
      orderId: o.id,
      venue: this.venue,
      side: o.side,
      price,
      size,
      maker,
      fee: this.fees.fee(notional(this.contract, price, size), maker),
      exchangeTimeNs: atNs,
    };
    this.send(o, o.remaining === 0 ? 'filled' : 'partially_filled', fill, undefined, atNs);
  }

  /** End an order that is not resting (or was just removed) without filling the rest. */
  private finish(o: Order, reason: string, atNs: number): void {
    o.remaining = 0;
    this.send(o, 'cancelled', undefined, reason, atNs);
  }

  private send(o: Order, status: ExchangeStatus, fill: Fill | undefined, reason: string | undefined, atNs: number): void {
    this.emit({
      status,
      orderId: o.id,
      venue: this.venue,
      side: o.side,
      type: o.type,
      tif: o.tif,
      price: o.price,
      size: o.size,
      filledSize: o.filled,
      remaining: o.remaining,
      fill,
      reason,
      exchangeTimeNs: atNs,
    });
  }

  private rejectNew(spec: SimOrderSpec, reason: string, atNs: number): void {
    this.emit({
      status: 'rejected',
      orderId: spec.orderId,
      venue: this.venue,
      side: spec.side,
      type: spec.type,
      tif: spec.tif,
      price: spec.type === 'market' ? NaN : spec.price,
      size: spec.size,
      filledSize: 0,
      remaining: 0,
      fill: undefined,
      reason,
      exchangeTimeNs: atNs,
    });
  }

  private rejectUnknown(status: 'cancel_rejected' | 'modify_rejected', orderId: number, atNs: number, reason = 'unknown_order'): void {
    this.emit({
      status,
      orderId,
      venue: this.venue,
      side: 0,
      type: undefined,
      tif: undefined,
      price: NaN,
      size: 0,
      filledSize: 0,
      remaining: 0,
      fill: undefined,
      reason,
      exchangeTimeNs: atNs,
    });
  }
}

function validNew(spec: SimOrderSpec): boolean {
  if (!(Number.isFinite(spec.size) && spec.size > 0)) return false;
  if (spec.side !== 1 && spec.side !== -1) return false;
  const tif = spec.tif;
  if (spec.type === 'market') return tif === 'GTC' || tif === 'IOC' || tif === 'FOK';
  if (spec.type !== 'limit') return false;
  if (!(Number.isFinite(spec.price) && spec.price > 0)) return false;
  return tif === 'GTC' || tif === 'IOC' || tif === 'FOK' || tif === 'POST_ONLY';
}

/** A level's size minus what the strategy took there; 0 when only float dust is left. */
function levelAvailable(size: number, consumed: Map<number, number>, price: number): number {
  if (consumed.size === 0) return size;
  const a = size - (consumed.get(price) ?? 0);
  return a > size * REL_EPS ? a : 0;
}

/** Best price of `levels` with liquidity the strategy has not consumed; NaN if none. */
function bestAvailable(levels: BookSideView, consumed: Map<number, number>): number {
  if (consumed.size === 0) return levels.bestPrice();
  for (let k = 0; k < levels.count; k++) {
    const price = levels.priceAt(k);
    if (levelAvailable(levels.sizeAt(k), consumed, price) > 0) return price;
  }
  return NaN;
}

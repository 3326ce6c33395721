// The replay engine: one deterministic simulation of a strategy against recorded market data, with the
// two timelines a real connection has.
//
//   exchange timeline  recorded rows change the exchange-side book at their effect time (market-data.ts);
//                      strategy orders reach the exchange at send time + order latency and are matched there.
//   strategy timeline  each row reaches the strategy at effect time + feed latency (`recorded`: at its local
//                      time less the clock offset, never before its effect time); the exchange's responses
//                      (acks, fills, rejections) at their exchange time + response latency.
//
// Messages on one venue's connection never overtake each other (TCP): each leg's delivery times are kept
// non-decreasing per venue, whatever the latency model draws.
//
// Equal times are broken by this rule (docs/replay.md):
//   1. exchange-side market data (lower venue index first), 2. order messages reaching the exchange,
//   3. market data reaching the strategy (lower venue index first), 4. responses reaching the strategy,
//   5. timers; within a class, in the order they were scheduled.
// So an order that reaches the exchange at t sees every market event of time <= t, and a strategy reacting
// to data at t acts after the exchange has moved at t.
import { OrderBook } from '../book/order-book.js';
import { EventKind, Flag } from '../data/types.js';
import { Account, settlementAsset, type ContractSpec } from '../simulation/accounting.js';
import { ConstantLatency } from '../simulation/latency.js';
import { levelMatters, SimulatedVenue, tradeMatters, type ExchangeUpdate } from '../simulation/matching.js';
import type { FeeModel, Fill, LatencyModel, QueueModel, RateLimiter, Rng, VenueLatency } from '../simulation/types.js';
import type { Balances, BookView, Context, OrderRequest, OrderUpdate, Strategy, TradeView } from '../strategy/api.js';
import { EventClass, EventQueue } from './event-queue.js';
import type { MarketChunk, MarketData } from './market-data.js';

export interface VenueSetup {
  /** The venue's contract (session.ts looks it up in the exchange registry). */
  spec: ContractSpec;
  latency: VenueLatency;
  queue: QueueModel;
  fees: FeeModel;
  rateLimiter: RateLimiter;
  initialBalances: Balances;
}

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

export interface FillRecord {
  orderId: number;
  venue: number;
  side: number;
  price: number;
  size: number;
  maker: boolean;
  fee: number;
  exchangeTimeNs: number;
  /** When the strategy learned of it. */
  seenNs: number;
  /** Exchange-side mid at the fill, and `markoutNs` later (NaN where the book was unknown). */
  midAtFill: number;
  midAfter: number;
}

export interface OrderRecord {
  orderId: number;
  venue: number;
  side: number;
  type: string;
  tif: string;
  price: number;
  size: number;
  tag: string | undefined;
  sentNs: number;
  arrivedNs: number;
  finalStatus: string;
  reason: string | undefined;
  filledSize: number;
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

/** A fill's mid at the exchange when it happened and `markoutNs` later. */
interface Markout {
  venue: number;
  midAtFill: number;
  midAfter: number;
}

interface Pending {
  kind: 'new' | 'cancel' | 'modify';
  venue: number;
  orderId: number;
  request?: OrderRequest;
  price?: number;
  size?: number;
}

interface StrategyOrder {
  update: OrderUpdate;
  record: OrderRecord;
}

const TERMINAL = new Set(['filled', 'cancelled', 'rejected']);

// The hot loop compares against plain numbers (docs/dataset-format.md holds their meaning).
const K_TRADE = EventKind.Trade;
const K_LEVEL = EventKind.BookLevel;
const K_SNAPSHOT = EventKind.BookSnapshot;
const F_MESSAGE_END = Flag.MessageEnd;
const F_SNAPSHOT_END = Flag.SnapshotEnd;
const F_OFF_BOOK = Flag.OffBook;

/** A strategy-side book: the OrderBook the strategy sees, with its validity. */
class StrategyBook implements BookView {
  readonly book = new OrderBook();
  valid = false;
  bestBid(): number {
    return this.book.bids.bestPrice();
  }
  bestAsk(): number {
    return this.book.asks.bestPrice();
  }
  bidSize(level = 0): number {
    return level < this.book.bids.count ? this.book.bids.sizeAt(level) : 0;
  }
  askSize(level = 0): number {
    return level < this.book.asks.count ? this.book.asks.sizeAt(level) : 0;
  }
  bidPrice(level: number): number {
    return level < this.book.bids.count ? this.book.bids.priceAt(level) : NaN;
  }
  askPrice(level: number): number {
    return level < this.book.asks.count ? this.book.asks.priceAt(level) : NaN;
  }
  bidLevels(): number {
    return this.book.bids.count;
  }
  askLevels(): number {
    return this.book.asks.count;
  }
  mid(): number {
    return this.book.mid();
  }
}

/** Applies one market row to a book; returns the level's previous size (book rows) or -1. */
function applyRow(book: OrderBook, kind: number, flags: number, side: number, price: number, size: number, state: { valid: boolean }): number {
  if (kind === EventKind.BookLevel) {
    if (!state.valid) return -1;
    return book.set(side, price, size);
  }
  if (kind === EventKind.BookSnapshot) {
    if (flags & Flag.SnapshotBegin) {
      book.clear();
      state.valid = false;
    }
    if (size > 0) book.set(side, price, size);
    if (flags & Flag.SnapshotEnd) state.valid = true;
    return -1;
  }
  if (kind === EventKind.Gap || kind === EventKind.Disconnect) {
    book.clear();
    state.valid = false;
  }
  return -1;
}

export function runReplay(cfg: ReplayConfig): ReplayResult {
  const { data, strategy } = cfg;
  const V = data.venues.length;
  const equityInterval = cfg.equityIntervalNs ?? 1e9;
  const queue = new EventQueue<Pending | { update: ExchangeUpdate } | { timer: string } | { markout: Markout }>();
  const queueHead = queue.head;
  const exBooks = data.venues.map(() => new OrderBook());
  const exState = data.venues.map(() => ({ valid: false }));
  const sBooks = data.venues.map(() => new StrategyBook());
  const specs = cfg.venues.map((s) => s.spec);
  const accounts = specs.map((s, i) => new Account(s, cfg.venues[i]!.initialBalances));
  const known = specs.map((s, i) => new Account(s, cfg.venues[i]!.initialBalances));
  const lastArrival = new Float64Array(V).fill(-Infinity);
  const lastResponse = new Float64Array(V).fill(-Infinity);
  const lastDelivery = new Float64Array(V).fill(-Infinity);
  const orders = new Map<number, StrategyOrder>();
  const openOrders = new Map<number, OrderUpdate>();
  const fills: FillRecord[] = [];
  const orderLog: OrderRecord[] = [];
  const log: string[] = [];
  let nextOrderId = 1;
  let nextTimer = 1;
  // Strategy time lives in a typed array: a captured `let` holding a double is re-boxed on every write.
  const clock = new Float64Array(1);

  // Per-venue row streams (each venue's rows in recorded order), for both timelines.
  const venueRows = data.byVenue;
  const exCur = venueRows.map(() => ({ chunk: 0, row: 0 }));
  const sCur = venueRows.map(() => ({ chunk: 0, row: 0 }));
  const sTime = new Float64Array(V);

  const emitters = data.venues.map((_, v) => (u: ExchangeUpdate) => onExchangeUpdate(v, u));
  const sims = data.venues.map(
    (_, v) =>
      new SimulatedVenue({
        venue: v,
        book: exBooks[v]!,
        queue: cfg.venues[v]!.queue,
        fees: cfg.venues[v]!.fees,
        rateLimiter: cfg.venues[v]!.rateLimiter,
        contractValue: specs[v]!.contractValue,
        inverse: specs[v]!.kind === 'inverse',
        emit: emitters[v]!,
      }),
  );

  const markoutNs = cfg.markoutNs ?? 1e9;
  const markouts = new Map<Fill, Markout>();
  const fillMarkouts: Markout[] = [];
  function onExchangeUpdate(v: number, u: ExchangeUpdate): void {
    if (u.fill) {
      accounts[v]!.applyFill(u.fill);
      const m: Markout = { venue: v, midAtFill: exBooks[v]!.mid(), midAfter: NaN };
      markouts.set(u.fill, m);
      queue.push(u.fill.exchangeTimeNs + markoutNs, EventClass.Markout, { markout: m });
    }
    // The response leg: never overtakes an earlier response on the same connection.
    const at = Math.max(lastResponse[v]!, u.exchangeTimeNs + cfg.venues[v]!.latency.response.sample(u.exchangeTimeNs, NaN));
    lastResponse[v] = at;
    queue.push(at, EventClass.Response, { update: u });
  }

  // The recorded delay is measured from the row's effect time, not its own exchange time: a row that took
  // effect after its exch_ts (recorded behind a later row of another channel) already waited until effNs, so
  // `recorded` delivers it at max(effNs, local - clock offset), when the recorder got it.
  const feedModels: LatencyModel[] = cfg.venues.map((s) => s.latency.feed);
  // A constant feed latency needs no call per row (NaN: ask the model).
  const constantFeed = Float64Array.from(feedModels, (m) => (m instanceof ConstantLatency ? m.ns : NaN));
  /** Schedules row r of chunk c to reach the strategy: sets sTime[v] (no return value: it would be boxed). */
  const scheduleDelivery = (v: number, c: MarketChunk | undefined, r: number): void => {
    if (!c) {
      sTime[v] = Infinity;
      return;
    }
    const eff = c.effNs[r]!;
    const k = constantFeed[v]!;
    const t = Math.max(lastDelivery[v]!, eff + (k === k ? k : feedModels[v]!.sample(eff, c.localNs[r]! - eff)));
    lastDelivery[v] = t;
    sTime[v] = t;
  };
  for (let v = 0; v < V; v++) {
    const c = venueRows[v]![0];
    scheduleDelivery(v, c, 0);
  }

  const tradeView: TradeView = { venue: 0, price: 0, size: 0, side: 1, exchangeTimeNs: 0 };

  const ctx: Context = {
    now: () => clock[0]!,
    venues: data.venues,
    venue(exchange, symbol) {
      const i = data.venues.findIndex((x) => x.exchange === exchange && x.symbol.toUpperCase() === symbol.toUpperCase());
      if (i < 0) throw new Error(`no venue ${exchange} ${symbol} in this run (venues: ${data.venues.map((x) => `${x.exchange} ${x.symbol}`).join(', ')})`);
      return i;
    },
    book: (v) => sBooks[v]!,
    position: (v) => known[v]!.positionView(sBooks[v]!.mid()),
    balances: (v) => known[v]!.balances(),
    openOrders: (v) => [...openOrders.values()].filter((o) => v === undefined || o.venue === v),
    submit(req) {
      if (!(req.venue >= 0 && req.venue < V)) throw new Error(`submit: venue ${req.venue} is not one of this run's ${V}`);
      if (!(req.size > 0) || !Number.isFinite(req.size)) throw new Error(`submit: size must be > 0, got ${req.size}`);
      if (req.type === 'limit' && !(req.price! > 0)) throw new Error(`submit: a limit order needs a price > 0, got ${req.price}`);
      const orderId = nextOrderId++;
      const price = req.type === 'market' ? NaN : req.price!;
      const tif = req.tif ?? (req.type === 'market' ? 'IOC' : 'GTC');
      const update: OrderUpdate = {
        orderId,
        venue: req.venue,
        tag: req.tag,
        status: 'pending',
        side: req.side,
        price,
        size: req.size,
        filledSize: 0,
        lastFillPrice: NaN,
        lastFillSize: 0,
        lastFillMaker: false,
        lastFillFee: 0,
        reason: undefined,
        exchangeTimeNs: NaN,
      };
      const record: OrderRecord = {
        orderId,
        venue: req.venue,
        side: req.side,
        type: req.type,
        tif,
        price,
        size: req.size,
        tag: req.tag,
        sentNs: clock[0]!,
        arrivedNs: NaN,
        finalStatus: 'pending',
        reason: undefined,
        filledSize: 0,
      };
      orders.set(orderId, { update, record });
      orderLog.push(record);
      openOrders.set(orderId, update);
      send(req.venue, 'new', { kind: 'new', venue: req.venue, orderId, request: { ...req, tif } });
      return orderId;
    },
    cancel(orderId) {
      const o = orders.get(orderId);
      if (!o) throw new Error(`cancel: no order ${orderId}`);
      send(o.update.venue, 'cancel', { kind: 'cancel', venue: o.update.venue, orderId });
    },
    modify(orderId, price, size) {
      const o = orders.get(orderId);
      if (!o) throw new Error(`modify: no order ${orderId}`);
      send(o.update.venue, 'modify', { kind: 'modify', venue: o.update.venue, orderId, price, size });
    },
    setTimer(atNs, id) {
      const name = id ?? `timer-${nextTimer++}`;
      queue.push(Math.max(atNs, clock[0]!), EventClass.Timer, { timer: name });
      return name;
    },
    random: cfg.rng,
    log(message) {
      log.push(`${(clock[0]! / 1e6).toFixed(3)}ms ${message}`);
    },
  };

  function send(v: number, op: 'new' | 'cancel' | 'modify', p: Pending): void {
    const now = clock[0]!;
    const at = Math.max(lastArrival[v]!, now + cfg.venues[v]!.latency.order[op].sample(now, NaN));
    lastArrival[v] = at;
    queue.push(at, EventClass.OrderArrival, p);
  }

  function arrive(p: Pending, at: number): void {
    const sim = sims[p.venue]!;
    if (p.kind === 'new') {
      const r = p.request!;
      orders.get(p.orderId)!.record.arrivedNs = at;
      sim.arrive({ orderId: p.orderId, venue: p.venue, side: r.side, type: r.type, price: r.type === 'market' ? NaN : r.price!, size: r.size, tif: r.tif! }, at);
    } else if (p.kind === 'cancel') sim.cancel(p.orderId, at);
    else sim.modify(p.orderId, p.price!, p.size!, at);
  }

  function deliver(u: ExchangeUpdate): void {
    const o = orders.get(u.orderId);
    if (!o) return;
    const s = o.update;
    s.exchangeTimeNs = u.exchangeTimeNs;
    s.reason = u.reason;
    s.lastFillSize = 0;
    s.lastFillPrice = NaN;
    s.lastFillFee = 0;
    s.lastFillMaker = false;
    switch (u.status) {
      case 'accepted':
        s.status = 'accepted';
        break;
      case 'modified':
        s.status = s.filledSize > 0 ? 'partially_filled' : 'accepted';
        s.price = u.price;
        s.size = u.size;
        break;
      case 'partially_filled':
      case 'filled': {
        const f = u.fill!;
        s.status = u.status;
        s.filledSize = u.filledSize;
        s.lastFillPrice = f.price;
        s.lastFillSize = f.size;
        s.lastFillFee = f.fee;
        s.lastFillMaker = f.maker;
        known[u.venue]!.applyFill(f);
        const m = markouts.get(f)!;
        markouts.delete(f);
        fills.push({
          orderId: u.orderId,
          venue: u.venue,
          side: f.side,
          price: f.price,
          size: f.size,
          maker: f.maker,
          fee: f.fee,
          exchangeTimeNs: f.exchangeTimeNs,
          seenNs: clock[0]!,
          midAtFill: m.midAtFill,
          midAfter: NaN, // known at the markout time; copied in after the run
        });
        fillMarkouts.push(m);
        break;
      }
      case 'cancelled':
      case 'rejected':
        s.status = u.status;
        break;
      case 'cancel_rejected':
      case 'modify_rejected':
        // The order itself is unchanged; the strategy hears why its request failed.
        break;
    }
    o.record.finalStatus = s.status;
    o.record.reason = u.status === 'cancel_rejected' || u.status === 'modify_rejected' ? o.record.reason : u.reason;
    o.record.filledSize = s.filledSize;
    if (TERMINAL.has(s.status)) openOrders.delete(u.orderId);
    strategy.onOrderUpdate?.(ctx, s);
  }

  // Equity on a fixed exchange-time grid, marked at the exchange-side mid.
  const eqT: number[] = [];
  const eqV: number[] = [];
  const settle = specs.map(settlementAsset);
  // PnL, not equity: the starting holdings valued at the same mid are taken out, so a spot venue's initial
  // coins do not make the curve follow the market.
  const initial = specs.map((s, i) => new Account(s, cfg.venues[i]!.initialBalances));
  const lastMid = new Float64Array(V).fill(NaN);
  const equityNow = (): number => {
    let total = 0;
    for (let v = 0; v < V; v++) {
      const mid = exBooks[v]!.mid();
      if (Number.isFinite(mid)) lastMid[v] = mid;
      const m = lastMid[v]!;
      if (!Number.isFinite(m)) continue;
      const e = accounts[v]!.equity(m) - initial[v]!.equity(m);
      total += specs[v]!.kind === 'inverse' ? e * m : e;
    }
    return total;
  };
  let nextEquityAt = NaN;

  let events = 0;
  let firstNs = NaN;
  // Next exchange-side effect time per venue (Infinity when its rows are done).
  const exNext = new Float64Array(V);
  for (let v = 0; v < V; v++) exNext[v] = venueRows[v]![0] ? venueRows[v]![0]!.effNs[0]! : Infinity;

  /** Applies venue v's exchange-side rows in order while they come before `bound` (see the tie rule). */
  // Bounds for the two runners, passed in a typed array: doubles passed as arguments are boxed per call, and
  // the runners are entered for every few rows when the timelines interleave closely.
  const bounds = new Float64Array(2);
  const runExchange = (v: number, otherV: number): void => {
    const otherT = bounds[0]!;
    const strategyT = bounds[1]!;
    const cur = exCur[v]!;
    const rows = venueRows[v]!;
    const sim = sims[v]!;
    const ranges = sim.ranges;
    const book = exBooks[v]!;
    const st = exState[v]!;
    let c = rows[cur.chunk]!;
    let r = cur.row;
    for (;;) {
      const t = c.effNs[r]!;
      // Exchange rows go before anything else at their time, and before other venues' rows by venue index.
      if (t > strategyT || t > queueHead[0]! || t > otherT || (t === otherT && otherV < v)) break;
      if (t >= nextEquityAt) {
        while (t >= nextEquityAt) {
          eqT.push(nextEquityAt);
          eqV.push(equityNow());
          nextEquityAt += equityInterval;
        }
      }
      const kind = c.kind[r]!;
      const flags = c.flags[r]!;
      if (kind === K_TRADE) {
        if (!(flags & F_OFF_BOOK) && tradeMatters(ranges, c.price[r]!, c.side[r]!)) sim.onTrade(c.price[r]!, c.size[r]!, c.side[r]!, t);
      } else if (kind === K_LEVEL) {
        if (st.valid) {
          book.setLevel(c.side[r]!, c.price[r]!, c.size[r]!);
          if (levelMatters(ranges, c.side[r]!, c.price[r]!)) sim.onLevel(c.side[r]!, c.price[r]!, book.lastPrev, c.size[r]!, t);
        }
      } else {
        applyRow(book, kind, flags, c.side[r]!, c.price[r]!, c.size[r]!, st);
        if (kind === K_SNAPSHOT && flags & F_SNAPSHOT_END) sim.onSnapshot(t);
      }
      events++;
      if (++r >= c.length) {
        r = 0;
        cur.chunk++;
        const next = rows[cur.chunk];
        if (!next) {
          exNext[v] = Infinity;
          cur.row = 0;
          return;
        }
        c = next;
      }
      exNext[v] = c.effNs[r]!;
    }
    cur.row = r;
    exNext[v] = c.effNs[r]!;
  };

  /** Delivers venue v's rows to the strategy while they come before every other pending event. */
  const runStrategy = (v: number, otherV: number): void => {
    const otherT = bounds[0]!;
    const cur = sCur[v]!;
    const rows = venueRows[v]!;
    const sb = sBooks[v]!;
    const book = sb.book;
    // No exchange row is applied while this runs, so the exchange side's next time is fixed.
    const exchangeT = minExchange();
    for (;;) {
      const t = sTime[v]!;
      const qT = queueHead[0]!;
      // Market data reaches the strategy after the exchange moved at that time and after order arrivals,
      // but before responses and timers of the same time.
      if (t === Infinity || t >= exchangeT || t > qT || (t === qT && queue.peekClass() === EventClass.OrderArrival)) break;
      if (t > otherT || (t === otherT && otherV < v)) break;
      clock[0] = t;
      const c = rows[cur.chunk]!;
      const r = cur.row;
      const kind = c.kind[r]!;
      const flags = c.flags[r]!;
      if (++cur.row >= c.length) {
        cur.row = 0;
        cur.chunk++;
      }
      const nc = rows[cur.chunk];
      scheduleDelivery(v, nc, cur.row);
      if (kind === K_TRADE) {
        if (strategy.onTrade) {
          tradeView.venue = v;
          tradeView.price = c.price[r]!;
          tradeView.size = c.size[r]!;
          tradeView.side = c.side[r]! > 0 ? 1 : -1;
          tradeView.exchangeTimeNs = c.exchNs[r]!;
          strategy.onTrade(ctx, tradeView);
        }
      } else if (kind === K_LEVEL) {
        if (sb.valid) {
          book.setLevel(c.side[r]!, c.price[r]!, c.size[r]!);
          if (flags & F_MESSAGE_END && onBook) onBook.call(strategy, ctx, v);
        }
      } else {
        applyRow(book, kind, flags, c.side[r]!, c.price[r]!, c.size[r]!, sb);
        if (flags & F_MESSAGE_END && sb.valid && kind === K_SNAPSHOT && onBook) onBook.call(strategy, ctx, v);
      }
    }
  };
  const onBook = strategy.onBook;
  const minExchange = (): number => {
    let m = Infinity;
    for (let v = 0; v < V; v++) if (exNext[v]! < m) m = exNext[v]!;
    return m;
  };

  strategy.onStart?.(ctx);
  for (;;) {
    // The earliest exchange-side row and the runner-up venue.
    let exV = -1;
    let exT = Infinity;
    let ex2V = -1;
    let ex2T = Infinity;
    for (let v = 0; v < V; v++) {
      const t = exNext[v]!;
      if (t < exT) {
        ex2T = exT;
        ex2V = exV;
        exT = t;
        exV = v;
      } else if (t < ex2T) {
        ex2T = t;
        ex2V = v;
      }
    }
    let sV = -1;
    let sT = Infinity;
    let s2V = -1;
    let s2T = Infinity;
    for (let v = 0; v < V; v++) {
      const t = sTime[v]!;
      if (t < sT) {
        s2T = sT;
        s2V = sV;
        sT = t;
        sV = v;
      } else if (t < s2T) {
        s2T = t;
        s2V = v;
      }
    }
    const qT = queue.peekTime();
    if (exV < 0 && sV < 0 && qT === Infinity) break;
    // Once the data is over, what is already under way (orders, responses) finishes; timers no longer fire.
    if (exV < 0 && sV < 0 && queue.peekClass() === EventClass.Timer) {
      queue.pop();
      continue;
    }

    if (exV >= 0 && exT <= sT && exT <= qT) {
      // 1. exchange-side market data
      if (Number.isNaN(firstNs)) {
        firstNs = exT;
        nextEquityAt = Math.ceil(exT / equityInterval) * equityInterval;
      }
      bounds[0] = ex2T;
      bounds[1] = sT;
      runExchange(exV, ex2V);
      continue;
    }
    if (queue.peekClass() === EventClass.OrderArrival && qT <= sT) {
      // 2. order messages reaching the exchange
      const p = queue.pop() as Pending;
      arrive(p, qT);
      continue;
    }
    if (sV >= 0 && sT <= qT) {
      // 3. market data reaching the strategy
      bounds[0] = s2T;
      runStrategy(sV, s2V);
      continue;
    }
    // 4./5. responses and timers reaching the strategy
    const item = queue.pop();
    if ('markout' in item) {
      // The engine's own measurement: not an event of the strategy's, so its clock does not move.
      item.markout.midAfter = exBooks[item.markout.venue]!.mid();
      continue;
    }
    clock[0] = qT;
    if ('update' in item) deliver(item.update);
    else if ('timer' in item) strategy.onTimer?.(ctx, item.timer);
  }
  strategy.onEnd?.(ctx);
  fills.forEach((f, i) => (f.midAfter = fillMarkouts[i]!.midAfter));
  const lastNs = Math.max(clock[0]!, ...exCur.map((_, v) => lastEff(venueRows[v]!)));
  eqT.push(lastNs);
  eqV.push(equityNow());

  const venues: VenueResult[] = data.venues.map((venue, v) => {
    const a = accounts[v]!;
    const m = Number.isFinite(lastMid[v]!) ? lastMid[v]! : a.averageEntry;
    const pv = a.positionView(m);
    return {
      venue: { exchange: venue.exchange, symbol: venue.symbol },
      settlement: settle[v]!,
      position: a.position,
      averageEntry: a.averageEntry,
      realizedPnl: a.realizedPnl,
      unrealizedPnl: pv.unrealizedPnl,
      fees: a.fees,
      netPnl: a.equity(m) - initial[v]!.equity(m),
      lastMid: m,
      fills: a.summary.fills,
      makerFills: a.summary.makerFills,
      reconcile: a.reconcile(),
    };
  });
  return {
    venues,
    fills,
    orders: orderLog,
    equityTimeNs: Float64Array.from(eqT),
    equity: Float64Array.from(eqV),
    events,
    firstNs,
    lastNs,
    log,
    markoutNs,
  };
}

function lastEff(chunks: MarketChunk[]): number {
  const c = chunks[chunks.length - 1];
  return c ? c.effNs[c.length - 1]! : 0;
}

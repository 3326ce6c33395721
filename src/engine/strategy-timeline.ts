// The strategy timeline's market data: each venue's messages reach the strategy at effect time + feed latency,
// in recorded order (the feed connection never reorders: a message is delivered at max(its time, the previous
// message's delivery)), and change the strategy's own copy of the book before its callbacks run. One latency
// draw per exchange message (rows up to Flag.MessageEnd): all its rows are delivered at once, and nothing
// (a response, a timer, another venue's data) runs between them (docs/replay.md, "Per-message delivery").
//
// The recorded delay is measured from the row's effect time, not its own exchange time: a row that took
// effect after its exch_ts (recorded behind a later row of another channel) already waited until effNs, so
// `recorded` delivers it at max(effNs, local - clock offset), when the recorder got it.
//
// The strategy's book is its depth book under the same real-time touch as the exchange side's
// (book/touch-overlay.ts, docs/matching.md "Real-time touch"): a BBO message or a print that reaches the
// strategy constrains the touch it sees until the next depth message reaches it. A print is heard through
// onTrade, after it constrained the touch. A BBO message calls onQuote, only if the strategy defines it (its
// subscription to the BBO stream); ctx.book shows it from its delivery on, in every later callback. It does
// not call onBook: that made the market maker send 50% more orders and the replay 1.7x slower
// (docs/replay.md, "The strategy's view").
//
// Hot path (run): no allocation per row; see exchange-timeline.ts for why bounds travel in typed arrays.
import { Applied, BookState, StreamBook } from '../book/stream-book.js';
import { TouchOverlay } from '../book/touch-overlay.js';
import { EventKind, Flag } from '../data/types.js';
import type { LatencyModel } from '../simulation/types.js';
import type { BookView, Context, Strategy, TradeView } from '../strategy/api.js';
import { EventClass, type EventQueue } from './event-queue.js';
import type { MarketChunk, MarketData } from './market-data.js';
import type { QueueItem } from './replay-types.js';

const K_TRADE = EventKind.Trade;
const K_BBO = EventKind.BestBidOffer;
const F_MESSAGE_END = Flag.MessageEnd;
const F_OFF_BOOK = Flag.OffBook;
const A_NOTHING = Applied.Nothing;
const A_CLEARED = Applied.Cleared;
const VALID = BookState.Valid;
const ORDER_ARRIVAL = EventClass.OrderArrival;

/** The strategy's view of one venue's book: its StreamBook on the strategy timeline, seen through the touch. */
export class StrategyBook implements BookView {
  constructor(
    private readonly stream: StreamBook,
    private readonly touch: TouchOverlay,
  ) {}
  get valid(): boolean {
    return this.stream.state === VALID;
  }
  bestBid(): number {
    return this.touch.bids.bestPrice();
  }
  bestAsk(): number {
    return this.touch.asks.bestPrice();
  }
  bidSize(level = 0): number {
    const bids = this.touch.bids;
    return level < bids.count ? bids.sizeAt(level) : 0;
  }
  askSize(level = 0): number {
    const asks = this.touch.asks;
    return level < asks.count ? asks.sizeAt(level) : 0;
  }
  bidPrice(level: number): number {
    const bids = this.touch.bids;
    return level < bids.count ? bids.priceAt(level) : NaN;
  }
  askPrice(level: number): number {
    const asks = this.touch.asks;
    return level < asks.count ? asks.priceAt(level) : NaN;
  }
  bidLevels(): number {
    return this.touch.bids.count;
  }
  askLevels(): number {
    return this.touch.asks.count;
  }
  mid(): number {
    return (this.touch.bids.bestPrice() + this.touch.asks.bestPrice()) / 2;
  }
  quoteBid(): number {
    return this.touch.bids.quotePrice();
  }
  quoteAsk(): number {
    return this.touch.asks.quotePrice();
  }
}

export class StrategyTimeline {
  readonly books: StreamBook[];
  /** The real-time touch over each venue's book, from the BBO rows and prints the strategy has received. */
  readonly touches: TouchOverlay[];
  readonly views: StrategyBook[];
  /** When each venue's next row reaches the strategy (Infinity when its rows are done). */
  readonly next: Float64Array;
  /** Set before run(): [0] the other venues' next delivery time. */
  readonly bounds = new Float64Array(1);
  private readonly rows: MarketChunk[][];
  private readonly chunkAt: Int32Array;
  private readonly rowAt: Int32Array;
  private readonly lastDelivery: Float64Array;
  /** A constant feed latency per venue, added without a call per row (NaN: ask the model). */
  private readonly constantFeed: Float64Array;
  private readonly tradeView: TradeView = { venue: 0, price: 0, size: 0, side: 1, exchangeTimeNs: 0 };
  private strategy: Strategy = {};
  private ctx: Context | undefined;

  /**
   * `clock`: the strategy's time, [0] (set to each row's delivery time); `exchangeNext`: the exchange
   * timeline's next time per venue (data reaches the strategy only after the exchange moved at that time).
   */
  constructor(
    data: MarketData,
    private readonly feed: LatencyModel[],
    private readonly clock: Float64Array,
    private readonly queue: EventQueue<QueueItem>,
    private readonly exchangeNext: Float64Array,
  ) {
    const V = data.venues.length;
    this.rows = data.byVenue;
    this.books = data.venues.map(() => new StreamBook());
    this.touches = this.books.map((b) => new TouchOverlay(b.book));
    this.views = this.books.map((b, v) => new StrategyBook(b, this.touches[v]!));
    this.chunkAt = new Int32Array(V);
    this.rowAt = new Int32Array(V);
    this.lastDelivery = new Float64Array(V).fill(-Infinity);
    this.constantFeed = Float64Array.from(feed, (m) => m.constantNs ?? NaN);
    this.next = new Float64Array(V);
    for (let v = 0; v < V; v++) this.schedule(v, this.rows[v]![0], 0);
  }

  /** The strategy and the context its callbacks receive. */
  deliverTo(strategy: Strategy, ctx: Context): void {
    this.strategy = strategy;
    this.ctx = ctx;
  }

  /** Row r of chunk c starts venue v's next message: sets next[v] (no return value: it would be boxed). */
  private schedule(v: number, c: MarketChunk | undefined, r: number): void {
    if (!c) {
      this.next[v] = Infinity;
      return;
    }
    // Published at max(effect, publish time): the feed latency counts from when the exchange sent the row.
    const pub = Math.max(c.effNs[r]!, c.pubNs[r]!);
    const k = this.constantFeed[v]!;
    const t = Math.max(this.lastDelivery[v]!, pub + (k === k ? k : this.feed[v]!.sample(pub, c.localNs[r]! - pub)));
    this.lastDelivery[v] = t;
    this.next[v] = t;
  }

  /**
   * Delivers venue v's rows while they come first by the tie rule: after the exchange moved at their time
   * and after order arrivals, but before responses and timers of the same time, and before the other venues'
   * rows (`otherV`, the earliest of them, goes first at an equal time if its index is lower).
   */
  run(v: number, otherV: number): void {
    const otherT = this.bounds[0]!;
    const queue = this.queue;
    const queueHead = queue.head;
    const next = this.next;
    const clock = this.clock;
    const rows = this.rows[v]!;
    const sb = this.books[v]!;
    const touch = this.touches[v]!;
    const strategy = this.strategy;
    const ctx = this.ctx!;
    const onBook = strategy.onBook;
    const onQuote = strategy.onQuote;
    // No exchange row is applied while this runs, so the exchange side's next time is fixed.
    let exchangeT = Infinity;
    for (let u = 0; u < this.exchangeNext.length; u++) if (this.exchangeNext[u]! < exchangeT) exchangeT = this.exchangeNext[u]!;
    // The cursor (row `r` of chunk `chunk` is the next to deliver) lives in locals while this runs: nothing the
    // strategy's callbacks do can deliver market data.
    let chunk = this.chunkAt[v]!;
    let nextRow = this.rowAt[v]!;
    // run() starts and stops only at message starts: inside a message, its rows go on at the same time.
    let inMessage = false;
    for (;;) {
      const t = next[v]!;
      if (!inMessage) {
        const qT = queueHead[0]!;
        if (t === Infinity || t >= exchangeT || t > qT || (t === qT && queue.peekClass() === ORDER_ARRIVAL)) break;
        if (t > otherT || (t === otherT && otherV < v)) break;
        clock[0] = t;
      }
      const c = rows[chunk]!;
      const r = nextRow;
      // The message goes on at t unless this row ends it (MessageEnd, a change of channel or the data's last row:
      // market-data.ts cuts messages the same way).
      inMessage = (c.flags[r]! & F_MESSAGE_END) === 0;
      if (r + 1 < c.length) {
        if (inMessage && (c.kind[r + 1] === K_TRADE) !== (c.kind[r] === K_TRADE)) inMessage = false;
        nextRow = r + 1;
        if (!inMessage) this.schedule(v, c, nextRow);
      } else {
        chunk++;
        nextRow = 0;
        inMessage = false;
        this.schedule(v, rows[chunk], 0);
      }
      const kind = c.kind[r]!;
      if (kind === K_TRADE) {
        // The print consumed the passive side up to its price: the strategy's touch says so before it hears of it.
        if (!(c.flags[r]! & F_OFF_BOOK)) touch.print(c.side[r]!, c.price[r]!);
        if (strategy.onTrade) {
          const tv = this.tradeView;
          tv.venue = v;
          tv.price = c.price[r]!;
          tv.size = c.size[r]!;
          tv.side = c.side[r]! > 0 ? 1 : -1;
          tv.exchangeTimeNs = c.exchNs[r]!;
          strategy.onTrade(ctx, tv);
        }
      } else if (kind === K_BBO) {
        // Not onBook (see the top): onQuote, for a strategy that subscribes to the BBO stream by defining it,
        // once the message is complete; any other strategy reads the new touch from its next callback on.
        touch.bbo(c.side[r]!, c.price[r]!, c.size[r]!);
        if (onQuote && !inMessage) onQuote.call(strategy, ctx, v);
      } else {
        // A depth message: the depth book is the truth again.
        touch.reset();
        const applied = sb.apply(c, r);
        // A book message is complete at MessageEnd; the strategy hears of it if the book is valid then.
        if (applied !== A_NOTHING && applied !== A_CLEARED && c.flags[r]! & F_MESSAGE_END && sb.state === VALID && onBook) onBook.call(strategy, ctx, v);
      }
    }
    this.chunkAt[v] = chunk;
    this.rowAt[v] = nextRow;
  }
}

// The exchange timeline: each venue's recorded rows change its exchange-side book at their effect time
// (market-data.ts), and the venue's SimulatedVenue matches the strategy's orders against that book and keeps
// the account the exchange knows. Rows of one venue are applied in exchange-time order (market-data.ts
// exchangeOrder); across venues by effect time, the lower venue index first at equal times (docs/replay.md).
// All rows of one message share one effect time, so nothing (an order, a response, a timer, another venue's
// rows) runs between them: every break below compares that one time.
//
// Hot path (run): no allocation per row. Bounds come in a typed array and the queue's head time is read from
// one, because doubles passed to or returned from a call V8 does not inline are boxed; book rows go through
// the StreamBook by column and row index.
import { Applied, StreamBook } from '../book/stream-book.js';
import { TouchOverlay } from '../book/touch-overlay.js';
import { EventKind, Flag } from '../data/types.js';
import { Account } from '../simulation/accounting.js';
import { levelMatters, SimulatedVenue, tradeMatters, type ExchangeUpdate } from '../simulation/matching.js';
import type { MarketChunk, MarketData } from './market-data.js';
import type { VenueSetup } from './replay-types.js';

/** Something that wants to know when exchange time reaches `due[0]` (equity sampling). */
export interface ExchangeTimeObserver {
  readonly due: Float64Array;
  reach(t: number): void;
}

const NEVER: ExchangeTimeObserver = { due: Float64Array.of(Infinity), reach() {} };
const K_TRADE = EventKind.Trade;
const K_BBO = EventKind.BestBidOffer;
const F_OFF_BOOK = Flag.OffBook;
const A_LEVEL = Applied.Level;
const A_SNAPSHOT_END = Applied.SnapshotEnd;

export class ExchangeTimeline {
  readonly books: StreamBook[];
  /** The real-time touch over each venue's book (BBO rows and prints between depth messages): what matching reads. */
  readonly touches: TouchOverlay[];
  readonly sims: SimulatedVenue[];
  /** What the exchange knows of the strategy's account, per venue. */
  readonly accounts: Account[];
  /** Next row's effect time per venue (Infinity when its rows are done). */
  readonly next: Float64Array;
  /** Set before run(): [0] the next time of the other venues, [1] the strategy timeline's next time. */
  readonly bounds = new Float64Array(2);
  /** Rows applied so far. */
  events = 0;
  private readonly rows: MarketChunk[][];
  private readonly chunkAt: Int32Array;
  private readonly rowAt: Int32Array;
  private observer = NEVER;
  private due = NEVER.due;

  /**
   * `queueHead`: the event queue's head time (orders and responses go first at their time, see run());
   * `onUpdate`: what the exchange says about an order (after a fill has been booked to `accounts`).
   */
  constructor(
    data: MarketData,
    venues: VenueSetup[],
    private readonly queueHead: Float64Array,
    onUpdate: (venue: number, u: ExchangeUpdate) => void,
  ) {
    const V = data.venues.length;
    this.rows = data.exchangeOrder;
    this.books = data.venues.map(() => new StreamBook());
    this.touches = this.books.map((b) => new TouchOverlay(b.book));
    this.accounts = venues.map((s) => new Account(s.spec, s.initialBalances));
    this.sims = data.venues.map((_, v) => {
      const setup = venues[v]!;
      const account = this.accounts[v]!;
      return new SimulatedVenue({
        venue: v,
        book: this.touches[v]!,
        queue: setup.queue,
        fees: setup.fees,
        rateLimiter: setup.rateLimiter,
        fillRule: setup.fillRule,
        contractValue: setup.spec.contractValue,
        inverse: setup.spec.kind === 'inverse',
        emit: (u: ExchangeUpdate) => {
          if (u.fill) account.applyFill(u.fill);
          onUpdate(v, u);
        },
      });
    });
    this.chunkAt = new Int32Array(V);
    this.rowAt = new Int32Array(V);
    this.next = new Float64Array(V);
    for (let v = 0; v < V; v++) this.next[v] = this.rows[v]![0] ? this.rows[v]![0]!.effNs[0]! : Infinity;
  }

  observe(observer: ExchangeTimeObserver): void {
    this.observer = observer;
    this.due = observer.due;
  }

  /**
   * Applies venue v's rows in order while they come first by the tie rule: not after the strategy timeline's
   * next time, the queue's head or the other venues' next time (`otherV`, the earliest of them, goes first at
   * an equal time if its index is lower).
   */
  run(v: number, otherV: number): void {
    if (this.next[v] === Infinity) return;
    const otherT = this.bounds[0]!;
    const strategyT = this.bounds[1]!;
    const queueHead = this.queueHead;
    const due = this.due;
    const rows = this.rows[v]!;
    const sim = this.sims[v]!;
    const ranges = sim.ranges;
    const sb = this.books[v]!;
    const touch = this.touches[v]!;
    let chunk = this.chunkAt[v]!;
    let c = rows[chunk]!;
    let r = this.rowAt[v]!;
    let events = this.events;
    for (;;) {
      const t = c.effNs[r]!;
      if (t > strategyT || t > queueHead[0]! || t > otherT || (t === otherT && otherV < v)) break;
      if (t >= due[0]!) this.observer.reach(t);
      const kind = c.kind[r]!;
      if (kind === K_TRADE) {
        if (!(c.flags[r]! & F_OFF_BOOK)) {
          // The print consumed the passive side up to its price (docs/matching.md, "Real-time touch").
          touch.print(c.side[r]!, c.price[r]!);
          if (tradeMatters(ranges, c.price[r]!, c.side[r]!)) sim.onTrade(c.price[r]!, c.size[r]!, c.side[r]!, t);
        }
      } else if (kind === K_BBO) {
        touch.bbo(c.side[r]!, c.price[r]!, c.size[r]!);
      } else {
        // A depth message: the depth book is the truth again.
        touch.reset();
        const applied = sb.apply(c, r);
        if (applied === A_LEVEL) {
          if (levelMatters(ranges, c.side[r]!, c.price[r]!)) sim.onLevel(c.side[r]!, c.price[r]!, sb.lastPrev, c.size[r]!, t);
        } else if (applied === A_SNAPSHOT_END) sim.onSnapshot(t);
      }
      events++;
      if (++r >= c.length) {
        r = 0;
        const nc = rows[++chunk];
        if (!nc) {
          this.next[v] = Infinity;
          break;
        }
        c = nc;
      }
    }
    this.events = events;
    this.chunkAt[v] = chunk;
    this.rowAt[v] = r;
    if (chunk < rows.length) this.next[v] = c.effNs[r]!;
  }

  /** The latest of the venues' last effect times (a venue without rows counts as 0). */
  lastEffNs(): number {
    let last = -Infinity;
    for (const chunks of this.rows) {
      const c = chunks[chunks.length - 1];
      last = Math.max(last, c ? c.effNs[c.length - 1]! : 0);
    }
    return last;
  }
}

// The Context a strategy's callbacks receive in a replay: its clock, its books (the strategy timeline's),
// what it knows of its orders and account (from the responses that have reached it), and the requests it
// sends (through each venue's channel). Also where the exchange's responses reach the strategy.
import { Account, settlementAsset } from '../simulation/accounting.js';
import { feeCharge } from '../simulation/fees.js';
import { instrumentOf } from '../simulation/order-rules.js';
import type { ExchangeUpdate } from '../simulation/matching.js';
import type { Balances, BookView, Context, Instrument, OrderRequest, OrderUpdate, Position, Random, Strategy, VenueRef } from '../strategy/api.js';
import { EventClass, type EventQueue } from './event-queue.js';
import type { Markouts } from './observers.js';
import type { FillRecord, OrderRecord, QueueItem, VenueSetup } from './replay-types.js';
import type { VenueChannel } from './venue-channel.js';

const TERMINAL = new Set(['filled', 'cancelled', 'rejected']);

interface StrategyOrder {
  update: OrderUpdate;
  record: OrderRecord;
}

// Context members are arrow functions, so a strategy may pass them around unbound.
export class StrategyContext implements Context {
  readonly fills: FillRecord[] = [];
  readonly orderLog: OrderRecord[] = [];
  readonly logLines: string[] = [];
  /** The account as the strategy knows it: fills applied when their responses reach it. */
  private readonly known: Account[];
  private readonly instruments: Instrument[];
  private readonly orders = new Map<number, StrategyOrder>();
  private readonly open = new Map<number, OrderUpdate>();
  private nextOrderId = 1;
  private nextTimer = 1;

  /** `clock`: the strategy's time in [0] (a typed array: the timelines write it for every row). */
  constructor(
    readonly venues: readonly VenueRef[],
    setups: VenueSetup[],
    private readonly books: BookView[],
    private readonly channels: VenueChannel[],
    private readonly queue: EventQueue<QueueItem>,
    private readonly clock: Float64Array,
    readonly random: Random,
    private readonly strategy: Strategy,
    private readonly markouts: Markouts,
  ) {
    this.known = setups.map((s) => new Account(s.spec, s.initialBalances));
    this.instruments = setups.map((s) => instrumentOf(s.spec));
  }

  now = (): number => this.clock[0]!;

  venue = (exchange: string, symbol: string): number => {
    const i = this.venues.findIndex((x) => x.exchange === exchange && x.symbol.toUpperCase() === symbol.toUpperCase());
    if (i < 0) throw new Error(`no venue ${exchange} ${symbol} in this run (venues: ${this.venues.map((x) => `${x.exchange} ${x.symbol}`).join(', ')})`);
    return i;
  };

  book = (v: number): BookView => this.books[v]!;
  instrument = (v: number): Instrument => {
    const i = this.instruments[v];
    if (!i) throw new Error(`instrument: venue ${v} is not one of this run's ${this.venues.length}`);
    return i;
  };
  position = (v: number): Position => this.known[v]!.positionView(this.books[v]!.mid());
  balances = (v: number): Balances => this.known[v]!.balances();
  openOrders = (v?: number): OrderUpdate[] => [...this.open.values()].filter((o) => v === undefined || o.venue === v);

  submit = (req: OrderRequest): number => {
    const V = this.venues.length;
    if (!(req.venue >= 0 && req.venue < V)) throw new Error(`submit: venue ${req.venue} is not one of this run's ${V}`);
    if (!(req.size > 0) || !Number.isFinite(req.size)) throw new Error(`submit: size must be > 0, got ${req.size}`);
    if (req.type === 'limit' && !(req.price! > 0)) throw new Error(`submit: a limit order needs a price > 0, got ${req.price}`);
    const orderId = this.nextOrderId++;
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
      lastFillFeeAsset: '',
      lastFillFeeAmount: 0,
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
      sentNs: this.clock[0]!,
      arrivedNs: NaN,
      finalStatus: 'pending',
      reason: undefined,
      filledSize: 0,
    };
    this.orders.set(orderId, { update, record });
    this.orderLog.push(record);
    this.open.set(orderId, update);
    this.channels[req.venue]!.send('new', { kind: 'new', venue: req.venue, orderId, request: { ...req, tif }, record }, this.clock[0]!);
    return orderId;
  };

  cancel = (orderId: number): void => {
    const o = this.orders.get(orderId);
    if (!o) throw new Error(`cancel: no order ${orderId}`);
    const v = o.update.venue;
    this.channels[v]!.send('cancel', { kind: 'cancel', venue: v, orderId }, this.clock[0]!);
  };

  modify = (orderId: number, price: number, size: number): void => {
    const o = this.orders.get(orderId);
    if (!o) throw new Error(`modify: no order ${orderId}`);
    const v = o.update.venue;
    this.channels[v]!.send('modify', { kind: 'modify', venue: v, orderId, price, size }, this.clock[0]!);
  };

  setTimer = (atNs: number, id?: string): string => {
    const name = id ?? `timer-${this.nextTimer++}`;
    this.queue.push(Math.max(atNs, this.clock[0]!), EventClass.Timer, { timer: name });
    return name;
  };

  log = (message: string): void => {
    this.logLines.push(`${(this.clock[0]! / 1e6).toFixed(3)}ms ${message}`);
  };

  /** The exchange's response `u` reaches the strategy (now): update what it knows, then tell it. */
  deliver(u: ExchangeUpdate): void {
    const o = this.orders.get(u.orderId);
    if (!o) return;
    const s = o.update;
    s.exchangeTimeNs = u.exchangeTimeNs;
    s.reason = u.reason;
    s.lastFillSize = 0;
    s.lastFillPrice = NaN;
    s.lastFillFee = 0;
    s.lastFillFeeAsset = '';
    s.lastFillFeeAmount = 0;
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
        const spec = this.known[u.venue]!.spec;
        const charge = feeCharge(spec.feeAsset, { base: spec.base, settlement: settlementAsset(spec) }, f.side, f.price, f.fee);
        s.lastFillFeeAsset = charge.asset;
        s.lastFillFeeAmount = charge.amount;
        s.lastFillMaker = f.maker;
        this.known[u.venue]!.applyFill(f);
        this.fills.push({
          orderId: u.orderId,
          venue: u.venue,
          side: f.side,
          price: f.price,
          size: f.size,
          maker: f.maker,
          fee: f.fee,
          exchangeTimeNs: f.exchangeTimeNs,
          seenNs: this.clock[0]!,
          midAtFill: this.markouts.seenFill(f),
          midAfter: NaN, // known at the markout time; filled in after the run
        });
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
    if (TERMINAL.has(s.status)) this.open.delete(u.orderId);
    this.strategy.onOrderUpdate?.(this, s);
  }
}

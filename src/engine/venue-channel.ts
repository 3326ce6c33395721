// One venue's connection between the strategy and the exchange: order messages (new, cancel, modify) one
// way, the exchange's responses (acks, fills, cancels, rejections) the other. Messages on a connection never
// overtake each other (TCP): each direction's delivery times are kept non-decreasing, whatever the latency
// model draws (docs/replay.md, "Per-connection ordering"). The feed leg of the same connection is kept in
// order by the strategy timeline, whose hot path it is.
// The exchange's order rules (tick, lot, minimums: simulation/order-rules.ts) are checked as a new order or a
// modify arrives, before it reaches the matching engine (and its rate limiter): a refused one is answered
// with the exchange's reason, through the same response path as the engine's own rejections.
import type { ExchangeUpdate, SimulatedVenue } from '../simulation/matching.js';
import { NO_ORDER_RULES, type OrderRules } from '../simulation/order-rules.js';
import type { OrderOp, VenueLatency } from '../simulation/types.js';
import { EventClass, type EventQueue } from './event-queue.js';
import type { OrderMessage, QueueItem } from './replay-types.js';

export class VenueChannel {
  private lastArrival = -Infinity;
  private lastResponse = -Infinity;

  constructor(
    private readonly latency: VenueLatency,
    private readonly sim: SimulatedVenue,
    private readonly queue: EventQueue<QueueItem>,
    private readonly rules: OrderRules = NO_ORDER_RULES,
  ) {}

  /** The strategy sends `message` at `nowNs`: it reaches the exchange after the op's latency, never before an earlier message. */
  send(op: OrderOp, message: OrderMessage, nowNs: number): void {
    const at = Math.max(this.lastArrival, nowNs + this.latency.order[op].sample(nowNs, NaN));
    this.lastArrival = at;
    this.queue.push(at, EventClass.OrderArrival, message);
  }

  /** `m` reaches the exchange at `atNs` (every market row of time <= atNs is already applied). */
  arrive(m: OrderMessage, atNs: number): void {
    if (m.kind === 'new') {
      const r = m.request!;
      m.record!.arrivedNs = atNs;
      const price = r.type === 'market' ? NaN : r.price!;
      const refused = this.rules.check(r.side, r.type, price, r.size);
      if (refused !== undefined) return this.refuse({ status: 'rejected', orderId: m.orderId, side: r.side, type: r.type, tif: r.tif, price, size: r.size }, refused, atNs);
      this.sim.arrive({ orderId: m.orderId, venue: m.venue, side: r.side, type: r.type, price: r.type === 'market' ? NaN : r.price!, size: r.size, tif: r.tif! }, atNs);
    } else if (m.kind === 'cancel') this.sim.cancel(m.orderId, atNs);
    else {
      // A modify's new size is the order's total; its side does not matter to the rules.
      const refused = this.rules.check(1, 'limit', m.price!, m.size!);
      if (refused !== undefined) return this.refuse({ status: 'modify_rejected', orderId: m.orderId, side: 0, type: undefined, tif: undefined, price: m.price!, size: m.size! }, refused, atNs);
      this.sim.modify(m.orderId, m.price!, m.size!, atNs);
    }
  }

  /** The exchange refuses a request by its order rules: answered like the engine's own rejections. */
  private refuse(what: Pick<ExchangeUpdate, 'status' | 'orderId' | 'side' | 'type' | 'tif' | 'price' | 'size'>, reason: string, atNs: number): void {
    this.respond({
      ...what,
      venue: this.sim.venue,
      filledSize: 0,
      remaining: 0,
      fill: undefined,
      reason,
      exchangeTimeNs: atNs,
    });
  }

  /** The exchange responds: the update reaches the strategy after the response latency, never before an earlier one. */
  respond(u: ExchangeUpdate): void {
    const at = Math.max(this.lastResponse, u.exchangeTimeNs + this.latency.response.sample(u.exchangeTimeNs, NaN));
    this.lastResponse = at;
    this.queue.push(at, EventClass.Response, { update: u });
  }
}

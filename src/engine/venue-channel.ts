// One venue's connection between the strategy and the exchange: order messages (new, cancel, modify) one
// way, the exchange's responses (acks, fills, cancels, rejections) the other. Messages on a connection never
// overtake each other (TCP): each direction's delivery times are kept non-decreasing, whatever the latency
// model draws (docs/replay.md, "Per-connection ordering"). The feed leg of the same connection is kept in
// order by the strategy timeline, whose hot path it is.
import type { ExchangeUpdate, SimulatedVenue } from '../simulation/matching.js';
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
      this.sim.arrive({ orderId: m.orderId, venue: m.venue, side: r.side, type: r.type, price: r.type === 'market' ? NaN : r.price!, size: r.size, tif: r.tif! }, atNs);
    } else if (m.kind === 'cancel') this.sim.cancel(m.orderId, atNs);
    else this.sim.modify(m.orderId, m.price!, m.size!, atNs);
  }

  /** The exchange responds: the update reaches the strategy after the response latency, never before an earlier one. */
  respond(u: ExchangeUpdate): void {
    const at = Math.max(this.lastResponse, u.exchangeTimeNs + this.latency.response.sample(u.exchangeTimeNs, NaN));
    this.lastResponse = at;
    this.queue.push(at, EventClass.Response, { update: u });
  }
}

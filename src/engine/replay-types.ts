// Types the replay's parts share (replay.ts re-exports the public ones), kept apart so that the parts and
// replay.ts do not import each other.
import type { ContractSpec } from '../simulation/accounting.js';
import type { ExchangeUpdate, FillRule } from '../simulation/matching.js';
import type { FeeModel, OrderOp, QueueModel, RateLimiter, VenueLatency } from '../simulation/types.js';
import type { Balances, OrderRequest } from '../strategy/api.js';

export interface VenueSetup {
  latency: VenueLatency;
  queue: QueueModel;
  fees: FeeModel;
  rateLimiter: RateLimiter;
  initialBalances: Balances;
  /** The venue's contract: notional, settlement currency, inverse or linear. */
  spec: ContractSpec;
  /** How one print fills several resting orders (default 'conservative'; docs/matching.md). */
  fillRule?: FillRule;
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

/** A request on its way from the strategy to the exchange. */
export interface OrderMessage {
  kind: OrderOp;
  venue: number;
  orderId: number;
  /** New orders: the request (tif filled in) and its log record, stamped with the arrival time. */
  request?: OrderRequest;
  record?: OrderRecord;
  /** Modify: the new price and size. */
  price?: number;
  size?: number;
}

/** A fill's mid at the exchange when it happened and `markoutNs` later. */
export interface Markout {
  venue: number;
  midAtFill: number;
  midAfter: number;
}

/** What the event queue holds: order messages, responses, timers and the engine's markouts. */
export type QueueItem = OrderMessage | { update: ExchangeUpdate } | { timer: string } | { markout: Markout };

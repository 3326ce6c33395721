// Coinbase Advanced Trade market-data frames, checked field by field. A parse returns a complete message
// or throws an Error naming the field, so nothing half-valid ever reaches a book.
import { parseTimeNs } from '../../data/time.js';
import { isObject, type Json, shown } from '../kit/json.js';
import { nsInRange, priceText, sizeText } from '../kit/numbers.js';
export { isObject, type Json } from '../kit/json.js';

export interface CoinbaseLevel {
  side: 1 | -1;
  price: number;
  size: number;
  exchTs: bigint;
}

export interface CoinbaseBookEvent {
  type: 'snapshot' | 'update';
  productId: string;
  updates: CoinbaseLevel[];
}

export interface CoinbaseTrade {
  productId: string;
  exchTs: bigint;
  /** Aggressor: +1 buy, -1 sell (the opposite of Coinbase's `side`, which is the maker's). */
  side: 1 | -1;
  price: number;
  size: number;
  id: string;
}

/** The times Coinbase writes: UTC, with up to 9 decimals of a second. */
const ISO_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?Z$/;

/** ISO times repeat within a message (every level of a snapshot shares one): parse each text once. */
class TimeParser {
  private lastText: string | null = null;
  private lastNs = 0n;
  parse(v: unknown, where: string): bigint {
    if (v === this.lastText) return this.lastNs;
    if (typeof v !== 'string' || !ISO_UTC.test(v)) throw new Error(`field "${where}" must be an ISO time string (2026-08-09T21:04:35.345704Z), got ${shown(v)}`);
    let ns: bigint;
    try {
      ns = parseTimeNs(v);
    } catch {
      throw new Error(`field "${where}" is not an ISO time: ${shown(v)}`);
    }
    nsInRange(ns, where, v);
    this.lastText = v;
    this.lastNs = ns;
    return ns;
  }
}

function events(msg: Json): Json[] {
  if (!Array.isArray(msg.events)) throw new Error(`field "events" must be an array, got ${shown(msg.events)}`);
  return msg.events.map((e, i) => {
    if (!isObject(e)) throw new Error(`field "events[${i}]" must be an object`);
    return e;
  });
}

function eventType(e: Json, where: string): 'snapshot' | 'update' {
  if (e.type !== 'snapshot' && e.type !== 'update') throw new Error(`field "${where}type" must be "snapshot" or "update", got ${shown(e.type)}`);
  return e.type;
}

function productId(v: unknown, where: string): string {
  if (typeof v !== 'string' || v === '') throw new Error(`field "${where}" must be a product id string, got ${shown(v)}`);
  return v;
}

/** The message's `timestamp` (when Coinbase sent it), or null if it has none. */
export function messageTime(msg: Json): bigint | null {
  if (typeof msg.timestamp !== 'string') return null;
  try {
    return nsInRange(parseTimeNs(msg.timestamp), 'timestamp', msg.timestamp);
  } catch {
    return null;
  }
}

export function parseL2Events(msg: Json): CoinbaseBookEvent[] {
  const times = new TimeParser();
  return events(msg).map((e, i) => {
    const at = `events[${i}].`;
    if (!Array.isArray(e.updates)) throw new Error(`field "${at}updates" must be an array, got ${shown(e.updates)}`);
    const updates = e.updates.map((u: unknown, k: number): CoinbaseLevel => {
      const uat = `${at}updates[${k}].`;
      if (!isObject(u)) throw new Error(`field "${at}updates[${k}]" must be an object`);
      const side = u.side === 'bid' ? 1 : u.side === 'offer' || u.side === 'ask' ? -1 : 0;
      if (side === 0) throw new Error(`field "${uat}side" must be "bid" or "offer", got ${shown(u.side)}`);
      return {
        side,
        price: priceText(u.price_level, `${uat}price_level`),
        size: sizeText(u.new_quantity, `${uat}new_quantity`),
        exchTs: times.parse(u.event_time, `${uat}event_time`),
      };
    });
    return { type: eventType(e, at), productId: productId(e.product_id, `${at}product_id`), updates };
  });
}

/** Trades of `update` events; `snapshot` events replay trades from before the subscription and are left out. */
export function parseLiveTrades(msg: Json): CoinbaseTrade[] {
  const times = new TimeParser();
  const out: CoinbaseTrade[] = [];
  events(msg).forEach((e, i) => {
    const at = `events[${i}].`;
    if (eventType(e, at) === 'snapshot') return;
    if (!Array.isArray(e.trades)) throw new Error(`field "${at}trades" must be an array, got ${shown(e.trades)}`);
    e.trades.forEach((t: unknown, k: number) => {
      const tat = `${at}trades[${k}].`;
      if (!isObject(t)) throw new Error(`field "${at}trades[${k}]" must be an object`);
      // Coinbase reports the MAKER's side: a SELL print is a resting sell order lifted by a buyer.
      const side = t.side === 'SELL' ? 1 : t.side === 'BUY' ? -1 : 0;
      if (side === 0) throw new Error(`field "${tat}side" must be "BUY" or "SELL", got ${shown(t.side)}`);
      if (typeof t.trade_id !== 'string' || t.trade_id === '') throw new Error(`field "${tat}trade_id" must be a string, got ${shown(t.trade_id)}`);
      out.push({
        productId: productId(t.product_id, `${tat}product_id`),
        exchTs: times.parse(t.time, `${tat}time`),
        side,
        price: priceText(t.price, `${tat}price`),
        size: sizeText(t.size, `${tat}size`),
        id: t.trade_id,
      });
    });
  });
  return out;
}

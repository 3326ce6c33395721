// Bybit v5 public frames, checked field by field. A parse returns a complete message or throws an Error
// naming the field, so nothing half-valid ever reaches a book.
import { isObject, type Json, shown } from '../kit/json.js';
import { millisNumber, priceText, sizeText, wholeNumber } from '../kit/numbers.js';
export { isObject, type Json } from '../kit/json.js';

export interface BybitLevel {
  price: number;
  size: number;
}

export interface BybitBookMessage {
  symbol: string;
  /** "1" (best bid/offer only), "50", "200", "1000". */
  depth: string;
  type: 'snapshot' | 'delta';
  /** Matching-engine time `cts` when present, else the push time `ts` (ms). */
  exchMs: number;
  /** The system (publish) time `ts` (ms); `cts` if the frame has no `ts`. */
  pubMs: number;
  u: number;
  bids: BybitLevel[];
  asks: BybitLevel[];
}

export interface BybitTrade {
  /** `T`: the trade's match time (ms). */
  exchMs: number;
  /** The frame's `ts`: when Bybit published it (ms); `T` if the frame has no `ts`. */
  pubMs: number;
  /** Aggressor: +1 buy, -1 sell (`S` is the taker side). */
  side: 1 | -1;
  price: number;
  size: number;
  /** `i`: numeric on spot, a UUID on linear. */
  id: string;
  blockTrade: boolean;
}

function integerField(obj: Json, key: string, where: string): number {
  return wholeNumber(obj[key], `${where}${key}`);
}

/** A time in ms since 1970 (checked to fit the dataset's ns and lie before 2100). */
function millisField(obj: Json, key: string, where: string): number {
  millisNumber(obj[key], `${where}${key}`);
  return obj[key] as number;
}

function levels(v: unknown, where: string): BybitLevel[] {
  if (!Array.isArray(v)) throw new Error(`field "${where}" must be an array of [price, size], got ${shown(v)}`);
  return v.map((lv, i) => {
    if (!Array.isArray(lv) || lv.length < 2) throw new Error(`field "${where}[${i}]" must be [price, size], got ${shown(lv)}`);
    return { price: priceText(lv[0], `${where}[${i}][0]`), size: sizeText(lv[1], `${where}[${i}][1]`) };
  });
}

/** "orderbook.200.BTCUSDT" → { channel: "orderbook", args: ["200"], symbol: "BTCUSDT" }. */
export function splitTopic(topic: string): { channel: string; args: string[]; symbol: string } {
  const parts = topic.split('.');
  return { channel: parts[0]!, args: parts.slice(1, -1), symbol: parts.length > 1 ? parts[parts.length - 1]! : '' };
}

export function parseBookMessage(msg: Json, topic: string): BybitBookMessage {
  const { args, symbol } = splitTopic(topic);
  if (args.length !== 1 || symbol === '') throw new Error(`topic ${shown(topic)} is not orderbook.{depth}.{symbol}`);
  const type = msg.type;
  if (type !== 'snapshot' && type !== 'delta') throw new Error(`field "type" must be "snapshot" or "delta", got ${shown(type)}`);
  const data = msg.data;
  if (!isObject(data)) throw new Error(`field "data" must be an object, got ${shown(data)}`);
  const exchMs = msg.cts !== undefined ? millisField(msg, 'cts', '') : millisField(msg, 'ts', '');
  const pubMs = msg.ts !== undefined ? millisField(msg, 'ts', '') : exchMs;
  return {
    symbol,
    depth: args[0]!,
    type,
    exchMs,
    pubMs,
    u: integerField(data, 'u', 'data.'),
    bids: levels(data.b, 'data.b'),
    asks: levels(data.a, 'data.a'),
  };
}

export function parseTrades(msg: Json): BybitTrade[] {
  const data = msg.data;
  if (!Array.isArray(data)) throw new Error(`field "data" must be an array of trades, got ${shown(data)}`);
  const framePubMs = msg.ts !== undefined ? millisField(msg, 'ts', '') : undefined;
  return data.map((t, i) => {
    const at = `data[${i}].`;
    if (!isObject(t)) throw new Error(`field "data[${i}]" must be an object`);
    const side = t.S === 'Buy' ? 1 : t.S === 'Sell' ? -1 : 0;
    if (side === 0) throw new Error(`field "${at}S" must be "Buy" or "Sell", got ${shown(t.S)}`);
    if (typeof t.i !== 'string' || t.i === '') throw new Error(`field "${at}i" must be a trade id string, got ${shown(t.i)}`);
    if (t.BT !== undefined && typeof t.BT !== 'boolean') throw new Error(`field "${at}BT" must be a boolean, got ${shown(t.BT)}`);
    const exchMs = millisField(t, 'T', at);
    return {
      exchMs,
      pubMs: framePubMs ?? exchMs,
      side,
      price: priceText(t.p, `${at}p`),
      size: sizeText(t.v, `${at}v`),
      id: t.i,
      blockTrade: t.BT === true,
    };
  });
}

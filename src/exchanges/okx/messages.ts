// OKX v5 public frames, checked field by field. A parse returns a complete message or throws an Error
// naming the field, so nothing half-valid ever reaches a book.
import { isObject, type Json, shown } from '../kit/json.js';
import { millisString, priceText, sizeText, wholeNumber } from '../kit/numbers.js';
export { isObject, type Json } from '../kit/json.js';

export interface OkxLevel {
  /** The strings as OKX sent them (the checksum needs them), and their values. */
  priceText: string;
  sizeText: string;
  price: number;
  size: number;
}

export interface OkxBookEntry {
  instId: string;
  exchMs: string;
  bids: OkxLevel[];
  asks: OkxLevel[];
  /** null when absent; 0 means OKX no longer sends one (from June 2026). */
  checksum: number | null;
  /** Absent in older captures (the 2022 sample). */
  seqId: number | null;
  prevSeqId: number | null;
}

export interface OkxTrade {
  instId: string;
  exchMs: string;
  /** Aggressor: +1 buy, -1 sell. */
  side: 1 | -1;
  price: number;
  size: number;
  id: string;
}

function millisText(v: unknown, where: string): string {
  millisString(v, where);
  return v as string;
}

/** seqId/prevSeqId: whole numbers; -1 is OKX's "none" (a snapshot's prevSeqId). */
function optionalInteger(obj: Json, key: string, where: string): number | null {
  const v = obj[key];
  if (v === undefined) return null;
  return wholeNumber(v, `${where}${key}`, -1);
}

function levels(v: unknown, where: string): OkxLevel[] {
  if (!Array.isArray(v)) throw new Error(`field "${where}" must be an array of levels, got ${shown(v)}`);
  return v.map((lv, i) => {
    if (!Array.isArray(lv) || lv.length < 2) throw new Error(`field "${where}[${i}]" must be [price, size, ...], got ${shown(lv)}`);
    const price = priceText(lv[0], `${where}[${i}][0]`);
    const size = sizeText(lv[1], `${where}[${i}][1]`);
    return { priceText: lv[0] as string, sizeText: lv[1] as string, price, size };
  });
}

function dataArray(msg: Json): unknown[] {
  if (!Array.isArray(msg.data)) throw new Error(`field "data" must be an array, got ${shown(msg.data)}`);
  return msg.data;
}

export function parseBookEntries(msg: Json, instId: string): OkxBookEntry[] {
  return dataArray(msg).map((d, i) => {
    const at = `data[${i}].`;
    if (!isObject(d)) throw new Error(`field "data[${i}]" must be an object`);
    const checksum = d.checksum === undefined ? null : wholeNumber(d.checksum, `${at}checksum`, -2147483648); // a signed CRC32
    return {
      instId,
      exchMs: millisText(d.ts, `${at}ts`),
      bids: levels(d.bids, `${at}bids`),
      asks: levels(d.asks, `${at}asks`),
      checksum,
      seqId: optionalInteger(d, 'seqId', at),
      prevSeqId: optionalInteger(d, 'prevSeqId', at),
    };
  });
}

export function parseTrades(msg: Json, argInstId: string): OkxTrade[] {
  return dataArray(msg).map((t, i) => {
    const at = `data[${i}].`;
    if (!isObject(t)) throw new Error(`field "data[${i}]" must be an object`);
    const side = t.side === 'buy' ? 1 : t.side === 'sell' ? -1 : 0;
    if (side === 0) throw new Error(`field "${at}side" must be "buy" or "sell", got ${shown(t.side)}`);
    if (typeof t.tradeId !== 'string' || t.tradeId === '') throw new Error(`field "${at}tradeId" must be a string, got ${shown(t.tradeId)}`);
    if (t.instId !== undefined && typeof t.instId !== 'string') throw new Error(`field "${at}instId" must be a string`);
    return {
      instId: (t.instId as string | undefined) ?? argInstId,
      exchMs: millisText(t.ts, `${at}ts`),
      side,
      price: priceText(t.px, `${at}px`),
      size: sizeText(t.sz, `${at}sz`),
      id: t.tradeId,
    };
  });
}

// The simulator's Bybit v5 market metadata: GET /v5/market/instruments-info and /v5/market/time, in Bybit's
// shapes, generated from the dataset's symbols and their contract specs (contracts.ts). A value the spec does
// not hold (maximum order size, minimum order amount, leverage, funding interval, launch time, ...) is left out
// rather than made up; docs/exchange-sim.md lists what is sent.
import { decimalText } from '../kit/sim-frames.js';
import { bybitContractSpec } from './contracts.js';
import type { BybitMarket } from './normalizer.js';

/** The categories Bybit's instruments-info takes; the simulator lists the dataset's instruments in its own. */
const CATEGORIES = ['spot', 'linear', 'inverse', 'option'];

export type BybitMetadataAnswer = { kind: 'time' } | { kind: 'instruments'; body: Record<string, unknown> };

function decimalsOf(x: number): number {
  const t = decimalText(x);
  const dot = t.indexOf('.');
  return dot < 0 ? 0 : t.length - dot - 1;
}

/** Delivery time of a dated USDC contract (BTC-27SEP24): 08:00 UTC that day, as Bybit settles; else "0". */
function deliveryTime(symbol: string): string {
  const m = /-(\d{1,2})([A-Z]{3})(\d{2})$/.exec(symbol);
  if (!m) return '0';
  const month = ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'].indexOf(m[2]!);
  return month < 0 ? '0' : String(Date.UTC(2000 + Number(m[3]), month, Number(m[1]), 8));
}

function instrument(market: BybitMarket, symbol: string): Record<string, unknown> {
  const spec = bybitContractSpec(market, symbol);
  const tick = spec.tickSize !== undefined ? decimalText(spec.tickSize) : undefined;
  const lot = spec.lotSize !== undefined ? decimalText(spec.lotSize) : undefined;
  if (market === 'spot') {
    return {
      symbol,
      baseCoin: spec.base,
      quoteCoin: spec.quote,
      innovation: '0',
      status: 'Trading',
      marginTrading: 'none',
      lotSizeFilter: lot !== undefined ? { basePrecision: lot, minOrderQty: lot } : {},
      priceFilter: tick !== undefined ? { tickSize: tick } : {},
    };
  }
  const delivery = deliveryTime(symbol);
  return {
    symbol,
    contractType: delivery === '0' ? 'LinearPerpetual' : 'LinearFutures',
    status: 'Trading',
    baseCoin: spec.base,
    quoteCoin: spec.quote,
    deliveryTime: delivery,
    ...(spec.tickSize !== undefined ? { priceScale: String(decimalsOf(spec.tickSize)) } : {}),
    priceFilter: tick !== undefined ? { tickSize: tick } : {},
    lotSizeFilter: lot !== undefined ? { minOrderQty: lot, qtyStep: lot } : {},
    settleCoin: spec.quote,
  };
}

/**
 * The answer to a metadata path, or null when `path` is not one. `symbols` are the dataset's symbols of this
 * category. instruments-info of another valid category answers an empty list (the dataset holds none of its
 * instruments; a served sibling category answers its own request first).
 */
export function bybitMetadata(market: BybitMarket, path: string, query: URLSearchParams, symbols: readonly string[], timeMs: number): BybitMetadataAnswer | null {
  if (path === '/v5/market/time') return { kind: 'time' };
  if (path !== '/v5/market/instruments-info') return null;
  const category = query.get('category');
  const envelope = (retCode: number, retMsg: string, result: Record<string, unknown>) => ({ retCode, retMsg, result, retExtInfo: {}, time: timeMs });
  if (category === null || !CATEGORIES.includes(category)) {
    return { kind: 'instruments', body: envelope(10001, category === null ? 'params error: Category is null' : 'params error: Category is invalid', {}) };
  }
  let list: Record<string, unknown>[] = [];
  if (category === market) {
    // status=PreLaunch (ccxt asks for it) and other statuses: the dataset's instruments are all trading.
    const status = query.get('status');
    const only = query.get('symbol')?.toUpperCase();
    if (status === null || status === 'Trading') {
      // A symbol whose spec cannot be made (base and quote not told apart) is left out, not a failed request.
      list = symbols
        .filter((s) => only === undefined || s === only)
        .flatMap((s) => {
          try {
            return [instrument(market, s)];
          } catch {
            return [];
          }
        });
    }
  }
  const result: Record<string, unknown> = { category, list };
  if (category !== 'spot') result.nextPageCursor = '';
  return { kind: 'instruments', body: envelope(0, 'OK', result) };
}

/** /v5/market/time's body at `timeMs` (the replay clock). */
export function bybitTimeBody(timeMs: number): string {
  const ms = BigInt(Math.floor(timeMs));
  return JSON.stringify({ retCode: 0, retMsg: 'OK', result: { timeSecond: String(ms / 1000n), timeNano: String(ms * 1_000_000n) }, retExtInfo: {}, time: Number(ms) });
}

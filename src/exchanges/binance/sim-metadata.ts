// The simulator's Binance market metadata: GET /api/v3/exchangeInfo (spot), /fapi/v1/exchangeInfo (USD-M),
// /dapi/v1/exchangeInfo (COIN-M), and ping/time, in Binance's shapes, generated from the dataset's symbols
// and their contract specs (contracts.ts). A value the spec does not hold (minimum notional, maximum
// quantity, margin percentages, onboard date, ...) is left out rather than made up; docs/exchange-sim.md
// lists what is sent.
import type { ContractSpec } from '../../simulation/accounting.js';
import { decimalText } from '../kit/sim-frames.js';
import { BINANCE_RATE_LIMITS, binanceContractSpec } from './contracts.js';
import type { BinanceExchange } from './markets.js';

/** Binance's "no delivery" date of perpetuals (2100-12-25 08:00 UTC), as exchangeInfo writes it. */
const PERPETUAL_DELIVERY_MS = 4133404800000;

/** Request weight per minute per IP (the simulator's 429 body names the same figures). */
const REQUEST_WEIGHT_PER_MINUTE: Record<BinanceExchange, number> = { 'binance-spot': 6000, 'binance-usdm': 2400, 'binance-coinm': 2400 };

const API_PREFIX: Record<BinanceExchange, string> = { 'binance-spot': '/api/v3', 'binance-usdm': '/fapi/v1', 'binance-coinm': '/dapi/v1' };

export type BinanceMetadata =
  | { kind: 'ping' }
  | { kind: 'time' }
  | { kind: 'exchangeInfo'; symbols: string[] | null };

/** Which metadata request `path` (below the exchange) is, or null. `symbol` / `symbols=["A","B"]` filter exchangeInfo. */
export function binanceMetadataRequest(exchange: BinanceExchange, path: string, query: URLSearchParams): BinanceMetadata | { error: string } | null {
  const prefix = API_PREFIX[exchange];
  if (path === `${prefix}/ping`) return { kind: 'ping' };
  if (path === `${prefix}/time`) return { kind: 'time' };
  if (path !== `${prefix}/exchangeInfo`) return null;
  const one = query.get('symbol');
  const many = query.get('symbols');
  if (one !== null) return { kind: 'exchangeInfo', symbols: [one.toUpperCase()] };
  if (many !== null) {
    let list: unknown;
    try {
      list = JSON.parse(many);
    } catch {
      list = null;
    }
    if (!Array.isArray(list) || list.some((s) => typeof s !== 'string')) return { error: "Illegal characters found in parameter 'symbols'; legal range is '^\\[(\"[A-Z0-9-_.]{1,20}\"(,\"[A-Z0-9-_.]{1,20}\"){0,}){0,1}\\]$'." };
    return { kind: 'exchangeInfo', symbols: (list as string[]).map((s) => s.toUpperCase()) };
  }
  return { kind: 'exchangeInfo', symbols: null };
}

function decimalsOf(x: number): number {
  const t = decimalText(x);
  const dot = t.indexOf('.');
  return dot < 0 ? 0 : t.length - dot - 1;
}

/** PRICE_FILTER and LOT_SIZE from the spec's increments (minPrice / minQty = one increment; no maxima). */
function filters(spec: ContractSpec): Record<string, string>[] {
  const out: Record<string, string>[] = [];
  if (spec.tickSize !== undefined) out.push({ filterType: 'PRICE_FILTER', minPrice: decimalText(spec.tickSize), tickSize: decimalText(spec.tickSize) });
  if (spec.lotSize !== undefined) out.push({ filterType: 'LOT_SIZE', minQty: decimalText(spec.lotSize), stepSize: decimalText(spec.lotSize) });
  return out;
}

function rateLimits(exchange: BinanceExchange): Record<string, string | number>[] {
  const out: Record<string, string | number>[] = [{ rateLimitType: 'REQUEST_WEIGHT', interval: 'MINUTE', intervalNum: 1, limit: REQUEST_WEIGHT_PER_MINUTE[exchange] }];
  for (const w of BINANCE_RATE_LIMITS[exchange]) {
    const s = w.windowNs / 1e9;
    out.push(s % 60 === 0 ? { rateLimitType: 'ORDERS', interval: 'MINUTE', intervalNum: s / 60, limit: w.limit } : { rateLimitType: 'ORDERS', interval: 'SECOND', intervalNum: s, limit: w.limit });
  }
  return out;
}

/** Delivery time of a dated contract (BTCUSDT_240927, BTCUSD_240927): 08:00 UTC that day, as Binance settles. */
function deliveryMs(symbol: string): number {
  const m = /_(\d{2})(\d{2})(\d{2})$/.exec(symbol);
  if (!m) return PERPETUAL_DELIVERY_MS;
  return Date.UTC(2000 + Number(m[1]), Number(m[2]) - 1, Number(m[3]), 8);
}

function symbolInfo(exchange: BinanceExchange, symbol: string): Record<string, unknown> {
  const spec = binanceContractSpec(exchange, symbol);
  if (exchange === 'binance-spot') {
    return {
      symbol,
      status: 'TRADING',
      baseAsset: spec.base,
      baseAssetPrecision: 8,
      quoteAsset: spec.quote,
      quotePrecision: 8,
      quoteAssetPrecision: 8,
      baseCommissionPrecision: 8,
      quoteCommissionPrecision: 8,
      orderTypes: ['LIMIT', 'LIMIT_MAKER', 'MARKET', 'STOP_LOSS_LIMIT', 'TAKE_PROFIT_LIMIT'],
      icebergAllowed: false,
      ocoAllowed: false,
      quoteOrderQtyMarketAllowed: false,
      allowTrailingStop: false,
      cancelReplaceAllowed: false,
      isSpotTradingAllowed: true,
      isMarginTradingAllowed: false,
      filters: filters(spec),
      permissions: [],
      permissionSets: [['SPOT']],
    };
  }
  const delivery = deliveryMs(symbol);
  const perpetual = delivery === PERPETUAL_DELIVERY_MS;
  const pair = symbol.replace(/_(PERP|\d{6})$/, '');
  const common = {
    symbol,
    pair,
    contractType: perpetual ? 'PERPETUAL' : 'CURRENT_QUARTER',
    deliveryDate: delivery,
  };
  const precisions = {
    pricePrecision: spec.tickSize !== undefined ? decimalsOf(spec.tickSize) : 8,
    quantityPrecision: spec.lotSize !== undefined ? decimalsOf(spec.lotSize) : 8,
    baseAssetPrecision: 8,
    quotePrecision: 8,
  };
  const orders = {
    filters: filters(spec),
    orderTypes: ['LIMIT', 'MARKET'],
    timeInForce: ['GTC', 'IOC', 'FOK', 'GTX'],
  };
  if (exchange === 'binance-usdm') {
    return { ...common, status: 'TRADING', baseAsset: spec.base, quoteAsset: spec.quote, marginAsset: spec.quote, ...precisions, underlyingType: 'COIN', ...orders };
  }
  return {
    ...common,
    contractStatus: 'TRADING',
    contractSize: spec.contractValue,
    marginAsset: spec.base,
    baseAsset: spec.base,
    quoteAsset: spec.quote,
    ...precisions,
    ...orders,
  };
}

/**
 * exchangeInfo of `symbols` (the dataset's, in dataset order); `only` restricts it as the `symbol(s)` parameter
 * does. Unknown requested symbols: Binance's -1121.
 */
export function binanceExchangeInfo(exchange: BinanceExchange, symbols: readonly string[], only: readonly string[] | null, serverTimeMs: number): { status: number; body: string } {
  if (only !== null) {
    const unknown = only.find((s) => !symbols.includes(s));
    if (unknown !== undefined) return { status: 400, body: JSON.stringify({ code: -1121, msg: 'Invalid symbol.' }) };
  }
  // A symbol whose spec cannot be made (base and quote not told apart) is left out, not a failed request.
  const list = (only ?? symbols).flatMap((s) => {
    try {
      return [symbolInfo(exchange, s)];
    } catch {
      return [];
    }
  });
  const head = { timezone: 'UTC', serverTime: serverTimeMs };
  const body =
    exchange === 'binance-spot'
      ? { ...head, rateLimits: rateLimits(exchange), exchangeFilters: [], symbols: list }
      : exchange === 'binance-usdm'
        ? { ...head, futuresType: 'U_MARGINED', rateLimits: rateLimits(exchange), exchangeFilters: [], assets: [...new Set(list.map((s) => s.marginAsset as string))].map((asset) => ({ asset, marginAvailable: true })), symbols: list }
        : { ...head, rateLimits: rateLimits(exchange), exchangeFilters: [], symbols: list };
  return { status: 200, body: JSON.stringify(body) };
}

// Binance public market-data feeds for the recorder: URLs, stream names, REST depth snapshots and limits.
//
// Spot:    wss://stream.binance.com:9443/stream?streams=btcusdt@trade/btcusdt@depth@100ms/btcusdt@bookTicker
// USD-M:   wss://fstream.binance.com/public/stream?streams=...@depth@0ms (depth, bookTicker and trade are
//          routed under /public since 2026)
// COIN-M:  wss://dstream.binance.com/stream?streams=btcusd_perp@trade/...
// The combined stream wraps each event as {"stream": name, "data": payload}. The server pings (spot every
// 20 s, futures every 3 min); the ws library answers with the same payload. A connection lives at most 24 h.
import type { ConnectionPlan, StreamKind } from '../kit/feed.js';
import type { BinanceExchange } from './markets.js';

export const BINANCE_WS: Record<BinanceExchange, string> = {
  'binance-spot': 'wss://stream.binance.com:9443',
  'binance-usdm': 'wss://fstream.binance.com',
  'binance-coinm': 'wss://dstream.binance.com',
};

export const BINANCE_REST: Record<BinanceExchange, string> = {
  'binance-spot': 'https://api.binance.com',
  'binance-usdm': 'https://fapi.binance.com',
  'binance-coinm': 'https://dapi.binance.com',
};

const DEPTH_PATH: Record<BinanceExchange, string> = {
  'binance-spot': '/api/v3/depth',
  'binance-usdm': '/fapi/v1/depth',
  'binance-coinm': '/dapi/v1/depth',
};

/** Path before /stream: USD-M routes high-frequency streams (depth, bookTicker, trade) under /public. */
const STREAM_PREFIX: Record<BinanceExchange, string> = {
  'binance-spot': '',
  'binance-usdm': '/public',
  'binance-coinm': '',
};

/** REQUEST_WEIGHT per minute per IP (exchangeInfo rateLimits). */
export const BINANCE_WEIGHT_LIMIT: Record<BinanceExchange, number> = {
  'binance-spot': 6000,
  'binance-usdm': 2400,
  'binance-coinm': 2400,
};

/** Streams per connection the recorder puts on one URL (Binance allows 1024; URLs stay short). */
const STREAMS_PER_CONNECTION = 200;

/** The REST depth snapshot's levels per side. */
export const BINANCE_SNAPSHOT_LIMIT = 1000;

export function binanceStreamNames(exchange: BinanceExchange, symbol: string, kinds: readonly StreamKind[]): string[] {
  const s = symbol.toLowerCase();
  const out: string[] = [];
  for (const k of kinds) {
    if (k === 'trade') out.push(`${s}@trade`);
    else if (k === 'depth') out.push(exchange === 'binance-spot' ? `${s}@depth@100ms` : `${s}@depth@0ms`);
    else out.push(`${s}@bookTicker`);
  }
  return out;
}

/** Connections for these symbols: combined-stream URLs under `base` (the exchange's, or a simulator's). */
export function binancePlan(exchange: BinanceExchange, symbols: string[], kinds: readonly StreamKind[], base = BINANCE_WS[exchange]): ConnectionPlan[] {
  const root = base.replace(/\/+$/, '') + STREAM_PREFIX[exchange] + '/stream?streams=';
  const perSymbol = Math.max(1, kinds.length);
  const symbolsPerConn = Math.max(1, Math.floor(STREAMS_PER_CONNECTION / perSymbol));
  const plans: ConnectionPlan[] = [];
  for (let i = 0; i < symbols.length; i += symbolsPerConn) {
    const group = symbols.slice(i, i + symbolsPerConn).map((s) => s.toUpperCase());
    const names = group.flatMap((s) => binanceStreamNames(exchange, s, kinds));
    plans.push({ url: root + names.join('/'), symbols: group, subscribe: [] });
  }
  return plans;
}

/** The REST depth snapshot URL under `restBase` (the exchange's, or a simulator's). */
export function binanceDepthUrl(exchange: BinanceExchange, symbol: string, limit = BINANCE_SNAPSHOT_LIMIT, restBase = BINANCE_REST[exchange]): string {
  return `${restBase.replace(/\/+$/, '')}${DEPTH_PATH[exchange]}?symbol=${encodeURIComponent(symbol.toUpperCase())}&limit=${limit}`;
}

/** Request weight of a depth snapshot of `limit` levels. */
export function binanceDepthWeight(exchange: BinanceExchange, limit: number): number {
  if (exchange === 'binance-spot') return limit <= 100 ? 5 : limit <= 500 ? 25 : limit <= 1000 ? 50 : 250;
  if (exchange === 'binance-usdm') return limit <= 50 ? 2 : limit <= 100 ? 5 : limit <= 500 ? 10 : 20;
  // COIN-M: 5-50 → 2, 100 → 5, 500 → 10, 1000 → 20 (same table as USD-M).
  return limit <= 50 ? 2 : limit <= 100 ? 5 : limit <= 500 ? 10 : 20;
}

// The Binance adapters: spot, USD-M and COIN-M share the protocol and differ in roots, paths and rules.
import type { ExchangeAdapter } from '../kit/adapter.js';
import { BinanceBookSync } from './book-sync.js';
import { BINANCE_FEES, BINANCE_RATE_LIMITS, binanceContractSpec } from './contracts.js';
import { BINANCE_MARKET, type BinanceExchange } from './markets.js';
import { BINANCE_REST, BINANCE_WEIGHT_LIMIT, BINANCE_WS, binancePlan } from './feed.js';
import { binanceFrames } from './frames.js';
import { BINANCE_HFTBACKTEST } from './captures.js';
import { BinanceNormalizer } from './normalizer.js';
import { BinanceSimServer } from './sim-server.js';

function binanceAdapter(id: BinanceExchange): ExchangeAdapter {
  return {
    id,
    market: () => BINANCE_MARKET[id],
    contractSpec: (symbol, overrides) => binanceContractSpec(id, symbol, overrides),
    defaultFees: () => BINANCE_FEES[id],
    rateLimits: BINANCE_RATE_LIMITS[id],
    normalizer: (sink, problems) => new BinanceNormalizer(id, sink, problems),
    frames: binanceFrames,
    captures: { hftbacktest: BINANCE_HFTBACKTEST[id] },
    feed: {
      wsRoot: BINANCE_WS[id],
      restRoot: BINANCE_REST[id],
      restWeightLimit: BINANCE_WEIGHT_LIMIT[id],
      plan: (symbols, kinds, { root }) => binancePlan(id, symbols, kinds, root),
      // The server pings; the ws library answers. No client heartbeat.
      bookSync: (host) => new BinanceBookSync(id, host),
    },
    sim: {
      frames: binanceFrames,
      createServer: (ctx, opts) => new BinanceSimServer(id, ctx, { pingMs: opts.binancePingMs }),
      // Spot is also served under /stream.binance.com: ccxt tells spot streams from futures ones by "/stream"
      // in the URL (the real host's name), so a ccxt spot client needs a URL holding it.
      ...(id === 'binance-spot' ? { sharedHost: { name: 'stream.binance.com', claims: () => true } } : {}),
    },
  };
}

export const binanceSpot = binanceAdapter('binance-spot');
export const binanceUsdm = binanceAdapter('binance-usdm');
export const binanceCoinm = binanceAdapter('binance-coinm');

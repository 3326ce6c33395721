// The Bybit v5 adapters: spot and linear (USDT/USDC contracts) share the protocol and one host (the category
// in the path or query); the simulator serves them under /bybit and, each alone, under /bybit-spot, /bybit-linear.
import type { ExchangeAdapter } from '../kit/adapter.js';
import { ResubscribeBookSync } from '../kit/resubscribe-sync.js';
import { BYBIT_FEES, BYBIT_RATE_LIMITS, bybitContractSpec } from './contracts.js';
import { BYBIT_BOOK_DEPTHS, BYBIT_PING, BYBIT_PING_INTERVAL_MS, BYBIT_WS_ROOT, bybitPlan, bybitRequest, isBybitPong, type BybitBookDepth } from './feed.js';
import { bybitFrameInfo, bybitFrames } from './frames.js';
import { BYBIT_EXCHANGE, BybitNormalizer, type BybitMarket } from './normalizer.js';
import { BybitSimServer } from './sim-server.js';

function bybitAdapter(market: BybitMarket): ExchangeAdapter {
  const id = BYBIT_EXCHANGE[market] as 'bybit-spot' | 'bybit-linear';
  const address = new RegExp(`/v5/public/${market}\\b|[?&]category=${market}\\b`);
  return {
    id,
    market: () => market,
    contractSpec: (symbol, overrides) => bybitContractSpec(market, symbol, overrides),
    defaultFees: () => BYBIT_FEES[market],
    rateLimits: BYBIT_RATE_LIMITS,
    normalizer: (sink, problems) => new BybitNormalizer(sink, problems, market),
    frames: bybitFrames,
    // One cryptofeed name for both categories: the category is in the WebSocket path or the REST query.
    captures: { cryptofeed: { name: 'BYBIT', ownsAddress: (url) => address.test(url) } },
    feed: {
      wsRoot: BYBIT_WS_ROOT,
      bookDepths: BYBIT_BOOK_DEPTHS,
      plan: (symbols, kinds, { root, bookDepth }) => bybitPlan(market, symbols, kinds, (bookDepth ?? BYBIT_BOOK_DEPTHS[0]) as BybitBookDepth, root),
      heartbeat: { text: BYBIT_PING, intervalMs: BYBIT_PING_INTERVAL_MS, whenIdle: false, isPong: isBybitPong },
      bookSync: (host) =>
        new ResubscribeBookSync(host, {
          newNormalizer: (h) => new BybitNormalizer(h.sink, h.problems, market),
          lagMs: (msg) => {
            const info = bybitFrameInfo(msg);
            return info.symbol !== null ? info.exchMs : NaN;
          },
          book: (msg) => {
            const info = bybitFrameInfo(msg);
            const topic = info.bookTopic;
            if (topic === null || info.symbol === null) return null;
            return {
              symbol: info.symbol,
              snapshot: (msg as Record<string, unknown>).type === 'snapshot',
              resubscribe: () => [...bybitRequest('unsubscribe', [topic]), ...bybitRequest('subscribe', [topic])],
            };
          },
        }),
    },
    sim: {
      frames: bybitFrames,
      createServer: (ctx) => new BybitSimServer(id, ctx),
      // One host for every category, as api.bybit.com / stream.bybit.com: the category is in the path or query.
      sharedHost: { name: 'bybit', claims: (path, query) => path === `/v5/public/${market}` || query.get('category') === market },
    },
  };
}

export const bybitSpot = bybitAdapter('spot');
export const bybitLinear = bybitAdapter('linear');

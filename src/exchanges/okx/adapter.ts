// The OKX v5 adapter: one exchange id for spot, swaps and futures (the instId tells them apart).
import type { ExchangeAdapter } from '../kit/adapter.js';
import { ResubscribeBookSync } from '../kit/resubscribe-sync.js';
import { OKX_RATE_LIMITS, okxContractSpec, okxFees, okxMarketOf } from './contracts.js';
import { isOkxPong, OKX_PING, OKX_PING_INTERVAL_MS, OKX_WS_ROOT, okxArgs, okxPlan, okxRequest } from './feed.js';
import { okxFrameInfo, okxFrames } from './frames.js';
import { OkxNormalizer } from './normalizer.js';
import { OkxSimServer } from './sim-server.js';

export const okx: ExchangeAdapter = {
  id: 'okx',
  market: okxMarketOf,
  contractSpec: okxContractSpec,
  defaultFees: okxFees,
  rateLimits: OKX_RATE_LIMITS,
  normalizer: (sink, problems) => new OkxNormalizer(sink, problems),
  frames: okxFrames,
  captures: { cryptofeed: { name: 'OKX' } },
  feed: {
    wsRoot: OKX_WS_ROOT,
    plan: (symbols, kinds, { root }) => okxPlan(symbols, kinds, root),
    heartbeat: { text: OKX_PING, intervalMs: OKX_PING_INTERVAL_MS, whenIdle: true, isPong: isOkxPong },
    bookSync: (host) =>
      new ResubscribeBookSync(host, {
        newNormalizer: (h) => new OkxNormalizer(h.sink, h.problems),
        lagMs: (msg) => okxFrameInfo(msg).exchMs,
        book: (msg) => {
          const inst = okxFrameInfo(msg).bookInstId;
          if (inst === null) return null;
          const args = okxArgs(inst, ['depth']);
          return {
            symbol: inst,
            snapshot: (msg as Record<string, unknown>).action === 'snapshot',
            resubscribe: () => [okxRequest('unsubscribe', args), okxRequest('subscribe', args)],
          };
        },
      }),
  },
  sim: { frames: okxFrames, createServer: (ctx) => new OkxSimServer(ctx) },
};

// ma-crossover: the latency-insensitive baseline. Samples the mid on a timer, keeps a fast and a slow
// moving average, and holds a long or short position of `size` in the direction of the fast one.
// It trades rarely and with market orders, so milliseconds barely move its result.
import { BUY, SELL, defineStrategy } from '../src/strategy/api.js';

export default defineStrategy({
  name: 'ma-crossover',
  description: 'Moving-average crossover on the mid (latency-insensitive baseline)',
  params: {
    symbol: { type: 'string', default: 'BTCUSDT', description: 'symbol to trade' },
    exchange: { type: 'string', default: 'binance-usdm', description: 'venue (exchange id)' },
    sampleMs: { type: 'number', default: 1000, min: 1, description: 'mid sampling interval, in ms' },
    fast: { type: 'number', default: 10, min: 1, integer: true, description: 'fast average length, in samples' },
    slow: { type: 'number', default: 60, min: 2, integer: true, description: 'slow average length, in samples' },
    size: { type: 'number', default: 0.01, min: 0, description: 'position size in base currency (contracts on inverse venues)' },
  },
  venues: (p) => [{ exchange: p.exchange, symbol: p.symbol }],
  create(p) {
    if (p.fast >= p.slow) throw new Error(`parameter "fast" (${p.fast}) must be below "slow" (${p.slow})`);
    const V = 0;
    const samples: number[] = [];
    let target = 0;
    let busy = false;
    const mean = (n: number) => samples.slice(-n).reduce((a, b) => a + b, 0) / n;
    return {
      onStart(ctx) {
        ctx.setTimer(ctx.now() + p.sampleMs * 1e6, 'sample');
      },
      onTimer(ctx) {
        ctx.setTimer(ctx.now() + p.sampleMs * 1e6, 'sample');
        const book = ctx.book(V);
        if (!book.valid) return;
        samples.push(book.mid());
        if (samples.length > p.slow) samples.shift();
        if (samples.length < p.slow || busy) return;
        target = mean(p.fast) > mean(p.slow) ? p.size : -p.size;
        const delta = target - ctx.position(V).size;
        if (Math.abs(delta) < p.size / 2) return;
        // The exchange refuses a size off its lot grid: round down (never trade more than intended).
        const size = ctx.instrument(V).sizeDown(Math.abs(delta));
        if (!(size > 0)) return;
        busy = true;
        ctx.submit({ venue: V, side: delta > 0 ? BUY : SELL, type: 'market', size });
      },
      onOrderUpdate(_ctx, u) {
        if (u.status === 'filled' || u.status === 'cancelled' || u.status === 'rejected') busy = false;
      },
    };
  },
});

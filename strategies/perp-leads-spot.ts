// perp-leads-spot: a taker on spot driven by moves of the perpetual, which trades first.
//
// The basis (perp mid - spot mid) is stable over seconds; when the perpetual jumps, spot follows a few
// milliseconds later. The strategy tracks the basis with an exponential average and, when the live basis
// departs from it by more than `thresholdBps` of the spot price, takes spot in the perpetual's direction
// with an IOC limit order, then closes after `holdMs` (or when the basis is back). Whoever reaches spot
// first wins: the edge decays with latency.
import { BUY, SELL, defineStrategy, type Context, type OrderSide } from '../src/strategy/api.js';

export default defineStrategy({
  name: 'perp-leads-spot',
  description: 'Takes spot liquidity when the perpetual moves first (lead-lag arbitrage)',
  params: {
    symbol: { type: 'string', default: 'BTCUSDT', description: 'symbol on both venues' },
    spot: { type: 'string', default: 'binance-spot', description: 'spot venue (exchange id)' },
    perp: { type: 'string', default: 'binance-usdm', description: 'perpetual venue (exchange id)' },
    thresholdBps: { type: 'number', default: 1.5, min: 0, description: 'basis deviation that triggers a trade, in basis points of the spot price' },
    basisHalfLifeMs: { type: 'number', default: 2000, min: 1, description: 'half-life of the basis average, in ms' },
    size: { type: 'number', default: 0.01, min: 0, description: 'order size in base currency' },
    holdMs: { type: 'number', default: 500, min: 0, description: 'close the position after this long, in ms' },
    slippageBps: { type: 'number', default: 1, min: 0, description: 'IOC limit beyond the touch, in basis points' },
    cooldownMs: { type: 'number', default: 200, min: 0, description: 'wait after closing before the next entry, in ms' },
  },
  venues: (p) => [
    { exchange: p.spot, symbol: p.symbol },
    { exchange: p.perp, symbol: p.symbol },
  ],
  create(p) {
    const SPOT = 0;
    const PERP = 1;
    const halfLifeNs = p.basisHalfLifeMs * 1e6;
    let basisAvg = NaN;
    let lastUpdateNs = NaN;
    let position = 0; // +1 long spot, -1 short spot, 0 flat (as the strategy intends it)
    let openedNs = 0;
    let readyNs = 0;
    let working = false; // an IOC is in flight

    // `size`: the order size (to open: p.size; to close: what is held, which a fee taken in base has made
    // smaller than what was bought).
    const take = (ctx: Context, side: OrderSide, size: number) => {
      const book = ctx.book(SPOT);
      const inst = ctx.instrument(SPOT);
      const touch = side === BUY ? book.bestAsk() : book.bestBid();
      // The exchange refuses a price off its tick grid: round toward the touch (a buy down, a sell up), so
      // the IOC never reaches further into the book than the slippage allows.
      const limit = touch * (1 + (side * p.slippageBps) / 1e4);
      const price = side === BUY ? inst.priceDown(limit) : inst.priceUp(limit);
      const qty = inst.sizeDown(size);
      if (!(qty > 0)) return;
      working = true;
      ctx.submit({ venue: SPOT, side, type: 'limit', price, size: qty, tif: 'IOC' });
    };

    return {
      onBook(ctx, venue) {
        const spot = ctx.book(SPOT);
        const perp = ctx.book(PERP);
        if (!spot.valid || !perp.valid) return;
        const now = ctx.now();
        const basis = perp.mid() - spot.mid();
        if (!Number.isFinite(basis)) return;
        if (Number.isNaN(basisAvg)) {
          basisAvg = basis;
          lastUpdateNs = now;
          return;
        }
        const deviation = (basis - basisAvg) / spot.mid();
        // The average follows the basis slowly, so a sudden perpetual move shows as a deviation.
        const w = 1 - Math.pow(0.5, Math.max(0, now - lastUpdateNs) / halfLifeNs);
        basisAvg += w * (basis - basisAvg);
        lastUpdateNs = now;
        if (working) return;
        if (position !== 0) {
          const reverted = position > 0 ? deviation <= 0 : deviation >= 0;
          if (reverted || now - openedNs >= p.holdMs * 1e6) take(ctx, position > 0 ? SELL : BUY, Math.abs(ctx.position(SPOT).size));
          return;
        }
        if (venue !== PERP || now < readyNs) return;
        if (deviation > p.thresholdBps / 1e4) take(ctx, BUY, p.size);
        else if (deviation < -p.thresholdBps / 1e4) take(ctx, SELL, p.size);
      },
      onOrderUpdate(ctx, u) {
        if (u.status === 'filled' || u.status === 'cancelled' || u.status === 'rejected') {
          working = false;
          const filled = u.filledSize > 0;
          if (!filled) return;
          const held = ctx.position(SPOT).size;
          if (Math.abs(held) < p.size / 2) {
            position = 0;
            readyNs = ctx.now() + p.cooldownMs * 1e6;
          } else {
            position = held > 0 ? 1 : -1;
            openedNs = ctx.now();
          }
        }
      },
    };
  },
});

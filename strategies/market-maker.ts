// market-maker: quotes both sides of one venue around the mid, skewed against its inventory.
//
// Bid at the first book level at or below mid - halfSpread - skew, ask at the first at or above
// mid + halfSpread - skew, where skew = inventory/maxInventory *
// skewBps: a long book quotes lower to sell more and buy less. Quotes are post-only; they are replaced
// when the mid moves more than `requoteBps` from where they were placed. Latency costs it in two ways:
// stale quotes get picked off, and replacements lose queue position.
import { BUY, SELL, defineStrategy, type Context, type OrderSide } from '../src/strategy/api.js';

export default defineStrategy({
  name: 'market-maker',
  description: 'Quotes both sides with inventory skew (post-only)',
  params: {
    symbol: { type: 'string', default: 'BTCUSDT', description: 'symbol to quote' },
    exchange: { type: 'string', default: 'binance-usdm', description: 'venue (exchange id)' },
    halfSpreadBps: { type: 'number', default: 1, min: 0, description: 'distance of each quote from the mid, in basis points' },
    skewBps: { type: 'number', default: 2, min: 0, description: 'quote shift at full inventory, in basis points' },
    size: { type: 'number', default: 0.01, min: 0, description: 'quote size in base currency (contracts on inverse venues)' },
    maxInventory: { type: 'number', default: 0.05, min: 0, description: 'no quote that would grow the inventory beyond this' },
    requoteBps: { type: 'number', default: 0.5, min: 0, description: 'replace quotes when the mid moved this far, in basis points' },
  },
  venues: (p) => [{ exchange: p.exchange, symbol: p.symbol }],
  create(p) {
    const V = 0;
    let quotedMid = NaN;
    const live: Record<'bid' | 'ask', number | null> = { bid: null, ask: null };
    const pending = new Set<number>();

    const quote = (ctx: Context, side: OrderSide, price: number) => {
      // Book prices are on the tick grid already; rounding away from the touch (a bid down, an ask up) keeps
      // a price that is not (a float or a foreign grid) from being refused without making the quote tighter.
      const inst = ctx.instrument(V);
      const size = inst.sizeDown(p.size);
      if (!(size > 0)) return;
      const id = ctx.submit({ venue: V, side, type: 'limit', price: side === BUY ? inst.priceDown(price) : inst.priceUp(price), size, tif: 'POST_ONLY' });
      live[side === BUY ? 'bid' : 'ask'] = id;
      pending.add(id);
    };

    return {
      onBook(ctx) {
        const book = ctx.book(V);
        if (!book.valid) return;
        const mid = book.mid();
        if (!Number.isFinite(mid) || pending.size > 0) return;
        if (Number.isFinite(quotedMid) && Math.abs(mid - quotedMid) / mid < p.requoteBps / 1e4 && live.bid !== null && live.ask !== null) return;
        for (const key of ['bid', 'ask'] as const) {
          const id = live[key];
          if (id !== null) {
            ctx.cancel(id);
            pending.add(id);
            live[key] = null;
          }
        }
        const inventory = ctx.position(V).size;
        const skew = (Math.max(-1, Math.min(1, inventory / p.maxInventory)) * p.skewBps) / 1e4;
        // Quote on price levels the book already has: they are on the venue's tick grid, and the quote
        // joins a real queue there.
        const bidTarget = mid * (1 - p.halfSpreadBps / 1e4 - skew);
        const askTarget = mid * (1 + p.halfSpreadBps / 1e4 - skew);
        let bid = NaN;
        for (let k = 0; k < book.bidLevels(); k++) {
          if (book.bidPrice(k) <= bidTarget) {
            bid = book.bidPrice(k);
            break;
          }
        }
        let ask = NaN;
        for (let k = 0; k < book.askLevels(); k++) {
          if (book.askPrice(k) >= askTarget) {
            ask = book.askPrice(k);
            break;
          }
        }
        if (inventory + p.size <= p.maxInventory + 1e-12 && bid > 0) quote(ctx, BUY, bid);
        if (inventory - p.size >= -p.maxInventory - 1e-12 && ask > 0) quote(ctx, SELL, ask);
        quotedMid = mid;
      },
      onOrderUpdate(_ctx, u) {
        if (u.status !== 'pending' && u.status !== 'partially_filled') pending.delete(u.orderId);
        if (u.status === 'accepted') pending.delete(u.orderId);
        if (u.status === 'filled' || u.status === 'cancelled' || u.status === 'rejected') {
          if (live.bid === u.orderId) live.bid = null;
          if (live.ask === u.orderId) live.ask = null;
          if (u.status === 'filled') quotedMid = NaN; // requote at once after a fill
        }
      },
    };
  },
});

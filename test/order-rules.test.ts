// Exchange rules (src/simulation/order-rules.ts, the numbers in src/exchanges/<exchange>/contracts.ts): orders
// off the tick or lot grid, below the minimum size or below the minimum value are refused with the exchange's
// own reason; the Strategy API's instrument view and rounding helpers; fees taken from the base bought.
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { DatasetWriter } from '../src/data/writer.js';
import { EventKind, Flag, type StreamInfo } from '../src/data/types.js';
import { NS_PER_S } from '../src/data/time.js';
import { loadMarketData } from '../src/engine/market-data.js';
import { runReplay } from '../src/engine/replay.js';
import { runOnce } from '../src/engine/session.js';
import { contractSpec } from '../src/exchanges/registry.js';
import { Account } from '../src/simulation/accounting.js';
import { ProportionalFees, baseFee, feeCharge } from '../src/simulation/fees.js';
import { buildVenueLatency } from '../src/simulation/latency.js';
import { NO_ORDER_RULES, ceilToStep, floorToStep, instrumentOf, onGrid, orderRulesFor, stepDecimals } from '../src/simulation/order-rules.js';
import { RiskAverseQueue } from '../src/simulation/queue.js';
import { createRng } from '../src/simulation/random.js';
import { parseRateLimit } from '../src/simulation/rate-limit.js';
import { BUY, SELL, type Context, type OrderUpdate, type Strategy } from '../src/strategy/api.js';
import { tempDir } from './helpers.js';

const rules = (exchange: string, symbol: string) => orderRulesFor(contractSpec(exchange, symbol));

describe('Binance spot BTCUSDT (tick 0.01, step 0.00001, NOTIONAL 5 USDT)', () => {
  const r = rules('binance-spot', 'BTCUSDT');

  it('a price off the 0.01 grid is refused with PRICE_FILTER; one on it passes', () => {
    expect(r.check(BUY, 'limit', 61855.68495, 0.01)).toBe('-1013 Filter failure: PRICE_FILTER');
    expect(r.check(SELL, 'limit', 61855.685, 0.01)).toBe('-1013 Filter failure: PRICE_FILTER');
    expect(r.check(BUY, 'limit', 61855.68, 0.01)).toBeUndefined();
    // float noise of a decimal price is not off the grid: 0.1 + 0.2 = 0.30000000000000004
    expect(r.check(BUY, 'limit', 61855 + 0.1 + 0.2, 0.01)).toBeUndefined();
  });

  it('a size off the step or below minQty is refused with LOT_SIZE', () => {
    expect(r.check(BUY, 'limit', 61855.68, 0.000001)).toBe('-1013 Filter failure: LOT_SIZE');
    expect(r.check(BUY, 'limit', 61855.68, 0.010005)).toBe('-1013 Filter failure: LOT_SIZE');
    expect(r.check(SELL, 'market', NaN, 0.000001)).toBe('-1013 Filter failure: LOT_SIZE');
    expect(r.check(BUY, 'limit', 61855.68, 0.00999)).toBeUndefined();
  });

  it('a limit order worth 4 USDT is refused with NOTIONAL (minimum 5); 5 USDT passes; a market order is not value-checked', () => {
    expect(r.check(BUY, 'limit', 40000, 0.0001)).toBe('-1013 Filter failure: NOTIONAL');
    expect(r.check(BUY, 'limit', 50000, 0.0001)).toBeUndefined();
    expect(r.check(BUY, 'market', NaN, 0.0001)).toBeUndefined();
  });

  it('an order breaking several rules gets the first in filter order: price, size, value', () => {
    expect(r.check(BUY, 'limit', 40000.005, 0.000001)).toBe('-1013 Filter failure: PRICE_FILTER');
    expect(r.check(BUY, 'limit', 40000, 0.000001)).toBe('-1013 Filter failure: LOT_SIZE');
  });
});

describe("each exchange's numbers and reasons", () => {
  it('Binance USDⓈ-M BTCUSDT: -4014 off the 0.1 tick, -1111 off the 0.001 step, -4164 below 100 USDT', () => {
    const r = rules('binance-usdm', 'BTCUSDT');
    expect(r.description).toBe('tick 0.1, lot 0.001, min size 0.001, min notional 100 USDT');
    expect(r.check(BUY, 'limit', 61855.68, 0.01)).toBe('-4014 Price not increased by tick size.');
    expect(r.check(BUY, 'limit', 61855.7, 0.0005)).toBe('-1111 Precision is over the maximum defined for this asset.');
    expect(r.check(BUY, 'limit', 60000, 0.001)).toBe("-4164 Order's notional must be no smaller than 100 (unless you choose reduce only).");
    expect(r.check(BUY, 'limit', 60000, 0.002)).toBeUndefined();
  });

  it('Binance COIN-M BTCUSD_PERP: whole contracts, no value minimum', () => {
    const r = rules('binance-coinm', 'BTCUSD_PERP');
    expect(r.check(SELL, 'limit', 61855.7, 1.5)).toBe('-1111 Precision is over the maximum defined for this asset.');
    expect(r.check(SELL, 'limit', 61855.7, 1)).toBeUndefined();
  });

  it('Bybit spot BTCUSDT: 170134 / 170137 / 170136 / 170140', () => {
    const r = rules('bybit-spot', 'BTCUSDT');
    expect(r.check(BUY, 'limit', 61855.685, 0.001)).toBe('170134 Order price decimal too long.');
    expect(r.check(BUY, 'limit', 61855.68, 0.0010005)).toBe('170137 Order volume decimal too long.');
    expect(r.check(BUY, 'limit', 61855.68, 0.000047)).toBe('170136 Order quantity lower than the minimum.');
    expect(r.check(BUY, 'limit', 10000, 0.00005)).toBe('170140 Order value exceeded lower limit.'); // 0.5 USDT < 1
  });

  it('Bybit linear BTCUSDT: 110094 below 5 USDT', () => {
    expect(rules('bybit-linear', 'BTCUSDT').check(BUY, 'limit', 4000, 0.001)).toBe('110094 Order does not meet minimum order value.');
  });

  it('OKX: 51121 off the lot, 51020 below minSz; the USDT swap in contracts of 0.01 BTC', () => {
    expect(rules('okx', 'BTC-USDT').check(BUY, 'limit', 61855.7, 0.000005)).toBe('51020 Your order should meet or exceed the minimum order amount.');
    expect(rules('okx', 'BTC-USDT').check(BUY, 'limit', 61855.7, 0.00001001)).toBeUndefined(); // lotSz 1e-8
    expect(rules('okx', 'BTC-USDT').check(BUY, 'limit', 61855.75, 0.001)).toBe('51000 Parameter px error');
    expect(rules('okx', 'BTC-USDT-SWAP').check(BUY, 'limit', 61855.7, 0.15)).toBe('51121 Order quantity must be a multiple of the lot size.');
    expect(rules('okx', 'BTC-USDT-SWAP').check(BUY, 'limit', 61855.7, 0.3)).toBeUndefined();
  });

  it('Coinbase BTC-USD: precision reasons, 1 USD minimum', () => {
    const r = rules('coinbase', 'BTC-USD');
    expect(r.check(BUY, 'limit', 61855.685, 0.001)).toBe('INVALID_PRICE_PRECISION');
    expect(r.check(BUY, 'limit', 61855.68, 0.000000015)).toBe('INVALID_SIZE_PRECISION');
    expect(r.check(BUY, 'limit', 61855.68, 0.00001)).toBe('INVALID_QUOTE_SIZE_TOO_SMALL'); // 0.62 USD
  });

  it('a symbol whose spec the adapter does not hold has no rules', () => {
    expect(rules('binance-spot', 'XRPUSDT')).toBe(NO_ORDER_RULES);
    expect(rules('binance-spot', 'XRPUSDT').check(BUY, 'limit', 0.123456789, 0.1)).toBeUndefined();
  });
});

describe('grid helpers', () => {
  it('round down and up to the step, written with its decimals', () => {
    expect(floorToStep(61855.68495, 0.01)).toBe(61855.68);
    expect(ceilToStep(61855.68495, 0.01)).toBe(61855.69);
    expect(floorToStep(61855.68, 0.01)).toBe(61855.68); // already on the grid: unchanged, also upwards
    expect(ceilToStep(61855.68, 0.01)).toBe(61855.68);
    expect(floorToStep(0.0099999, 0.00001)).toBe(0.00999);
    expect(floorToStep(61855.68495, 0.1)).toBe(61855.6);
    expect(ceilToStep(61855.68495, 0.1)).toBe(61855.7);
    expect(floorToStep(7, 0)).toBe(7);
  });

  it('decimals of a step; on-grid test', () => {
    expect([0.01, 0.00001, 1e-8, 0.1, 1, 5].map(stepDecimals)).toEqual([2, 5, 8, 1, 0, 0]);
    expect(onGrid(0.00999, 0.00001)).toBe(true);
    expect(onGrid(0.009995, 0.00001)).toBe(false);
  });
});

describe('the Strategy API instrument view', () => {
  it('Binance spot BTCUSDT: grid, minimums, decimals, fee asset by side, helpers', () => {
    const i = instrumentOf(contractSpec('binance-spot', 'BTCUSDT'));
    expect([i.base, i.quote, i.tickSize, i.lotSize, i.minQty, i.minNotional, i.priceDecimals, i.sizeDecimals]).toEqual(['BTC', 'USDT', 0.01, 0.00001, 0.00001, 5, 2, 5]);
    expect([i.feeAsset(BUY), i.feeAsset(SELL)]).toEqual(['BTC', 'USDT']);
    expect([i.priceDown(61855.68495), i.priceUp(61855.68495), i.sizeDown(0.0099999)]).toEqual([61855.68, 61855.69, 0.00999]);
  });

  it('futures charge the settlement asset on both sides', () => {
    const usdm = instrumentOf(contractSpec('binance-usdm', 'BTCUSDT'));
    expect([usdm.feeAsset(BUY), usdm.feeAsset(SELL), usdm.minNotional]).toEqual(['USDT', 'USDT', 100]);
    const coinm = instrumentOf(contractSpec('binance-coinm', 'BTCUSD_PERP'));
    expect([coinm.feeAsset(BUY), coinm.feeAsset(SELL)]).toEqual(['BTC', 'BTC']);
    expect(instrumentOf(contractSpec('coinbase', 'BTC-USD')).feeAsset(BUY)).toBe('USD');
    expect(instrumentOf(contractSpec('okx', 'BTC-USDT')).feeAsset(BUY)).toBe('BTC');
  });

  it('unknown rules: zeros, NaN decimals, identity helpers', () => {
    const i = instrumentOf(contractSpec('binance-spot', 'XRPUSDT'));
    expect([i.tickSize, i.lotSize, i.minQty, i.minNotional, i.priceDecimals]).toEqual([0, 0, 0, 0, NaN]);
    expect([i.priceDown(0.123456789), i.sizeDown(1.23456789)]).toEqual([0.123456789, 1.23456789]);
  });
});

describe('fees taken from the asset received (Binance spot)', () => {
  it('a buy of 0.01 BTC at 60000 at 0.1% leaves 0.00999 BTC and a fee of 0.00001 BTC, valued 0.6 USDT', () => {
    const spec = contractSpec('binance-spot', 'BTCUSDT');
    const a = new Account(spec, { USDT: 1000, BTC: 0 });
    const fee = new ProportionalFees(0.001, 0.001).fee(60000 * 0.01, false);
    expect(fee).toBeCloseTo(0.6, 12);
    expect(baseFee(spec.feeAsset, BUY, 60000, fee)).toBeCloseTo(0.00001, 15);
    a.applyFill({ side: BUY, price: 60000, size: 0.01, fee, maker: false });
    expect(a.baseBalance).toBeCloseTo(0.00999, 15);
    expect(a.position).toBeCloseTo(0.00999, 15);
    expect(a.cash).toBeCloseTo(400, 9); // the quote pays 600, no fee
    expect(a.fees).toBeCloseTo(0.6, 12); // counted in quote
    expect(a.feesByAsset()).toEqual({ BTC: expect.closeTo(0.00001, 15) });
    expect(a.averageEntry).toBe(60000);
    expect(a.realizedPnl).toBeCloseTo(0, 9);
    // At 61000: equity 400 + 0.00999 × 61000 = 1009.39; gross (unrealized) 9.99; net = gross - 0.6 = 9.39
    expect(a.equity(61000)).toBeCloseTo(1009.39, 9);
    expect(a.mark(61000)).toBeCloseTo(9.99, 9);
    // Selling what is held pays its fee in USDT: 0.1% of 609.39
    const sellFee = 0.001 * 61000 * 0.00999;
    a.applyFill({ side: SELL, price: 61000, size: 0.00999, fee: sellFee, maker: false });
    expect(a.position).toBe(0);
    expect(a.baseBalance).toBeCloseTo(0, 15);
    expect(a.realizedPnl).toBeCloseTo(9.99, 9);
    expect(a.fees).toBeCloseTo(0.6 + 0.60939, 9);
    expect(a.cash).toBeCloseTo(400 + 609.39 - 0.60939, 9);
    expect(a.feesByAsset()).toEqual({ BTC: expect.closeTo(0.00001, 15), USDT: expect.closeTo(0.60939, 12) });
    expect(a.reconcile().ok).toBe(true);
  });

  it('where the fee is in quote (Coinbase), the same buy leaves 0.01 BTC and pays 600.6 USD', () => {
    const a = new Account(contractSpec('coinbase', 'BTC-USD'), { USD: 1000 });
    a.applyFill({ side: BUY, price: 60000, size: 0.01, fee: 0.6, maker: false });
    expect([a.baseBalance, a.position]).toEqual([0.01, 0.01]);
    expect(a.cash).toBeCloseTo(399.4, 9);
    expect(a.feesByAsset()).toEqual({ USD: 0.6 });
    expect(a.reconcile().ok).toBe(true);
  });

  it('feeCharge names the asset: a sell on Binance spot pays in quote; a rebate stays in quote', () => {
    const assets = { base: 'BTC', settlement: 'USDT' };
    expect(feeCharge('received', assets, SELL, 60000, 0.6)).toEqual({ asset: 'USDT', amount: 0.6 });
    expect(feeCharge('received', assets, BUY, 60000, -0.12)).toEqual({ asset: 'USDT', amount: -0.12 });
    expect(feeCharge('quote', assets, BUY, 60000, 0.6)).toEqual({ asset: 'USDT', amount: 0.6 });
  });
});

describe('through the engine: refused at the exchange, heard after the response latency', () => {
  const MS = 1_000_000;
  const T0 = 1_723_161_600n * NS_PER_S;
  const SPOT: StreamInfo = { exchange: 'binance-spot', market: 'spot', symbol: 'BTCUSDT' };

  /** binance-spot BTCUSDT: a snapshot at 10 ms (bid 61855.00 × 1, asks 61855.68 × 0.5 and 61856.00 × 1), nothing after until 100 ms. */
  function dataset(): string {
    const dir = path.join(tempDir('latencylab-rules-'), 'ds');
    const w = new DatasetWriter(dir);
    const id = w.stream(SPOT);
    const levels: [number, number, number][] = [
      [1, 61855, 1],
      [-1, 61855.68, 0.5],
      [-1, 61856, 1],
    ];
    let seq = 1;
    levels.forEach(([side, price, size], i) => {
      const exch = T0 + BigInt(10 * MS);
      const flags = (i === 0 ? Flag.SnapshotBegin : 0) | (i === levels.length - 1 ? Flag.SnapshotEnd | Flag.MessageEnd : 0);
      w.event(id, exch + BigInt(MS), exch, EventKind.BookSnapshot, side, price, size, BigInt(seq), BigInt(seq - 1), flags, exch);
      seq++;
    });
    const late = T0 + BigInt(100 * MS);
    w.event(id, late + BigInt(MS), late, EventKind.BookLevel, 1, 61855, 2, BigInt(seq), BigInt(seq - 1), Flag.MessageEnd, late);
    w.close();
    return dir;
  }

  it('PRICE_FILTER, LOT_SIZE, NOTIONAL and a modify off the grid are refused; the rounded order fills and pays its fee in BTC', () => {
    const updates: Pick<OrderUpdate, 'orderId' | 'status' | 'reason' | 'exchangeTimeNs' | 'lastFillPrice' | 'lastFillSize' | 'lastFillFeeAsset'>[] = [];
    const seenAt: number[] = [];
    let position = NaN;
    let sent = false;
    const strategy: Strategy = {
      onBook(ctx: Context) {
        if (sent) return;
        sent = true;
        const inst = ctx.instrument(0);
        ctx.submit({ venue: 0, side: BUY, type: 'limit', price: 61855.68495, size: 0.01, tif: 'IOC' }); // 1
        ctx.submit({ venue: 0, side: BUY, type: 'limit', price: 61855.68, size: 0.000001, tif: 'IOC' }); // 2
        ctx.submit({ venue: 0, side: BUY, type: 'limit', price: 40000, size: 0.0001, tif: 'GTC' }); // 3: 4 USDT
        ctx.submit({ venue: 0, side: BUY, type: 'limit', price: inst.priceDown(61855.68495), size: 0.01, tif: 'IOC' }); // 4
        const resting = ctx.submit({ venue: 0, side: BUY, type: 'limit', price: 61000, size: 0.01, tif: 'GTC' }); // 5
        ctx.modify(resting, 61000.005, 0.01);
      },
      onOrderUpdate(ctx, u) {
        updates.push({ orderId: u.orderId, status: u.status, reason: u.reason, exchangeTimeNs: u.exchangeTimeNs, lastFillPrice: u.lastFillPrice, lastFillSize: u.lastFillSize, lastFillFeeAsset: u.lastFillFeeAsset });
        seenAt.push(ctx.now());
        position = ctx.position(0).size;
      },
    };
    const dir = dataset();
    const venues = [{ exchange: 'binance-spot', symbol: 'BTCUSDT' }];
    const data = loadMarketData(dir, venues);
    const rng = createRng(1);
    const r = runReplay({
      data,
      strategy,
      rng,
      venues: [
        {
          spec: contractSpec('binance-spot', 'BTCUSDT'),
          latency: buildVenueLatency({ feed: '0', order: '5ms', response: '1ms' }, rng, data.clock),
          queue: new RiskAverseQueue(),
          fees: new ProportionalFees(0.001, 0.001),
          rateLimiter: parseRateLimit('none'),
          initialBalances: { USDT: 100_000, BTC: 1 },
        },
      ],
    });
    const at = 15 * MS; // the snapshot at 10 ms + 5 ms order latency
    expect(updates).toEqual([
      { orderId: 1, status: 'rejected', reason: '-1013 Filter failure: PRICE_FILTER', exchangeTimeNs: at, lastFillPrice: NaN, lastFillSize: 0, lastFillFeeAsset: '' },
      { orderId: 2, status: 'rejected', reason: '-1013 Filter failure: LOT_SIZE', exchangeTimeNs: at, lastFillPrice: NaN, lastFillSize: 0, lastFillFeeAsset: '' },
      { orderId: 3, status: 'rejected', reason: '-1013 Filter failure: NOTIONAL', exchangeTimeNs: at, lastFillPrice: NaN, lastFillSize: 0, lastFillFeeAsset: '' },
      { orderId: 4, status: 'accepted', reason: undefined, exchangeTimeNs: at, lastFillPrice: NaN, lastFillSize: 0, lastFillFeeAsset: '' },
      { orderId: 4, status: 'filled', reason: undefined, exchangeTimeNs: at, lastFillPrice: 61855.68, lastFillSize: 0.01, lastFillFeeAsset: 'BTC' },
      { orderId: 5, status: 'accepted', reason: undefined, exchangeTimeNs: at, lastFillPrice: NaN, lastFillSize: 0, lastFillFeeAsset: '' },
      // the modify is refused; the order rests unchanged (reason on the update, status as before)
      { orderId: 5, status: 'accepted', reason: '-1013 Filter failure: PRICE_FILTER', exchangeTimeNs: at, lastFillPrice: NaN, lastFillSize: 0, lastFillFeeAsset: '' },
    ]);
    expect(seenAt.every((t) => t === at + MS)).toBe(true);
    expect(r.orders.map((o) => [o.orderId, o.finalStatus, o.reason])).toEqual([
      [1, 'rejected', '-1013 Filter failure: PRICE_FILTER'],
      [2, 'rejected', '-1013 Filter failure: LOT_SIZE'],
      [3, 'rejected', '-1013 Filter failure: NOTIONAL'],
      [4, 'filled', undefined],
      [5, 'accepted', undefined],
    ]);
    expect(r.fills).toHaveLength(1);
    // 0.01 BTC bought at 61855.68 at 0.1%: 0.6185568 USDT of fee, taken as 0.00001 BTC
    expect(r.fills[0]!.fee).toBeCloseTo(0.6185568, 12);
    expect(position).toBeCloseTo(0.00999, 15);
  });
});

describe('the built-in strategies on the bundled capture keep to the grid (dist/strategies: npm run build)', () => {
  const ROOT = path.resolve(__dirname, '..');
  const run = (strategy: string, latency: string) =>
    runOnce({ dataset: path.join(ROOT, 'datasets/binance-2024-08-08'), strategy: path.join(ROOT, 'dist/strategies', `${strategy}.js`), params: {}, latency: { latency }, seed: 1, queue: 'risk-averse' });

  // [strategy, orders, of which refused post-only (the engine's own reason, not an exchange rule)]
  for (const [strategy, orders, postOnly] of [
    ['perp-leads-spot', 36, 0],
    ['market-maker', 474, 1],
    ['ma-crossover', 6, 0],
  ] as const) {
    it(`${strategy} at 0 ms: ${orders} orders, none refused by an exchange rule, every price and size on its venue's grid`, async () => {
      const { result: r } = await run(strategy, '0');
      expect(r.orders.length).toBe(orders);
      const rejected = r.orders.filter((o) => o.finalStatus === 'rejected');
      expect(rejected.filter((o) => o.reason !== 'post_only_would_take')).toEqual([]);
      expect(rejected.length).toBe(postOnly);
      for (const o of r.orders) {
        const spec = contractSpec(r.venues[o.venue]!.venue.exchange, r.venues[o.venue]!.venue.symbol);
        if (o.type === 'limit') expect(onGrid(o.price, spec.tickSize!), `order ${o.orderId} price ${o.price}`).toBe(true);
        expect(onGrid(o.size, spec.lotSize!), `order ${o.orderId} size ${o.size}`).toBe(true);
      }
    }, 60_000);
  }
});

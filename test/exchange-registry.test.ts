// The exchange registry and the adapters' trading tables, with numbers worked by hand: contract specs (tick
// and lot sizes as the exchanges publish them), default fees charged on the contract's notional, default
// order rate limits, and the registry's lists.
import { describe, expect, it } from 'vitest';
import { notional, settlementAsset } from '../src/simulation/accounting.js';
import { ADAPTERS, contractSpec, defaultFees, defaultRateLimit, EXCHANGE_IDS, RECORD_EXCHANGES, SIM_EXCHANGES, adapter } from '../src/exchanges/registry.js';
import { EventKind, Flag, RawKind } from '../src/data/types.js';

const MS = 1e6;
const S = 1e9;

describe('registry', () => {
  it('lists each exchange once, with its sides', () => {
    expect(EXCHANGE_IDS).toEqual(['binance-spot', 'binance-usdm', 'binance-coinm', 'bybit-spot', 'bybit-linear', 'okx', 'coinbase']);
    expect(RECORD_EXCHANGES).toEqual(['binance-spot', 'binance-usdm', 'binance-coinm', 'bybit-spot', 'bybit-linear', 'okx']);
    expect(SIM_EXCHANGES).toEqual(['binance-spot', 'binance-usdm', 'binance-coinm', 'bybit-spot', 'bybit-linear', 'okx']);
    expect(new Set(ADAPTERS.map((a) => a.id)).size).toBe(ADAPTERS.length);
    expect(() => adapter('kraken')).toThrow(/no exchange for exchange "kraken"/);
  });

  it('tells markets from symbols', () => {
    expect(adapter('binance-coinm').market('BTCUSD_PERP')).toBe('inverse');
    expect(adapter('bybit-linear').market('BTCUSDT')).toBe('linear');
    expect(adapter('okx').market('BTC-USD-SWAP')).toBe('inverse');
    expect(adapter('okx').market('BTC-USD-250926')).toBe('future');
    expect(() => adapter('okx').market('BTCUSDT')).toThrow(/not an OKX instrument id/);
  });
});

describe('default fees', () => {
  it('charges rate × notional: linear and spot in quote, inverse in coin', () => {
    const usdm = defaultFees('binance-usdm');
    expect(usdm.description).toBe('maker 0.02%, taker 0.05%');
    expect(usdm.fee(notional(contractSpec('binance-usdm', 'BTCUSDT'), 50000, 0.1), false)).toBe(2.5); // 0.05% of 5000 USDT
    expect(usdm.fee(notional(contractSpec('binance-usdm', 'BTCUSDT'), 50000, 0.1), true)).toBe(1); // 0.02% of 5000 USDT
    const coinm = defaultFees('binance-coinm');
    expect(coinm.fee(notional(contractSpec('binance-coinm', 'BTCUSD_PERP'), 50000, 10), false)).toBe(0.00001); // 10 × 100 USD / 50000 = 0.02 BTC; 0.05% = 0.00001 BTC
    expect(coinm.fee(notional(contractSpec('binance-coinm', 'BTCUSD_PERP'), 50000, 10), true)).toBeCloseTo(0.000004, 18);
    expect(defaultFees('binance-spot').fee(notional(contractSpec('binance-spot', 'BTCUSDT'), 60000, 0.5), true)).toBe(30); // 0.1% of 30000
    expect(defaultFees('coinbase').fee(notional(contractSpec('coinbase', 'BTC-USD'), 60000, 0.5), false)).toBe(180); // 0.6% of 30000
    expect(defaultFees('bybit-linear').fee(notional(contractSpec('bybit-linear', 'BTCUSDT'), 60000, 0.5), false)).toBe(16.5); // 0.055% of 30000
    expect(defaultFees('okx', 'BTC-USDT').fee(notional(contractSpec('okx', 'BTC-USDT'), 60000, 0.5), true)).toBe(24); // 0.08% of 30000
    expect(defaultFees('okx', 'BTC-USDT-SWAP').fee(notional(contractSpec('okx', 'BTC-USDT-SWAP'), 60000, 3), false)).toBe(0.9); // 3 × 0.01 BTC × 60000 × 0.05%
  });

  it('uses the published base-tier table', () => {
    const d = (e: string, s?: string) => [defaultFees(e, s).maker, defaultFees(e, s).taker];
    expect(d('binance-spot')).toEqual([0.001, 0.001]);
    expect(d('binance-usdm')).toEqual([0.0002, 0.0005]);
    expect(d('binance-coinm')).toEqual([0.0002, 0.0005]);
    expect(d('bybit-spot')).toEqual([0.001, 0.001]);
    expect(d('bybit-linear')).toEqual([0.0002, 0.00055]);
    expect(d('okx', 'BTC-USDT')).toEqual([0.0008, 0.001]);
    expect(d('okx', 'BTC-USDT-SWAP')).toEqual([0.0002, 0.0005]);
    expect(d('okx', 'BTC-USD-SWAP')).toEqual([0.0002, 0.0005]);
    expect(d('coinbase')).toEqual([0.004, 0.006]);
    expect(defaultFees('bybit-linear').description).toBe('maker 0.02%, taker 0.055%');
    expect(defaultFees('okx', 'ETH-USDT').description).toBe('maker 0.08%, taker 0.1%');
    expect(() => defaultFees('okx')).toThrow(/pass the instId/);
    expect(() => defaultFees('kraken')).toThrow(/no default fees for exchange "kraken"/);
  });

});

describe('default rate limits', () => {
  it('allows N per window; exactly `window` ns after the oldest counted order is allowed', () => {
    const l = defaultRateLimit('binance-spot');
    expect(l.description).toBe('50 per 10s');
    for (let i = 0; i < 50; i++) expect(l.allow(i * MS)).toBe(true); // t = 0, 1ms, ..., 49ms
    expect(l.allow(10 * S - 1)).toBe(false); // 51st inside the window (oldest at 0)
    expect(l.allow(10 * S)).toBe(true); // exactly 10s after the oldest: it has left
    expect(l.allow(10 * S)).toBe(false); // the next oldest is at 1ms
    expect(l.allow(10 * S + MS - 1)).toBe(false);
    expect(l.allow(10 * S + MS)).toBe(true);
  });

  it('checks every window: Binance futures 300 per 10s and 1200 per minute', () => {
    const l = defaultRateLimit('binance-usdm');
    expect(l.description).toBe('300 per 10s and 1200 per 60s');
    const burst = (at: number) => {
      let n = 0;
      for (let i = 0; i < 400; i++) if (l.allow(at + i)) n++;
      return n;
    };
    expect(burst(0)).toBe(300);
    expect(burst(10 * S)).toBe(300);
    expect(burst(20 * S)).toBe(300);
    expect(burst(30 * S)).toBe(300);
    expect(burst(40 * S)).toBe(0); // the 10s window would allow 300; the minute is full
    expect(burst(60 * S)).toBe(300); // the orders at 0..299ns have left the minute
    expect(defaultRateLimit('binance-coinm').description).toBe('300 per 10s and 1200 per 60s');
  });

  it('has the documented defaults', () => {
    expect(defaultRateLimit('bybit-spot').description).toBe('10 per 1s');
    expect(defaultRateLimit('bybit-linear').description).toBe('10 per 1s');
    expect(defaultRateLimit('okx').description).toBe('60 per 2s');
    expect(defaultRateLimit('coinbase').description).toBe('30 per 1s');
    const okx = defaultRateLimit('okx');
    let n = 0;
    for (let i = 0; i < 100; i++) if (okx.allow(i * 10 * MS)) n++; // 100 orders in 1s
    expect(n).toBe(60);
    expect(() => defaultRateLimit('kraken')).toThrow(/no default rate limit/);
  });

});

describe('contract specs', () => {
  it('reads each exchange\'s symbols', () => {
    // The symbol-read part of the spec; the exchange rules it also carries are pinned in test/order-rules.test.ts.
    const c = (e: string, s: string) => {
      const x = contractSpec(e, s);
      const keys = ['kind', 'base', 'quote', 'contractValue', 'tickSize', 'lotSize'] as const;
      return Object.fromEntries(keys.filter((k) => x[k] !== undefined).map((k) => [k, x[k]]));
    };
    expect(c('binance-spot', 'BTCUSDT')).toEqual({ kind: 'spot', base: 'BTC', quote: 'USDT', contractValue: 1, tickSize: 0.01, lotSize: 0.00001 });
    expect(c('binance-spot', 'ETHBTC')).toEqual({ kind: 'spot', base: 'ETH', quote: 'BTC', contractValue: 1 });
    expect(c('binance-spot', 'BTCFDUSD')).toEqual({ kind: 'spot', base: 'BTC', quote: 'FDUSD', contractValue: 1 });
    expect(c('binance-usdm', 'BTCUSDT')).toEqual({ kind: 'linear', base: 'BTC', quote: 'USDT', contractValue: 1, tickSize: 0.1, lotSize: 0.001 });
    expect(c('binance-usdm', 'ETHUSDT_240927')).toEqual({ kind: 'linear', base: 'ETH', quote: 'USDT', contractValue: 1 });
    expect(c('binance-coinm', 'BTCUSD_PERP')).toEqual({ kind: 'inverse', base: 'BTC', quote: 'USD', contractValue: 100, tickSize: 0.1, lotSize: 1 });
    expect(c('binance-coinm', 'ETHUSD_PERP')).toEqual({ kind: 'inverse', base: 'ETH', quote: 'USD', contractValue: 10, tickSize: 0.01, lotSize: 1 });
    expect(c('binance-coinm', 'BTCUSD_240927')).toEqual({ kind: 'inverse', base: 'BTC', quote: 'USD', contractValue: 100 });
    expect(c('bybit-spot', 'ETHUSDC')).toEqual({ kind: 'spot', base: 'ETH', quote: 'USDC', contractValue: 1 });
    expect(c('bybit-linear', 'BTCUSDT')).toEqual({ kind: 'linear', base: 'BTC', quote: 'USDT', contractValue: 1, tickSize: 0.1, lotSize: 0.001 });
    expect(c('bybit-linear', 'BTCPERP')).toEqual({ kind: 'linear', base: 'BTC', quote: 'USDC', contractValue: 1 });
    expect(c('okx', 'BTC-USDT')).toEqual({ kind: 'spot', base: 'BTC', quote: 'USDT', contractValue: 1, tickSize: 0.1, lotSize: 0.00000001 });
    expect(c('okx', 'BTC-USD-SWAP')).toEqual({ kind: 'inverse', base: 'BTC', quote: 'USD', contractValue: 100, tickSize: 0.1, lotSize: 1 });
    expect(c('okx', 'ETH-USD-SWAP')).toEqual({ kind: 'inverse', base: 'ETH', quote: 'USD', contractValue: 10, tickSize: 0.01, lotSize: 1 });
    expect(c('okx', 'BTC-USDT-SWAP')).toEqual({ kind: 'linear', base: 'BTC', quote: 'USDT', contractValue: 0.01, tickSize: 0.1, lotSize: 0.1 });
    expect(c('okx', 'ETH-USDT-SWAP')).toEqual({ kind: 'linear', base: 'ETH', quote: 'USDT', contractValue: 0.1, tickSize: 0.01, lotSize: 0.1 });
    expect(contractSpec('okx', 'SOL-USDT-SWAP', { contractValue: 1 })).toEqual({ kind: 'linear', base: 'SOL', quote: 'USDT', contractValue: 1, feeAsset: 'quote' });
    expect(contractSpec('binance-spot', 'BTCUSDT')).toMatchObject({ minQty: 0.00001, minNotional: 5, feeAsset: 'received' });
    expect(c('coinbase', 'BTC-USD')).toEqual({ kind: 'spot', base: 'BTC', quote: 'USD', contractValue: 1, tickSize: 0.01, lotSize: 0.00000001 });
    expect(settlementAsset(contractSpec('binance-coinm', 'BTCUSD_PERP'))).toBe('BTC');
    expect(settlementAsset(contractSpec('binance-usdm', 'BTCUSDT'))).toBe('USDT');
  });

  it('explains what it cannot read', () => {
    expect(() => contractSpec('okx', 'SOL-USDT-SWAP')).toThrow(/ctVal/);
    expect(() => contractSpec('binance-coinm', 'BTCUSDT')).toThrow(/BTCUSD_PERP/);
    expect(() => contractSpec('binance-spot', 'XYZ')).toThrow(/cannot tell base from quote/);
    expect(() => contractSpec('coinbase', 'BTCUSD')).toThrow(/BTC-USD/);
    expect(() => contractSpec('kraken', 'XBTUSD')).toThrow(/no contract specification/);
    expect(() => contractSpec('binance-spot', 'BTCUSDT', { contractValue: 2 })).toThrow(/spot/);
  });
});


describe('dataset exchange names', () => {
  it('a dataset stores an exchange id outside the format\'s first dictionary, and reads it back', async () => {
    const fs = await import('node:fs');
    const os = await import('node:os');
    const path = await import('node:path');
    const { DatasetWriter } = await import('../src/data/writer.js');
    const { openDataset } = await import('../src/data/reader.js');
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'latencylab-names-'));
    const w = new DatasetWriter(path.join(dir, 'ds'), { source: { test: 'names' } });
    const a = w.stream({ exchange: 'binance-usdm', market: 'linear', symbol: 'BTCUSDT' });
    const b = w.stream({ exchange: 'example-exchange', market: 'spot', symbol: 'BTC-EUR' });
    w.event(a, 1_000n, 900n, EventKind.Trade, 1, 100, 1, 1n, -1n, Flag.MessageEnd);
    w.event(b, 2_000n, 1_900n, EventKind.Trade, -1, 50, 2, 2n, -1n, Flag.MessageEnd);
    w.rawMessage(2_000n, 'example-exchange', 'ws1', 1, RawKind.Received, '{"x":1}');
    w.close();
    const ds = openDataset(path.join(dir, 'ds'));
    expect(ds.streams.map((s) => s.exchange)).toEqual(['binance-usdm', 'example-exchange']);
    const names: string[] = [];
    ds.forEachRawBatch((r) => {
      for (let i = 0; i < r.length; i++) names.push(r.exchange(i));
    });
    expect(names).toEqual(['example-exchange']);
    fs.rmSync(dir, { recursive: true, force: true });
  });
});

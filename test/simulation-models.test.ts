// The simulator's small models, each with numbers worked by hand: the seeded generator, latency models and
// their texts, fees, rate limits and per-venue accounting (with a seeded 1000-fill reconciliation per kind).
import { describe, expect, it } from 'vitest';
import { createRng, normal } from '../src/simulation/random.js';
import {
  ConstantLatency,
  LognormalLatency,
  RecordedLatency,
  Z99,
  buildVenueLatency,
  describeVenueLatency,
  parseLatency,
  parseLatencyDurationNs,
} from '../src/simulation/latency.js';
import { ProportionalFees, parseFees } from '../src/simulation/fees.js';
import { SlidingWindowRateLimiter, parseRateLimit } from '../src/simulation/rate-limit.js';
import { Account, notional, settlementAsset, type AccountFill, type ContractSpec } from '../src/simulation/accounting.js';
import { contractSpec, defaultFees } from '../src/exchanges/registry.js';
import type { OrderSide } from '../src/strategy/api.js';
import type { Rng } from '../src/simulation/types.js';

const MS = 1e6;
const S = 1e9;

describe('random', () => {
  it('pins the first values of sfc32 seeded by splitmix32 (checked against an independent Python port)', () => {
    const r = createRng(42);
    expect([r.nextUint32(), r.nextUint32(), r.nextUint32(), r.nextUint32()]).toEqual([1959603763, 2423114712, 2466933512, 4144396390]);
    expect(createRng(42).next()).toBe(1959603763 / 2 ** 32);
    expect(createRng(0).nextUint32()).toBe(2899526011);
    expect(createRng(1).nextUint32()).toBe(2420951833);
    expect(createRng(-1).nextUint32()).toBe(3513765813);
    // the high word of the seed matters: 2^32 differs from 0
    expect(createRng(2 ** 32).nextUint32()).toBe(694922479);
  });

  it('repeats a sequence for a seed, and next() stays in [0, 1)', () => {
    const a = createRng(2024);
    const b = createRng(2024);
    for (let i = 0; i < 10_000; i++) {
      const x = a.next();
      expect(x).toBe(b.next());
      expect(x >= 0 && x < 1).toBe(true);
    }
  });

  it('refuses seeds that are not safe integers', () => {
    expect(() => createRng(1.5)).toThrow(/whole number/);
    expect(() => createRng(2 ** 60)).toThrow(/whole number/);
  });

  it('draws normals by Box–Muller from the generator alone', () => {
    const r = createRng(7);
    expect([normal(r), normal(r), normal(r)]).toEqual([1.0140795907993756, -0.6856413254426121, 1.5253734205480374]);
    // two uniforms per draw
    const u = createRng(7);
    const u1 = 1 - u.next();
    const u2 = u.next();
    expect(Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2)).toBe(1.0140795907993756);
    // moments over 200k draws
    const g = createRng(123);
    let s = 0;
    let s2 = 0;
    const n = 200_000;
    for (let i = 0; i < n; i++) {
      const z = normal(g);
      s += z;
      s2 += z * z;
    }
    expect(Math.abs(s / n)).toBeLessThan(0.01);
    expect(Math.abs(s2 / n - 1)).toBeLessThan(0.01);
  });
});

describe('latency', () => {
  const rng = createRng(1);

  it('parses constant durations and describes them normalized', () => {
    const cases: [string, number, string][] = [
      ['0', 0, '0'],
      ['250us', 250_000, '250us'],
      ['1ms', 1_000_000, '1ms'],
      ['1.5ms', 1_500_000, '1.5ms'],
      ['2s', 2_000_000_000, '2s'],
      ['1000us', 1_000_000, '1ms'],
      [' 500ns ', 500, '500ns'],
    ];
    for (const [text, ns, description] of cases) {
      const m = parseLatency(text, 'order', rng);
      expect(m).toBeInstanceOf(ConstantLatency);
      expect(m.sample(123, NaN)).toBe(ns);
      expect(m.description).toBe(description);
    }
  });

  it('lognormal: mu = ln(p50), sigma = ln(p99/p50) / z99, pinned draws and percentiles', () => {
    const m = parseLatency('lognormal:p50=1ms,p99=5ms', 'order', createRng(1)) as LognormalLatency;
    expect(m).toBeInstanceOf(LognormalLatency);
    expect(m.description).toBe('lognormal(p50=1ms, p99=5ms)');
    expect(m.mu).toBe(Math.log(1e6));
    expect(m.sigma).toBe((Math.log(5e6) - Math.log(1e6)) / 2.3263478740408408);
    expect(Z99).toBe(2.3263478740408408);
    expect([m.sample(0, NaN), m.sample(0, NaN), m.sample(0, NaN)]).toEqual([464581, 4010764, 824553]);
    // the same draws by hand: exp(mu + sigma × normal), rounded to ns
    const r = createRng(1);
    expect(Math.round(Math.exp(Math.log(1e6) + m.sigma * normal(r)))).toBe(464581);
    // empirical percentiles of 100k draws
    const l = parseLatency('lognormal: p50 = 1ms , p99 = 5ms', 'response', createRng(5));
    const xs = Array.from({ length: 100_000 }, () => l.sample(0, NaN)).sort((a, b) => a - b);
    expect(xs[50_000]).toBe(997482);
    expect(xs[99_000]).toBe(4984410);
    // p99 == p50 is a constant
    const flat = parseLatency('lognormal:p50=2ms,p99=2ms', 'order', createRng(3));
    expect(flat.sample(0, NaN)).toBe(2e6);
  });

  it('recorded feed latency removes the clock offset and clamps at 0', () => {
    const m = parseLatency('recorded', 'feed', rng, -1272.402 * MS);
    expect(m).toBeInstanceOf(RecordedLatency);
    expect(m.description).toBe('recorded (clock offset -1272.402ms removed)');
    expect(m.sample(0, -1272 * MS)).toBe(402000);
    expect(m.sample(0, -1273 * MS)).toBe(0);
    expect(new RecordedLatency(5 * MS).sample(0, 7 * MS)).toBe(2 * MS);
    expect(new RecordedLatency(0).description).toBe('recorded (clock offset 0ms removed)');
    expect(() => m.sample(0, NaN)).toThrow(/no recorded/);
  });

  it('draws the same latencies for the same seed, shared across legs in call order', () => {
    const text = { latency: 'lognormal:p50=1ms,p99=5ms' };
    const draw = (seed: number) => {
      const v = buildVenueLatency(text, createRng(seed), 0);
      return [v.order.new.sample(0, NaN), v.response.sample(0, NaN), v.feed.sample(0, 0), v.order.cancel.sample(0, NaN)];
    };
    expect(draw(9)).toEqual(draw(9));
    expect(draw(9)).not.toEqual(draw(10));
    // one generator serves all legs: the second draw is the generator's second lognormal
    const solo = new LognormalLatency(1e6, 5e6, createRng(9));
    const [first, second] = draw(9);
    expect([solo.sample(), solo.sample()]).toEqual([first, second]);
  });

  it('explains bad latency texts', () => {
    const bad: [string, RegExp][] = [
      ['fast', /unknown form/],
      ['5xs', /unknown unit "xs"/],
      ['1 parsec', /unknown unit "parsec"/],
      ['5', /has no unit/],
      ['-1ms', /cannot be negative/],
      ['', /empty/],
      ['lognormal:p50=5ms,p99=1ms', /p99 \(1ms\) is below p50 \(5ms\)/],
      ['lognormal:p50=1ms', /needs both p50 and p99/],
      ['lognormal:p50=1ms,p99=5ms,p90=2ms', /unknown parameter "p90"/],
      ['lognormal:p50=1ms,p50=2ms,p99=5ms', /p50 given twice/],
      ['lognormal p50=1ms', /write lognormal:p50=/],
      ['lognormal:p50=0,p99=1ms', /p50 must be > 0/],
      ['lognormal:p50=1xs,p99=2ms', /unknown unit "xs"/],
    ];
    for (const [text, re] of bad) expect(() => parseLatency(text, 'order', rng), text).toThrow(re);
    expect(() => parseLatency('recorded', 'order', rng, 0)).toThrow(/only for the feed leg/);
    expect(() => parseLatency('recorded', 'response', rng, 0)).toThrow(/only for the feed leg/);
    expect(() => parseLatency('recorded', 'feed', rng)).toThrow(/clock offset/);
    expect(() => parseLatency('recorded', 'feed', rng, NaN)).toThrow(/clock offset/);
  });

  it('latency durations: every unit, exactly; minutes and hours refused (5m is a likely typo for 5ms)', () => {
    const good: [string, number][] = [
      ['0', 0],
      ['0ms', 0],
      ['7ns', 7],
      ['1.4ns', 1],
      ['250us', 250_000],
      ['250µs', 250_000],
      ['0.5us', 500],
      ['1ms', 1_000_000],
      ['1.5ms', 1_500_000],
      ['0.0001ms', 100],
      ['2s', 2_000_000_000],
      ['2.25s', 2_250_000_000],
      ['300s', 300_000_000_000],
      ['  3 ms ', 3_000_000],
    ];
    for (const [text, ns] of good) expect(parseLatencyDurationNs(text, 'x'), text).toBe(ns);
    const bad: [string, string][] = [
      ['5m', 'x "5m": "m" would be minutes, which is not a latency unit; did you mean 5ms? (units: ns, us, ms, s)'],
      ['1.5min', 'x "1.5min": "min" would be minutes, which is not a latency unit; did you mean 1.5ms? (units: ns, us, ms, s)'],
      ['1h', 'x "1h": hours are not a latency unit (units: ns, us, ms, s)'],
      ['5', 'x "5": has no unit (use ns, us, ms or s, e.g. 5ms)'],
      ['5MS', 'x "5MS": unknown unit "MS" (use ns, us, ms or s)'],
      ['-2ms', 'x "-2ms": a latency cannot be negative'],
      ['1e3ms', 'x "1e3ms": unknown unit "e3ms" (use ns, us, ms or s)'],
      ['.5ms', 'x ".5ms": not a duration (use a number with a unit: 0, 500ns, 250us, 1ms, 1.5ms, 2s)'],
      ['ms', 'x "ms": not a duration (use a number with a unit: 0, 500ns, 250us, 1ms, 1.5ms, 2s)'],
      ['99999999999s', 'x "99999999999s": too large to count in whole nanoseconds'],
    ];
    for (const [text, message] of bad) expect(() => parseLatencyDurationNs(text, 'x'), text).toThrow(message);
    // The same rules inside a model's text, with the setting named.
    expect(() => parseLatency('5m', 'feed', rng)).toThrow('feed latency "5m": "m" would be minutes');
    expect(() => parseLatency('lognormal:p50=1ms,p99=1m', 'order', rng, undefined, '--order-latency')).toThrow('--order-latency p99 "1m": "m" would be minutes');
  });

  it('builds a venue: latency sets all legs, specific options override, default 0', () => {
    const v = buildVenueLatency({ latency: '1ms', cancel: '500us' }, rng, 0);
    expect(v.feed.sample(0, 5 * MS)).toBe(1 * MS);
    expect(v.order.new.sample(0, NaN)).toBe(1 * MS);
    expect(v.order.cancel.sample(0, NaN)).toBe(0.5 * MS);
    expect(v.order.modify.sample(0, NaN)).toBe(1 * MS);
    expect(v.response.sample(0, NaN)).toBe(1 * MS);
    expect(describeVenueLatency(v)).toBe('feed 1ms, order 1ms (cancel 500us), response 1ms');

    const zero = buildVenueLatency({}, rng);
    expect(describeVenueLatency(zero)).toBe('feed 0, order 0, response 0');
    expect(zero.order.cancel.sample(0, NaN)).toBe(0);

    const mixed = buildVenueLatency(
      { latency: '2ms', feed: 'recorded', order: 'lognormal:p50=1ms,p99=5ms', modify: '3ms', cancel: '250us', response: '1.5ms' },
      rng,
      5 * MS,
    );
    expect(describeVenueLatency(mixed)).toBe(
      'feed recorded (clock offset 5ms removed), order lognormal(p50=1ms, p99=5ms) (cancel 250us, modify 3ms), response 1.5ms',
    );
    expect(mixed.feed.sample(0, 8 * MS)).toBe(3 * MS);

    expect(describeVenueLatency(buildVenueLatency({ order: '1ms' }, rng))).toBe('feed 0, order 1ms, response 0');
    expect(() => buildVenueLatency({ latency: 'recorded' }, rng, 0)).toThrow(/order latency "recorded": recorded latency exists only for the feed leg/);
    expect(describeVenueLatency(buildVenueLatency({ latency: '1ms', feed: 'recorded' }, rng, -2 * MS))).toBe(
      'feed recorded (clock offset -2ms removed), order 1ms, response 1ms',
    );
  });
});

describe('fees', () => {
  it('parses overrides; a negative maker rate is a rebate', () => {
    const f = parseFees('maker=0.0002,taker=0.0005');
    expect([f.maker, f.taker]).toEqual([0.0002, 0.0005]);
    const units = parseFees('maker=0.02%, taker=5bp');
    expect([units.maker, units.taker]).toEqual([0.0002, 0.0005]);
    expect(parseFees('maker=1e-4,taker=0.0005').maker).toBe(0.0001);
    const rebate = parseFees('maker=-0.0001,taker=0.0005');
    expect(rebate.description).toBe('maker -0.01%, taker 0.05%');
    expect(rebate.fee(10000, true)).toBe(-1);
    expect(rebate.fee(10000, false)).toBe(5);
    expect(parseFees('taker=0.0007', { maker: 0.0002, taker: 0.0005 }).description).toBe('maker 0.02%, taker 0.07%');
    expect(() => parseFees('maker=0.0002')).toThrow(/give both maker and taker/);
    expect(() => parseFees('maker=0.1,taker=0.1')).toThrow(/maker = 10% is implausible/);
    expect(() => parseFees('maker=0,taker=-0.001')).toThrow(/negative taker/);
    expect(() => parseFees('maker=abc,taker=0')).toThrow(/not a number/);
    expect(() => parseFees('rebate=1')).toThrow(/unknown name "rebate"/);
    expect(() => parseFees('maker=0.0002,maker=0.0003,taker=0')).toThrow(/maker given twice/);
    expect(new ProportionalFees(0, 0).fee(1, true)).toBe(0);
  });
});

describe('rate limits', () => {
  it('refused orders are not counted', () => {
    const l = parseRateLimit('2/1s');
    expect([l.allow(0), l.allow(0.1 * S), l.allow(0.5 * S), l.allow(0.9 * S), l.allow(1 * S), l.allow(1.1 * S), l.allow(1.2 * S)]).toEqual([
      true,
      true,
      false,
      false,
      true,
      true,
      false,
    ]);
  });

  it('parses texts, refuses time going backwards, and keeps fixed memory', () => {
    expect(parseRateLimit('300/10s,1200/1m').description).toBe('300 per 10s and 1200 per 60s');
    const none = parseRateLimit('none');
    expect(none.description).toBe('none');
    for (let i = 0; i < 10_000; i++) expect(none.allow(0)).toBe(true);
    expect(() => parseRateLimit('50 per 10s')).toThrow(/not orders\/window/);
    expect(() => parseRateLimit('0/1s')).toThrow(/>= 1/);
    expect(() => parseRateLimit('5/0s')).toThrow(/> 0/);
    expect(() => parseRateLimit('5/10')).toThrow(/no unit/);
    const l = new SlidingWindowRateLimiter([{ limit: 3, windowNs: 100 }]);
    expect(l.allow(50)).toBe(true);
    expect(() => l.allow(49)).toThrow(/backwards/);
    // a million requests through a 3-slot ring: allowed exactly 3 per 100 ns
    const r = new SlidingWindowRateLimiter([{ limit: 3, windowNs: 100 }]);
    let allowed = 0;
    for (let t = 0; t < 1_000_000; t++) if (r.allow(t)) allowed++;
    expect(allowed).toBe(30_000);
  });
});

const fill = (side: OrderSide, price: number, size: number, fee: number, maker = false): AccountFill => ({ side, price, size, fee, maker });
const BUY = 1 as const;
const SELL = -1 as const;

describe('accounting: hand-worked', () => {
  it('linear: buy, add, partial close, flip, close', () => {
    const a = new Account(contractSpec('binance-usdm', 'BTCUSDT'), { USDT: 10000 });
    a.applyFill(fill(BUY, 100, 2, 0.25));
    expect([a.position, a.averageEntry, a.realizedPnl, a.cash]).toEqual([2, 100, 0, 9999.75]);
    a.applyFill(fill(BUY, 110, 2, 0.25)); // add: entry (2×100 + 2×110) / 4
    expect([a.position, a.averageEntry, a.realizedPnl, a.cash]).toEqual([4, 105, 0, 9999.5]);
    a.applyFill(fill(SELL, 120, 1, 0.125)); // partial close: 1 × (120 - 105)
    expect([a.position, a.averageEntry, a.realizedPnl, a.cash]).toEqual([3, 105, 15, 10014.375]);
    expect(a.mark(130)).toBe(75); // 3 × (130 - 105)
    expect(a.equity(130)).toBe(10089.375);
    a.applyFill(fill(SELL, 100, 5, 0.5)); // flip: close 3 × (100 - 105) = -15, open 2 short at 100
    expect([a.position, a.averageEntry, a.realizedPnl, a.cash]).toEqual([-2, 100, 0, 9998.875]);
    expect(a.mark(90)).toBe(20); // -2 × (90 - 100)
    a.applyFill(fill(BUY, 90, 2, 0.25)); // close: +20
    expect([a.position, a.averageEntry, a.realizedPnl, a.cash, a.fees]).toEqual([0, 0, 20, 10018.625, 1.375]);
    expect(a.equity(12345)).toBe(10018.625);
    expect(a.balances()).toEqual({ USDT: 10018.625 });
    expect(a.positionView(95)).toEqual({ size: 0, averageEntry: 0, realizedPnl: 20, unrealizedPnl: 0, fees: 1.375 });
    expect(a.summary).toEqual({ fills: 5, makerFills: 0, bought: 4 + 2, sold: 6, notional: 200 + 220 + 120 + 500 + 180, fees: 1.375 });
    expect(a.reconcile().ok).toBe(true);
  });

  it('linear in contracts (OKX BTC-USDT-SWAP, 0.01 BTC each)', () => {
    const a = new Account(contractSpec('okx', 'BTC-USDT-SWAP'), { USDT: 1000 });
    const fees = defaultFees('okx', 'BTC-USDT-SWAP');
    a.applyFill(fill(BUY, 60000, 3, fees.fee(notional(a.spec, 60000, 3), false))); // 0.03 BTC, fee 0.9
    a.applyFill(fill(SELL, 61000, 3, fees.fee(notional(a.spec, 61000, 3), true))); // fee 0.0002 × 1830 = 0.366
    expect(a.realizedPnl).toBe(30); // 3 × 0.01 × 1000
    expect(a.fees).toBeCloseTo(1.266, 12);
    expect(a.cash).toBeCloseTo(1028.734, 10);
    expect(a.position).toBe(0);
  });

  it('spot: balances in base and quote, fee in quote', () => {
    // Binance takes a spot buy's fee in BTC (test/order-rules.test.ts); here every fee is in quote.
    const a = new Account({ ...contractSpec('binance-spot', 'BTCUSDT'), feeAsset: 'quote' }, { USDT: 1000 });
    expect(a.balances()).toEqual({ BTC: 0, USDT: 1000 });
    a.applyFill(fill(BUY, 100, 2, 0.25));
    expect([a.baseBalance, a.cash, a.position, a.averageEntry]).toEqual([2, 799.75, 2, 100]);
    a.applyFill(fill(BUY, 110, 2, 0.25));
    expect([a.baseBalance, a.cash, a.position, a.averageEntry]).toEqual([4, 579.5, 4, 105]);
    a.applyFill(fill(SELL, 120, 1, 0.125));
    expect([a.baseBalance, a.cash, a.realizedPnl]).toEqual([3, 699.375, 15]);
    expect(a.mark(130)).toBe(75);
    expect(a.equity(130)).toBe(1089.375); // 699.375 + 3 × 130
    a.applyFill(fill(SELL, 100, 5, 0.5)); // sells more than held: the base balance goes negative
    expect([a.baseBalance, a.cash, a.position, a.averageEntry, a.realizedPnl]).toEqual([-2, 1198.875, -2, 100, 0]);
    a.applyFill(fill(BUY, 90, 2, 0.25));
    expect([a.baseBalance, a.cash, a.position, a.averageEntry, a.realizedPnl, a.fees]).toEqual([0, 1018.625, 0, 0, 20, 1.375]);
    expect(a.equity(500)).toBe(1018.625);
    expect(a.balances()).toEqual({ BTC: 0, USDT: 1018.625 });
    expect(a.reconcile().ok).toBe(true);
  });

  it('spot with an initial base holding values it at mid', () => {
    const a = new Account(contractSpec('coinbase', 'BTC-USD'), { BTC: 0.5, USD: 100 });
    expect(a.equity(200)).toBe(200);
    a.applyFill(fill(SELL, 200, 0.5, 0.5, true));
    expect(a.balances()).toEqual({ BTC: 0, USD: 199.5 });
    expect(a.position).toBe(-0.5); // net sold since the start
    expect(a.equity(1e6)).toBe(199.5);
    expect(() => new Account(contractSpec('coinbase', 'BTC-USD'), { USDT: 1 })).toThrow(/holds BTC and USD/);
  });

  it('inverse: harmonic entry, PnL and fees in coin', () => {
    const spec = contractSpec('binance-coinm', 'BTCUSD_PERP'); // 100 USD per contract
    const fees = defaultFees('binance-coinm');
    const a = new Account(spec, { BTC: 1 });
    const f = (side: OrderSide, price: number, size: number) => fill(side, price, size, fees.fee(notional(spec, price, size), false));
    a.applyFill(f(BUY, 20000, 10)); // 1000 USD = 0.05 BTC; fee 0.000025 BTC
    expect([a.position, a.averageEntry]).toEqual([10, 20000]);
    expect(a.fees).toBe(0.000025);
    expect(a.cash).toBe(0.999975);
    a.applyFill(f(BUY, 30000, 10)); // entry 20 / (10/20000 + 10/30000) = 24000
    expect(a.position).toBe(20);
    expect(a.averageEntry).toBe(24000);
    a.applyFill(f(SELL, 40000, 5)); // 500 × (1/24000 - 1/40000) = 1/120 BTC
    expect(a.realizedPnl).toBeCloseTo(1 / 120, 15);
    expect(a.position).toBe(15);
    expect(a.mark(48000)).toBeCloseTo(0.03125, 15); // 1500 × (1/24000 - 1/48000)
    a.applyFill(f(SELL, 30000, 25)); // flip: close 15: 1500 × (1/24000 - 1/30000) = 0.0125; 10 short at 30000
    expect(a.realizedPnl).toBeCloseTo(1 / 120 + 0.0125, 15);
    expect([a.position, a.averageEntry]).toEqual([-10, 30000]);
    expect(a.mark(25000)).toBeCloseTo(1 / 150, 15); // -1000 × (1/30000 - 1/25000)
    a.applyFill(f(BUY, 25000, 10)); // close: 1/150
    expect([a.position, a.averageEntry]).toEqual([0, 0]);
    expect(a.realizedPnl).toBeCloseTo(0.0275, 15); // 1/120 + 1/80 + 1/150
    // fees: 0.05% of 0.05 + 1/30 + 0.0125 + 1/12 + 0.04 BTC = 0.05% of 0.21916... BTC
    const feeTotal = 0.0005 * (0.05 + 1 / 30 + 0.0125 + 1 / 12 + 0.04);
    expect(a.fees).toBeCloseTo(feeTotal, 15);
    expect(a.cash).toBeCloseTo(1 + 0.0275 - feeTotal, 15);
    expect(a.equity(99999)).toBe(a.cash);
    expect(Object.keys(a.balances())).toEqual(['BTC']);
    expect(a.reconcile().ok).toBe(true);
  });

  it('refuses malformed fills', () => {
    const a = new Account(contractSpec('binance-usdm', 'BTCUSDT'));
    expect(() => a.applyFill(fill(BUY, 0, 1, 0))).toThrow(/price/);
    expect(() => a.applyFill(fill(BUY, 1, -1, 0))).toThrow(/size/);
    expect(() => a.applyFill(fill(BUY, 1, 1, NaN))).toThrow(/fee/);
    expect(() => a.applyFill({ side: 0 as OrderSide, price: 1, size: 1, fee: 0, maker: false })).toThrow(/side/);
    expect(a.summary.fills).toBe(0);
  });
});

/** 1000 seeded fills around a random walk: sizes on a 0.001 grid, often closing the position exactly. */
function randomFills(rng: Rng, spec: ContractSpec, fees: ProportionalFees, n: number): { fills: AccountFill[]; lastPrice: number } {
  const fills: AccountFill[] = [];
  let price = 30000;
  let pos = 0;
  for (let i = 0; i < n; i++) {
    price = Math.round(price * (1 + (rng.next() - 0.5) * 0.004) * 10) / 10;
    const side: OrderSide = rng.next() < 0.5 ? 1 : -1;
    const u = rng.next();
    let size = spec.kind === 'inverse' ? 1 + Math.floor(rng.next() * 50) : (1 + Math.floor(rng.next() * 2000)) / 1000;
    if (u < 0.15 && pos !== 0) size = Math.abs(pos); // exactly close (the side may open or double instead)
    const maker = rng.next() < 0.6;
    fills.push(fill(side, price, size, fees.fee(notional(spec, price, size), maker), maker));
    pos += side * size;
  }
  return { fills, lastPrice: price };
}

describe('accounting: 1000 seeded fills reconcile', () => {
  // The fourth field overrides the spec's fee asset: binance-spot runs once with the fee in quote and once as
  // Binance charges it (a buy's fee in BTC, a positive fee only).
  const cases: [string, string, Record<string, number>, ('quote' | 'received')?][] = [
    ['binance-spot', 'BTCUSDT', { BTC: 1, USDT: 100000 }, 'quote'],
    ['binance-spot', 'BTCUSDT', { BTC: 1, USDT: 100000 }, 'received'],
    ['binance-usdm', 'BTCUSDT', { USDT: 100000 }],
    ['okx', 'BTC-USDT-SWAP', { USDT: 100000 }],
    ['binance-coinm', 'BTCUSD_PERP', { BTC: 3 }],
  ];
  for (const [exchange, symbol, initial, feeAsset] of cases) {
    it(`${exchange} ${symbol}${feeAsset ? `, fee asset ${feeAsset}` : ''}`, () => {
      const spec = { ...contractSpec(exchange, symbol), ...(feeAsset ? { feeAsset } : {}) };
      // A buy's fee taken in base: that base is sold at the fill price (docs/matching.md, "Exchange rules").
      const feeBase = (f: { side: number; price: number; fee: number }) => (spec.feeAsset === 'received' && f.side > 0 && f.fee > 0 ? f.fee / f.price : 0);
      const fees = parseFees('maker=-0.0001,taker=0.0005');
      const { fills, lastPrice } = randomFills(createRng(20240808), spec, fees, 1000);
      const a = new Account(spec, initial);
      let flats = 0;
      for (const f of fills) {
        a.applyFill(f);
        if (a.position === 0) flats++;
      }
      const rec = a.reconcile();
      expect(rec.ok).toBe(true);
      // The sequence passes through flat often; with fees taken in base a position is rarely exactly 0.
      if (spec.feeAsset === 'received') expect(flats).toBe(0);
      else expect(flats).toBeGreaterThan(20);

      // Independent checks of the arithmetic (float tolerance): PnL equals the fills' cash flows marked at mid.
      const mid = lastPrice;
      const cv = spec.contractValue;
      let flows = 0;
      let feeSum = 0;
      let pos = 0;
      for (const f of fills) {
        flows += spec.kind === 'inverse' ? f.side * f.size * cv * (1 / f.price - 1 / mid) : f.side * f.size * cv * (mid - f.price);
        flows -= feeBase(f) * (mid - f.price);
        feeSum += f.fee;
        pos += f.side * f.size - feeBase(f);
      }
      const scale = spec.kind === 'inverse' ? 1 : 1e5;
      expect(Math.abs(a.position - pos)).toBeLessThan(1e-9);
      expect(Math.abs(a.fees - feeSum)).toBeLessThan(1e-9 * scale);
      expect(Math.abs(a.realizedPnl + a.mark(mid) - flows)).toBeLessThan(1e-9 * scale);
      const start = spec.kind === 'spot' ? initial[spec.quote]! + initial[spec.base]! * mid : initial[settlementAsset(spec)]!;
      expect(Math.abs(a.equity(mid) - (start + flows - feeSum))).toBeLessThan(1e-9 * scale);
      expect(a.summary.fills).toBe(1000);
      expect(a.summary.makerFills).toBe(fills.filter((f) => f.maker).length);
      // reconcile() recomputes with formulas of its own: the two agree up to float rounding.
      for (const [what, d] of Object.entries(rec.differences)) expect(Math.abs(d), what).toBeLessThan(1e-8 * scale);
    });
  }

  it('reports a difference when the kept state does not follow from the fills', () => {
    const a = new Account(contractSpec('binance-usdm', 'BTCUSDT'), { USDT: 1000 });
    a.applyFill(fill(BUY, 100, 1, 0.1));
    a.applyFill(fill(SELL, 101, 1, 0.1));
    expect(a.reconcile().ok).toBe(true);
    (a as unknown as { s: { cash: number } }).s.cash += 0.5; // corrupt the running state
    const rec = a.reconcile();
    expect(rec.ok).toBe(false);
    expect(rec.differences.cash).toBe(0.5);
    expect(rec.differences.position).toBe(0);
  });
});

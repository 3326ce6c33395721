// The account against the fill list. Each check recomputes cash, position, fees, average entry and realized
// PnL from the fills with plain formulas written here, apart from src/simulation/accounting.ts (which keeps
// them one fill at a time, and whose reconcile() has formulas of its own): on hand-made fills with exact
// numbers for spot, linear and inverse, and on the fills of real replays of the bundled capture.
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { Account } from '../src/simulation/accounting.js';
import { runOnce } from '../src/engine/session.js';
import type { ReplayResult } from '../src/engine/replay.js';

type Kind = 'spot' | 'linear' | 'inverse';

interface PlainFill {
  side: 1 | -1;
  price: number;
  size: number;
  fee: number;
}

interface Expected {
  position: number;
  fees: number;
  /** Spot: quote balance; derivatives: settlement balance (quote for linear, coin for inverse). */
  cash: number;
  /** Spot only: base balance. */
  base: number;
  averageEntry: number;
  realizedPnl: number;
}

/**
 * The account a fill list implies, fill by fill with plain arithmetic (cv = contract value):
 *   position = Σ side·size, fees = Σ fee
 *   average entry: the mean price of the fills that opened or added to the open position (inverse: the
 *     harmonic mean, since a contract's coin value is cv / price); reducing leaves it, a flip restarts it
 *   realized PnL of each closing part against that entry: linear/spot closed·cv·(exit - entry)·dir,
 *     inverse closed·cv·(1/entry - 1/exit)·dir
 *   spot cash = initial - Σ side·price·size - Σ fee, base = initial + Σ side·size
 *   derivatives cash = initial + realized - fees
 */
function accountFromFills(kind: Kind, cv: number, initialCash: number, initialBase: number, fills: PlainFill[]): Expected {
  let position = 0;
  let fees = 0;
  let spent = 0;
  let realized = 0;
  let lots: { size: number; price: number }[] = []; // the fills that opened or added to the open position
  const meanEntry = () => {
    const size = lots.reduce((a, l) => a + l.size, 0);
    return kind === 'inverse' ? size / lots.reduce((a, l) => a + l.size / l.price, 0) : lots.reduce((a, l) => a + l.size * l.price, 0) / size;
  };
  for (const f of fills) {
    fees += f.fee;
    spent += f.side * f.price * f.size;
    if (position === 0 || Math.sign(position) === f.side) {
      lots.push({ size: f.size, price: f.price });
    } else {
      const dir = Math.sign(position);
      const closed = Math.min(f.size, Math.abs(position));
      const entry = meanEntry();
      realized += kind === 'inverse' ? dir * closed * cv * (1 / entry - 1 / f.price) : dir * closed * cv * (f.price - entry);
      if (f.size > Math.abs(position)) lots = [{ size: f.size - Math.abs(position), price: f.price }];
      else if (f.size === Math.abs(position)) lots = [];
      else lots = [{ size: Math.abs(position) - f.size, price: entry }];
    }
    position += f.side * f.size;
  }
  return {
    position,
    fees,
    cash: kind === 'spot' ? initialCash - spent - fees : initialCash + realized - fees,
    base: kind === 'spot' ? initialBase + position : 0,
    averageEntry: lots.length === 0 ? 0 : meanEntry(),
    realizedPnl: realized,
  };
}

function accountOf(a: Account): Expected {
  return { position: a.position, fees: a.fees, cash: a.cash, base: a.baseBalance, averageEntry: a.averageEntry, realizedPnl: a.realizedPnl };
}

const buy = (price: number, size: number, fee: number): PlainFill => ({ side: 1, price, size, fee });
const sell = (price: number, size: number, fee: number): PlainFill => ({ side: -1, price, size, fee });

// Buy 2, add 2 (entry 105), reduce 1 at 120 (+15), sell 5 at 100 (close 3 at -15, open 2 short at 100),
// buy back 2 at 90 (+20). Every number is a binary fraction, so the results are exact.
const ROUND_TRIP = [buy(100, 2, 0.5), buy(110, 2, 0.5), sell(120, 1, 0.25), sell(100, 5, 1), buy(90, 2, 0.5)];

describe('the account against an independent computation from hand-made fills', () => {
  it('linear (quote-settled, size in base): exact cash, position, fees, entry and realized PnL', () => {
    const a = new Account({ kind: 'linear', base: 'BTC', quote: 'USDT', contractValue: 1 }, { USDT: 10000 });
    const states: Expected[] = [];
    for (const f of ROUND_TRIP) {
      a.applyFill({ ...f, maker: false });
      states.push(accountOf(a));
    }
    // The hand-worked states: realized 0, 0, 15, 0 (15 - 15), 20; cash = 10000 + realized - fees so far.
    expect(states).toEqual([
      { position: 2, fees: 0.5, cash: 9999.5, base: 0, averageEntry: 100, realizedPnl: 0 },
      { position: 4, fees: 1, cash: 9999, base: 0, averageEntry: 105, realizedPnl: 0 },
      { position: 3, fees: 1.25, cash: 10013.75, base: 0, averageEntry: 105, realizedPnl: 15 },
      { position: -2, fees: 2.25, cash: 9997.75, base: 0, averageEntry: 100, realizedPnl: 0 },
      { position: 0, fees: 2.75, cash: 10017.25, base: 0, averageEntry: 0, realizedPnl: 20 },
    ]);
    ROUND_TRIP.forEach((_, i) => expect(states[i]).toEqual(accountFromFills('linear', 1, 10000, 0, ROUND_TRIP.slice(0, i + 1))));
    expect(a.reconcile().ok).toBe(true);
  });

  it('linear in contracts (0.01 BTC each): PnL and cash scale by the contract value', () => {
    const fills = [buy(60000, 3, 0.9), sell(61000, 3, 0.375)];
    const a = new Account({ kind: 'linear', base: 'BTC', quote: 'USDT', contractValue: 0.01 }, { USDT: 1000 });
    for (const f of fills) a.applyFill({ ...f, maker: false });
    expect(accountFromFills('linear', 0.01, 1000, 0, fills)).toEqual({ position: 0, fees: 1.275, cash: 1028.725, base: 0, averageEntry: 0, realizedPnl: 30 });
    expect(a.realizedPnl).toBe(30); // 3 × 0.01 × (61000 - 60000)
    expect(a.fees).toBe(1.275);
    expect(a.cash).toBe(1028.725); // 1000 + 30 - 1.275
    expect(a.position).toBe(0);
  });

  it('spot: quote balance pays price × size plus the fee, base follows the position', () => {
    const a = new Account({ kind: 'spot', base: 'BTC', quote: 'USDT', contractValue: 1 }, { USDT: 1000, BTC: 1 });
    const cash: number[] = [];
    for (const f of ROUND_TRIP) {
      a.applyFill({ ...f, maker: true });
      cash.push(a.cash);
    }
    // 1000 - 200.5, - 220.5, + 119.75, + 499, - 180.5
    expect(cash).toEqual([799.5, 579, 698.75, 1197.75, 1017.25]);
    expect(accountOf(a)).toEqual({ position: 0, fees: 2.75, cash: 1017.25, base: 1, averageEntry: 0, realizedPnl: 20 });
    expect(accountOf(a)).toEqual(accountFromFills('spot', 1, 1000, 1, ROUND_TRIP));
    expect(a.balances()).toEqual({ BTC: 1, USDT: 1017.25 });
    expect(a.reconcile().ok).toBe(true);
  });

  it('inverse (100 USD contracts, coin-settled): harmonic entry, realized and cash in coin', () => {
    const fills = [buy(20000, 10, 0.0001), buy(30000, 10, 0.0001), sell(40000, 5, 0.00005), sell(30000, 25, 0.0002), buy(25000, 10, 0.0001)];
    const a = new Account({ kind: 'inverse', base: 'BTC', quote: 'USD', contractValue: 100 }, { BTC: 1 });
    const entries: number[] = [];
    for (const f of fills) {
      a.applyFill({ ...f, maker: false });
      entries.push(a.averageEntry);
    }
    // 20 / (10/20000 + 10/30000) = 24000; reduce keeps it; the flip opens 10 short at 30000; flat.
    expect(entries[0]).toBe(20000);
    expect(entries[1]).toBeCloseTo(24000, 9);
    expect(entries[2]).toBeCloseTo(24000, 9);
    expect(entries.slice(3)).toEqual([30000, 0]);
    // Realized: 500 × (1/24000 - 1/40000) + 1500 × (1/24000 - 1/30000) + 1000 × (1/25000 - 1/30000)
    //         = 1/120 + 1/80 + 1/150 = 0.0275 BTC; fees 0.00055 BTC.
    const plain = accountFromFills('inverse', 100, 1, 0, fills);
    expect(plain.realizedPnl).toBeCloseTo(0.0275, 15);
    expect(plain.fees).toBeCloseTo(0.00055, 18);
    expect(plain.cash).toBeCloseTo(1.02695, 15);
    expect(a.position).toBe(0);
    expect(a.realizedPnl).toBeCloseTo(plain.realizedPnl, 15);
    expect(a.fees).toBeCloseTo(plain.fees, 18);
    expect(a.cash).toBeCloseTo(plain.cash, 15);
    expect(a.reconcile().ok).toBe(true);
  });
});

describe('reconcile() on its own', () => {
  it('finds a kept quantity that does not follow from the fills, for each kind', () => {
    const kinds: [Kind, Record<string, number>][] = [
      ['spot', { USDT: 1000 }],
      ['linear', { USDT: 1000 }],
      ['inverse', { BTC: 1 }],
    ];
    for (const [kind, initial] of kinds) {
      const a = new Account({ kind, base: 'BTC', quote: kind === 'inverse' ? 'USD' : 'USDT', contractValue: 1 }, initial);
      for (const f of ROUND_TRIP) a.applyFill({ ...f, maker: false });
      expect(a.reconcile().ok, kind).toBe(true);
      // The running state is private: reach it to play a bookkeeping bug that charged one fee twice.
      const state = (a as unknown as { s: { cash: number; fees: number } }).s;
      state.cash -= 0.25;
      const rec = a.reconcile();
      expect(rec.ok, kind).toBe(false);
      expect(rec.differences.cash, kind).toBeCloseTo(-0.25, 9);
      state.cash += 0.25;
      state.fees += 0.25;
      expect(a.reconcile().ok, kind).toBe(false);
      expect(a.reconcile().differences.fees, kind).toBe(0.25);
    }
  });
});

// ---------------------------------------------------------------------------------------------------------
// Real replays: the venues' results against the replay's own fill list.

const ROOT = path.resolve(import.meta.dirname, '..');
const BUNDLED = path.join(ROOT, 'datasets/binance-2024-08-08');
/** The built-in strategies are loaded compiled (npm test compiles before running; so does npm ci). */
const strategyFile = (name: string) => path.join(ROOT, 'dist/strategies', `${name}.js`);

/** Contract kinds of the bundled capture's venues, written out here rather than looked up. */
const KIND_OF: Record<string, Kind> = { 'binance-spot': 'spot', 'binance-usdm': 'linear' };

function checkVenuesAgainstFills(r: ReplayResult): number {
  let checked = 0;
  r.venues.forEach((v, venue) => {
    const kind = KIND_OF[v.venue.exchange]!;
    expect(kind, v.venue.exchange).toBeDefined();
    const mine = r.fills.filter((f) => f.venue === venue);
    // Binance spot takes a buy's fee from the BTC bought: as plain fills, a sale of fee / price BTC at the
    // fill price whose proceeds pay the fee.
    const baseFees = v.venue.exchange === 'binance-spot';
    const fills: PlainFill[] = mine.flatMap((f): PlainFill[] =>
      baseFees && f.side > 0
        ? [
            { side: 1, price: f.price, size: f.size, fee: f.fee },
            { side: -1, price: f.price, size: f.fee / f.price, fee: 0 },
          ]
        : [{ side: f.side as 1 | -1, price: f.price, size: f.size, fee: f.fee }],
    );
    checked += mine.length;
    const plain = accountFromFills(kind, 1, 0, 0, fills);
    const turnover = fills.reduce((a, f) => a + f.price * f.size, 0) + 1;
    const money = 1e-9 * turnover;
    const label = `${v.venue.exchange} ${v.venue.symbol}`;
    expect(v.fills, label).toBe(mine.length);
    expect(v.makerFills, label).toBe(r.fills.filter((f) => f.venue === venue && f.maker).length);
    expect(Math.abs(v.position - plain.position), label).toBeLessThan(1e-9);
    expect(Math.abs(v.fees - plain.fees), label).toBeLessThan(money);
    expect(Math.abs(v.realizedPnl - plain.realizedPnl), label).toBeLessThan(money);
    expect(Math.abs(v.averageEntry - plain.averageEntry), label).toBeLessThan(1e-6);
    // Net PnL at the last mid, from cash flows alone: each fill gained (mid - price) per unit bought, less fees.
    const net = fills.reduce((a, f) => a + f.side * f.size * (v.lastMid - f.price) - f.fee, 0);
    expect(Math.abs(v.netPnl - net), label).toBeLessThan(money);
    expect(v.reconcile.ok, label).toBe(true);
  });
  return checked;
}

describe('the account against the fill list of real replays (bundled capture)', () => {
  const run = (strategy: string) =>
    runOnce({ dataset: BUNDLED, strategy: strategyFile(strategy), params: {}, latency: { latency: '1ms' }, seed: 1, queue: 'risk-averse' });
  let mm: ReplayResult;
  let pls: ReplayResult;
  beforeAll(async () => {
    mm = (await run('market-maker')).result;
    pls = (await run('perp-leads-spot')).result;
  }, 120_000);

  it('market-maker: position, fees, realized and net PnL follow from its fills', () => {
    expect(checkVenuesAgainstFills(mm)).toBeGreaterThan(10);
  });

  it('perp-leads-spot: position, fees, realized and net PnL follow from its fills, on both venues', () => {
    expect(pls.venues.map((v) => v.venue.exchange).sort()).toEqual(['binance-spot', 'binance-usdm']);
    expect(checkVenuesAgainstFills(pls)).toBeGreaterThan(10);
  });
});

// Trading fees: a maker rate and a taker rate, each a fraction of the fill's notional (accounting.ts
// notional(): quote for spot/linear, the coin for inverse). fee = rate × notional; a negative rate is a
// rebate (maker only). Each exchange's default rates are in its adapter (src/exchanges/<exchange>/).

import type { FeeModel } from './types.js';

/**
 * Which asset an exchange takes a fill's fee from:
 *   quote     always the quote / settlement currency (derivatives; Coinbase spot)
 *   received  the asset the fill gives the account: a buy pays in base, a sell in quote (Binance spot without
 *             BNB, OKX spot, Bybit spot as we read their docs; see docs/matching.md "Exchange rules")
 * Fee models price every fee in quote (rate × notional); the rule only says where it is taken from.
 */
export type FeeAssetRule = 'quote' | 'received';

/**
 * The part of a fill's fee taken from the base asset: `feeInQuote / price` for a buy under 'received',
 * else 0 (a rebate, a negative fee, is paid in quote: how exchanges pay spot rebates is not modelled). The fee keeps its quote value (the base amount valued at the fill price), so PnL stays in quote.
 * Example: a buy of 0.01 BTC at 60000 at 0.1% has fee 0.6 USDT = 0.00001 BTC, and leaves 0.00999 BTC.
 */
export function baseFee(rule: FeeAssetRule | undefined, side: number, price: number, feeInQuote: number): number {
  return rule === 'received' && side > 0 && feeInQuote > 0 ? feeInQuote / price : 0;
}

/** The asset and amount a fill's fee is charged in (`feeInQuote` as the fee model priced it). */
export function feeCharge(
  rule: FeeAssetRule | undefined,
  assets: { base: string; settlement: string },
  side: number,
  price: number,
  feeInQuote: number,
): { asset: string; amount: number } {
  const b = baseFee(rule, side, price, feeInQuote);
  return b !== 0 ? { asset: assets.base, amount: b } : { asset: assets.settlement, amount: feeInQuote };
}

export interface FeeRates {
  /** Fraction of notional, e.g. 0.0002 = 0.02%; negative = rebate. */
  maker: number;
  taker: number;
}

/** A rate as a percentage without float noise: 0.00055 -> "0.055%". */
export function formatRate(rate: number): string {
  return `${+(rate * 100).toPrecision(12)}%`;
}

/** fee = rate × notional, maker or taker rate by the fill's liquidity. */
export class ProportionalFees implements FeeModel {
  readonly description: string;
  constructor(
    readonly maker: number,
    readonly taker: number,
  ) {
    if (!Number.isFinite(maker) || !Number.isFinite(taker)) throw new Error(`fee rates must be finite numbers, got maker=${maker}, taker=${taker}`);
    this.description = `maker ${formatRate(maker)}, taker ${formatRate(taker)}`;
  }
  fee(notional: number, maker: boolean): number {
    return (maker ? this.maker : this.taker) * notional;
  }
}

/** Largest accepted |rate|: 5% of notional. Guards against "0.02" meant as a percentage. */
const MAX_RATE = 0.05;

function parseRate(key: string, raw: string, text: string): number {
  const m = /^\s*([+-]?\d+(?:\.\d+)?)(?:e([+-]?\d+))?\s*(%|bps|bp)?\s*$/i.exec(raw);
  if (!m) throw new Error(`fees "${text}": ${key}="${raw}" is not a number (write a fraction like 0.0002, or 0.02%, or 2bp)`);
  // Shift the decimal exponent in the text, so that "0.02%" gives exactly the double nearest 0.0002.
  const shift = m[3] === '%' ? -2 : m[3] ? -4 : 0;
  const rate = Number(`${m[1]}e${Number(m[2] ?? 0) + shift}`);
  if (Math.abs(rate) > MAX_RATE) {
    throw new Error(`fees "${text}": ${key} = ${formatRate(rate)} is implausible (rates are fractions: 0.0002 means 0.02%; write 0.02% or 2bp)`);
  }
  return rate;
}

/**
 * Fee overrides: `maker=0.0002,taker=0.0005` (fractions of notional; `0.02%` and `2bp` are also accepted).
 * A key left out keeps its value from `defaults`; without defaults both are required. A negative maker rate is
 * a rebate; a negative taker rate is refused.
 */
export function parseFees(text: string, defaults?: FeeRates): ProportionalFees {
  let maker = defaults?.maker;
  let taker = defaults?.taker;
  const seen = new Set<string>();
  for (const part of text.split(',')) {
    const kv = /^\s*([A-Za-z]+)\s*=\s*(.*)$/.exec(part);
    if (!kv) throw new Error(`fees "${text}": "${part.trim()}" is not name=rate (write maker=0.0002,taker=0.0005)`);
    const key = kv[1]!;
    if (key !== 'maker' && key !== 'taker') throw new Error(`fees "${text}": unknown name "${key}" (use maker and taker)`);
    if (seen.has(key)) throw new Error(`fees "${text}": ${key} given twice`);
    seen.add(key);
    const rate = parseRate(key, kv[2]!, text);
    if (key === 'maker') maker = rate;
    else taker = rate;
  }
  if (maker === undefined || taker === undefined) throw new Error(`fees "${text}": give both maker and taker, e.g. maker=0.0002,taker=0.0005`);
  if (taker < 0) throw new Error(`fees "${text}": a negative taker rate is not supported (only makers get rebates)`);
  return new ProportionalFees(maker, taker);
}
